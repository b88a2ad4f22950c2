//! The switch: registers, counters, and the ingress decision tree (Ribosome-P4
//! `Ingress.apply`): registration frames, RoCE from servers, returns from the NF, blacklist,
//! split or whole.

use crate::config::Result;
use crate::config::{PortId, SwitchConfig};
use crate::counters::{Counters, Losses, WholeReasons};
use crate::lpm::BlacklistAction;
use crate::order::FlowOrder;
use crate::packet::{self, Parsed};
use crate::selector::Selector;
use crate::state::{QpState, ServerState, Slot};
use ribosome_wire::control::{SeqSource, Verifier, ETHERTYPE_QP_REFRESH, ETHERTYPE_RDMA_INFO};

/// Frames the switch emits, (egress port, frame), in order; it derefs to that `Vec`. It also
/// keeps spare frame buffers: the switch takes its output buffers from here, and a caller that
/// has sent a frame hands its buffer back with [`Out::recycle`], so a long-running switch does
/// not allocate per packet.
#[derive(Debug, Default)]
pub struct Out {
    frames: Vec<(PortId, Vec<u8>)>,
    spare: Vec<Vec<u8>>,
}

/// Spare buffers [`Out`] keeps at most.
const SPARE_BUFFERS: usize = 8192;

impl Out {
    /// No frames, no spare buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for `capacity` bytes, recycled when one is spare.
    pub fn buffer(&mut self, capacity: usize) -> Vec<u8> {
        match self.spare.pop() {
            Some(mut b) => {
                b.reserve(capacity);
                b
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// A buffer holding a copy of `data`.
    pub(crate) fn copy_of(&mut self, data: &[u8]) -> Vec<u8> {
        match self.spare.pop() {
            Some(mut b) => {
                b.extend_from_slice(data);
                b
            }
            None => data.to_vec(),
        }
    }

    /// Gives back a buffer whose frame was sent.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Moves the emitted frames into `to` (appended, in order), keeping both vectors'
    /// capacity; send them, then [`Out::recycle`] each buffer.
    pub fn take_into(&mut self, to: &mut Vec<(PortId, Vec<u8>)>) {
        to.append(&mut self.frames);
    }
}

impl std::ops::Deref for Out {
    type Target = Vec<(PortId, Vec<u8>)>;

    fn deref(&self) -> &Self::Target {
        &self.frames
    }
}

impl<'a> IntoIterator for &'a Out {
    type Item = &'a (PortId, Vec<u8>);
    type IntoIter = std::slice::Iter<'a, (PortId, Vec<u8>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.frames.iter()
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.frames
    }
}

/// The pipeline model. Feed frames with [`Switch::process`] and time with [`Switch::tick`].
#[derive(Debug)]
pub struct Switch {
    pub(crate) cfg: SwitchConfig,
    pub(crate) servers: Vec<ServerState>,
    pub(crate) qps: Vec<QpState>,
    pub(crate) slots: Vec<Option<Slot>>,
    /// `hdr_index`: next header slot.
    pub(crate) next_slot: u16,
    /// Next split sequence number (the generation written into tag and trailer).
    pub(crate) next_generation: u32,
    pub(crate) selector: Selector,
    pub(crate) verifier: Verifier,
    pub(crate) refresh_seq: SeqSource,
    pub(crate) next_control_ns: Option<u64>,
    pub(crate) order: FlowOrder,
    /// The WRITE payload being assembled (kept to spare an allocation per split).
    pub(crate) scratch: Vec<u8>,
    pub(crate) counters: Counters,
    pub(crate) losses: Losses,
    pub(crate) whole: WholeReasons,
}

impl Switch {
    /// A switch with empty registers: every server must register before packets are split.
    pub fn new(cfg: SwitchConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            servers: vec![ServerState::default(); usize::from(cfg.servers)],
            qps: vec![QpState::default(); cfg.total_qps()],
            slots: vec![None; usize::from(cfg.header_slots)],
            next_slot: 0,
            next_generation: 1,
            selector: Selector::new(cfg.total_qps()),
            verifier: Verifier::new(cfg.key.clone()),
            refresh_seq: SeqSource::from_clock(),
            next_control_ns: None,
            order: FlowOrder::new(cfg.order_limit),
            scratch: Vec::new(),
            counters: Counters::default(),
            losses: Losses::default(),
            whole: WholeReasons::default(),
            cfg,
        })
    }

    /// Settings in force.
    pub fn config(&self) -> &SwitchConfig {
        &self.cfg
    }

    /// General counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Lost packets by reason.
    pub fn losses(&self) -> &Losses {
        &self.losses
    }

    /// Whole-to-NF packets by reason.
    pub fn whole_reasons(&self) -> &WholeReasons {
        &self.whole
    }

    /// `enabled_qp[idx]` (0 disabled, 1 usable, >1 countdown).
    pub fn qp_enabled(&self, idx: usize) -> Option<u16> {
        self.qps.get(idx).map(|q| q.enabled)
    }

    /// `seq_n[idx]`, the next PSN of QP `idx`.
    pub fn qp_psn(&self, idx: usize) -> Option<u32> {
        self.qps.get(idx).map(|q| q.psn)
    }

    /// Sets `seq_n[idx]` (tests: the 24-bit wrap without 16M packets).
    pub fn set_qp_psn(&mut self, idx: usize, psn: u32) {
        if let Some(q) = self.qps.get_mut(idx) {
            q.psn = psn & crate::consts::PSN_MASK;
        }
    }

    /// True if server `i` registered memory and address and is not taken out.
    pub fn server_ready(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| s.base_va.is_some() && s.addr.is_some() && !s.dead)
    }

    /// True if the liveness check took server `i` out.
    pub fn server_dead(&self, i: usize) -> bool {
        self.servers.get(i).is_some_and(|s| s.dead)
    }

    /// Selector members active now.
    pub fn active_members(&self) -> usize {
        self.selector.active_count()
    }

    /// Headers stored and waiting for their payload.
    pub fn headers_waiting(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// READs in flight on all QPs.
    pub fn reads_in_flight(&self) -> usize {
        self.qps.iter().map(|q| q.reads.len()).sum()
    }

    /// Current payload-log offset of server `i`.
    pub fn log_offset(&self, i: usize) -> Option<u64> {
        self.servers.get(i).map(|s| s.log_offset)
    }

    /// Handles one frame received on `port` at `now_ns`; emitted frames are appended to `out`.
    pub fn process(&mut self, port: PortId, frame: &[u8], now_ns: u64, out: &mut Out) {
        self.ingress(port, frame, now_ns, out);
        self.flush_ordered(out);
    }

    /// Frames the per-flow order released.
    pub(crate) fn flush_ordered(&mut self, out: &mut Out) {
        self.counters.order_overflow = self.order.overflow;
        out.append(&mut self.order.ready);
    }

    fn ingress(&mut self, port: PortId, frame: &[u8], now_ns: u64, out: &mut Out) {
        self.counters.rx_frames += 1;
        let ethertype = frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let from_edge = port == self.cfg.nf_port || self.cfg.client_ports.contains(&port);
        if matches!(ethertype, Some(ETHERTYPE_RDMA_INFO | ETHERTYPE_QP_REFRESH)) {
            if from_edge {
                self.counters.control_wrong_port += 1;
            } else {
                self.registration(port, frame);
            }
            return;
        }
        if port == self.cfg.nf_port {
            self.on_nf_frame(frame, now_ns, out);
            return;
        }
        let parsed = packet::parse(frame);
        if !self.cfg.client_ports.contains(&port) {
            // A server port: only RoCE from payload servers is expected here.
            match parsed {
                Parsed::L4(p) if p.flow.dport == ribosome_wire::udp::ROCE_V2_PORT => {
                    self.on_server_frame(port, frame, now_ns, out);
                }
                _ => self.counters.junk += 1,
            }
            return;
        }
        self.counters.rx_client += 1;
        let dst = match parsed {
            Parsed::NotIpv4 => None,
            Parsed::OtherIp(d) => Some(d),
            Parsed::L4(p) => Some(p.flow.dst),
        };
        if let Some(action) = dst.and_then(|d| self.cfg.blacklist.lookup(d)) {
            match action {
                BlacklistAction::Drop => self.counters.blacklist_drop += 1,
                BlacklistAction::Send(p) => {
                    self.counters.blacklist_send += 1;
                    let f = out.copy_of(frame);
                    out.push((p, f));
                }
            }
            return;
        }
        match parsed {
            Parsed::NotIpv4 => {
                self.whole.not_ipv4 += 1;
                self.send_whole_to_nf(frame, out);
            }
            Parsed::OtherIp(_) => {
                self.whole.not_tcp_udp += 1;
                self.send_whole_to_nf(frame, out);
            }
            Parsed::L4(p) => self.maybe_split(frame, p, now_ns, out),
        }
    }

    /// Sends a packet whole to the NF with the source MAC's last byte cleared (the original's
    /// "not split" mark).
    pub(crate) fn send_whole_to_nf(&mut self, frame: &[u8], out: &mut Out) {
        let mut f = out.copy_of(frame);
        if let Some(b) = f.get_mut(11) {
            *b = crate::consts::WHOLE_FLAG;
        }
        out.push((self.cfg.nf_port, f));
    }

    /// Output port for a flow hash: one port per flow keeps per-flow order.
    pub(crate) fn client_port(&self, hash: u16) -> PortId {
        let ports = &self.cfg.client_ports;
        ports[usize::from(hash) % ports.len()]
    }
}
