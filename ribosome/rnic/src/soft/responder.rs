//! The sans-IO responder: frames in through [`SoftRnic::handle_frame`], replies out through
//! [`SoftRnic::poll_transmit`]. READ responses are generated lazily, one segment per poll,
//! so the outstanding-READ cap means what it means on an RNIC: READs whose responses have
//! not all left yet.

use super::memory::{Access, MemoryRegion};
use super::psn::{psn_add, psn_cmp, PsnOrder, PSN_MASK};
use super::qp::{Peer, Qp, WriteCtx};
use crate::{MemoryInfo, RdmaTransport, TransportError};
use ribosome_wire::{Aeth, Bth, MacAddr, NakCode, Opcode, RoceFrame, RoceSpec};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// Responder configuration.
#[derive(Debug, Clone)]
pub struct SoftConfig {
    /// Our MAC: source of replies; frames to other unicast MACs are ignored.
    pub mac: MacAddr,
    /// Our IPv4: source of replies; packets to other addresses are ignored.
    pub ip: Ipv4Addr,
    /// Path MTU in bytes (256..=4096): WRITE First/Middle size and READ segment size.
    pub mtu: usize,
    /// Verify the ICRC of requests (the original's NICs had this off: the switch sends zeros).
    pub verify_icrc: bool,
    /// Responder resources for READ (max_dest_rd_atomic); the agent uses 16.
    pub max_outstanding_reads: u32,
    /// First QP number handed out.
    pub first_qpn: u32,
}

impl SoftConfig {
    /// Defaults matching the original agent: MTU 4096, 16 outstanding READs, ICRC checked.
    pub fn new(mac: MacAddr, ip: Ipv4Addr) -> Self {
        Self {
            mac,
            ip,
            mtu: 4096,
            verify_icrc: true,
            max_outstanding_reads: 16,
            first_qpn: 0x11,
        }
    }
}

/// What happened to frames, by cause. Every drop has a named counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames offered.
    pub rx_frames: u64,
    /// Not IPv4/UDP 4791 or malformed.
    pub not_roce: u64,
    /// RoCE, but to another MAC/IP, or bad P_Key/TVer.
    pub not_for_us: u64,
    /// ICRC mismatch (verification on): dropped silently as an RNIC does.
    pub icrc_bad: u64,
    /// Unknown destination QP.
    pub unknown_qp: u64,
    /// Dropped because the QP is in the error state (after a fatal NAK, until reset).
    pub qp_in_error: u64,
    /// Sequence-error NAKs sent.
    pub psn_gap_naks: u64,
    /// Out-of-order packets dropped silently after a sequence-error NAK.
    pub psn_gap_drops: u64,
    /// Duplicate WRITEs re-ACKed (not re-executed).
    pub dup_write_acks: u64,
    /// Duplicate READs re-executed.
    pub dup_reads: u64,
    /// Duplicate READs dropped (invalid, or no responder resources).
    pub dup_read_drops: u64,
    /// WRITE messages completed.
    pub writes: u64,
    /// READ requests accepted.
    pub reads: u64,
    /// Remote-access-error NAKs (rkey, access rights, bounds).
    pub naks_remote_access: u64,
    /// Invalid-request NAKs (opcode sequence, lengths, unsupported opcode).
    pub naks_invalid_request: u64,
    /// Invalid-request NAKs because the outstanding-READ cap was reached.
    pub naks_read_cap: u64,
    /// Reply frames produced.
    pub tx_frames: u64,
    /// Payload bytes written by WRITEs.
    pub bytes_written: u64,
    /// Payload bytes sent in READ responses.
    pub bytes_read: u64,
}

#[derive(Debug, Clone, Copy)]
enum Job {
    Ack {
        qp: usize,
        epoch: u32,
        psn: u32,
        aeth: Aeth,
        peer: Peer,
    },
    Read {
        qp: usize,
        epoch: u32,
        region: usize,
        offset: usize,
        len: usize,
        sent: usize,
        psn: u32,
        msn: u32,
        peer: Peer,
        /// Counted against the cap (new READs and re-executed duplicates both are).
        counted: bool,
    },
}

/// A user-space RC responder. See the crate docs for the behaviour it implements.
#[derive(Debug)]
pub struct SoftRnic {
    cfg: SoftConfig,
    regions: Vec<MemoryRegion>,
    qps: Vec<Qp>,
    tx: VecDeque<Job>,
    counters: Counters,
    ip_ident: u16,
    next_rkey: u32,
    /// Reused reply buffer for [`RdmaTransport::on_frame`].
    scratch: Vec<u8>,
}

impl SoftRnic {
    /// A responder with no memory and no QPs.
    pub fn new(cfg: SoftConfig) -> Self {
        let mtu = cfg.mtu.clamp(256, 4096);
        Self {
            cfg: SoftConfig { mtu, ..cfg },
            regions: Vec::new(),
            qps: Vec::new(),
            tx: VecDeque::new(),
            counters: Counters::default(),
            ip_ident: 0,
            next_rkey: rand::random::<u32>() | 1,
            scratch: Vec::with_capacity(4200),
        }
    }

    /// The configuration in force (MTU clamped to 256..=4096).
    pub fn config(&self) -> &SoftConfig {
        &self.cfg
    }

    /// Counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Registers a zeroed region of `len` bytes. VAs are synthetic, 4 KiB-aligned and
    /// non-overlapping; rkeys are random.
    pub fn register(&mut self, len: usize, access: Access) -> MemoryInfo {
        let va = self.regions.last().map_or(0x7f00_0000_0000, |r| {
            (r.va + r.data.len() as u64 + 0x1fff) & !0xfff
        });
        let rkey = self.next_rkey;
        self.next_rkey = self
            .next_rkey
            .wrapping_mul(0x9e37_79b9)
            .wrapping_add(0x7f4a_7c15)
            | 1;
        self.regions.push(MemoryRegion {
            data: vec![0; len],
            va,
            rkey,
            access,
        });
        MemoryInfo {
            va,
            rkey,
            len: len as u64,
        }
    }

    /// The region with `rkey`.
    pub fn region(&self, rkey: u32) -> Option<&MemoryRegion> {
        self.regions.iter().find(|r| r.rkey == rkey)
    }

    /// Creates a QP in RTS connected to `dest_qpn`; returns its number.
    pub fn add_qp(&mut self, dest_qpn: u32) -> u32 {
        let qpn = (self.cfg.first_qpn + self.qps.len() as u32) & PSN_MASK;
        self.qps.push(Qp::new(qpn, dest_qpn & PSN_MASK));
        qpn
    }

    /// Resets QP `qpn`; false if there is no such QP.
    pub fn reset(&mut self, qpn: u32) -> bool {
        match self.qp_index(qpn) {
            Some(i) => {
                self.qps[i].reset();
                true
            }
            None => false,
        }
    }

    /// The expected PSN of `qpn` (tests and diagnostics).
    pub fn expected_psn(&self, qpn: u32) -> Option<u32> {
        self.qp_index(qpn).map(|i| self.qps[i].epsn)
    }

    /// Sets the expected PSN of `qpn` (tests: exercise the 2^24 wrap without 16M packets).
    pub fn set_expected_psn(&mut self, qpn: u32, psn: u32) -> bool {
        match self.qp_index(qpn) {
            Some(i) => {
                self.qps[i].epsn = psn & PSN_MASK;
                true
            }
            None => false,
        }
    }

    /// True if `qpn` is in the error state.
    pub fn qp_in_error(&self, qpn: u32) -> Option<bool> {
        self.qp_index(qpn).map(|i| self.qps[i].error)
    }

    /// Replies waiting to be produced (ACK/NAK jobs and READ jobs, not segments).
    pub fn pending_jobs(&self) -> usize {
        self.tx.len()
    }

    fn qp_index(&self, qpn: u32) -> Option<usize> {
        let i = qpn.checked_sub(self.cfg.first_qpn)? as usize;
        (i < self.qps.len()).then_some(i)
    }

    /// Processes one received Ethernet frame. Replies are queued for
    /// [`SoftRnic::poll_transmit`].
    pub fn handle_frame(&mut self, frame: &[u8]) {
        self.counters.rx_frames += 1;
        let Ok(f) = RoceFrame::parse(frame) else {
            self.counters.not_roce += 1;
            return;
        };
        let to_us_mac = f.eth.dst == self.cfg.mac;
        if !to_us_mac || f.ip.dst != self.cfg.ip || f.bth.tver != 0 || f.bth.pkey & 0x7fff != 0x7fff
        {
            self.counters.not_for_us += 1;
            return;
        }
        if self.cfg.verify_icrc && !f.icrc_valid() {
            self.counters.icrc_bad += 1;
            return;
        }
        let Some(qi) = self.qp_index(f.bth.dest_qp) else {
            self.counters.unknown_qp += 1;
            return;
        };
        let peer = Peer {
            mac: f.eth.src,
            ip: f.ip.src,
        };
        if self.qps[qi].error {
            self.counters.qp_in_error += 1;
            return;
        }
        let epsn = self.qps[qi].epsn;
        match psn_cmp(f.bth.psn, epsn) {
            PsnOrder::Expected => {
                self.qps[qi].nak_pending = false;
                self.execute(qi, &f, peer);
            }
            PsnOrder::Ahead => {
                if self.qps[qi].nak_pending {
                    self.counters.psn_gap_drops += 1;
                } else {
                    self.qps[qi].nak_pending = true;
                    self.counters.psn_gap_naks += 1;
                    let msn = self.qps[qi].msn;
                    self.queue_ack(qi, epsn, Aeth::nak(NakCode::PsnSequenceError, msn), peer);
                }
            }
            PsnOrder::Duplicate => self.duplicate(qi, &f, peer),
        }
    }

    fn duplicate(&mut self, qi: usize, f: &RoceFrame<'_>, peer: Peer) {
        let op = f.bth.opcode;
        if matches!(
            op,
            Opcode::WRITE_FIRST | Opcode::WRITE_MIDDLE | Opcode::WRITE_LAST | Opcode::WRITE_ONLY
        ) {
            // Not re-executed: acknowledge everything up to the last PSN we executed.
            self.counters.dup_write_acks += 1;
            let qp = &self.qps[qi];
            let (psn, msn) = (psn_add(qp.epsn, PSN_MASK), qp.msn);
            self.queue_ack(qi, psn, Aeth::ack(msn), peer);
        } else if op == Opcode::READ_REQUEST {
            let Some(reth) = f.reth else { return };
            let found = self.check_access(reth.rkey, reth.va, reth.dma_len.into(), false);
            let qp = &self.qps[qi];
            match found {
                Ok((region, offset)) if qp.outstanding_reads < self.cfg.max_outstanding_reads => {
                    self.counters.dup_reads += 1;
                    let msn = qp.msn;
                    self.queue_read(
                        qi,
                        region,
                        offset,
                        reth.dma_len as usize,
                        f.bth.psn,
                        msn,
                        peer,
                    );
                }
                _ => self.counters.dup_read_drops += 1,
            }
        }
    }

    fn execute(&mut self, qi: usize, f: &RoceFrame<'_>, peer: Peer) {
        let op = f.bth.opcode;
        let psn = f.bth.psn;
        let mtu = self.cfg.mtu;
        let len = f.payload.len();
        let in_write = self.qps[qi].write.is_some();
        match op {
            Opcode::WRITE_ONLY | Opcode::WRITE_FIRST => {
                let Some(reth) = f.reth else { return };
                if in_write {
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                }
                let total = reth.dma_len as usize;
                let shape_ok = if op == Opcode::WRITE_ONLY {
                    len == total && len <= mtu
                } else {
                    len == mtu && total > mtu
                };
                if !shape_ok {
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                }
                let (region, offset) =
                    match self.check_access(reth.rkey, reth.va, total as u64, true) {
                        Ok(x) => x,
                        Err(code) => return self.fatal(qi, psn, code, peer),
                    };
                self.copy_in(region, offset, f.payload);
                if op == Opcode::WRITE_FIRST {
                    self.qps[qi].write = Some(WriteCtx {
                        region,
                        offset: offset + len,
                        remaining: total - len,
                    });
                    self.advance(qi, 1, false);
                } else {
                    self.counters.writes += 1;
                    self.advance(qi, 1, true);
                }
            }
            Opcode::WRITE_MIDDLE | Opcode::WRITE_LAST => {
                let Some(ctx) = self.qps[qi].write else {
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                };
                let shape_ok = if op == Opcode::WRITE_MIDDLE {
                    len == mtu && ctx.remaining > mtu
                } else {
                    len == ctx.remaining && len >= 1 && len <= mtu
                };
                if !shape_ok {
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                }
                self.copy_in(ctx.region, ctx.offset, f.payload);
                if op == Opcode::WRITE_MIDDLE {
                    self.qps[qi].write = Some(WriteCtx {
                        offset: ctx.offset + len,
                        remaining: ctx.remaining - len,
                        ..ctx
                    });
                    self.advance(qi, 1, false);
                } else {
                    self.qps[qi].write = None;
                    self.counters.writes += 1;
                    self.advance(qi, 1, true);
                }
            }
            Opcode::READ_REQUEST => {
                let Some(reth) = f.reth else { return };
                if in_write {
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                }
                let (region, offset) =
                    match self.check_access(reth.rkey, reth.va, reth.dma_len.into(), false) {
                        Ok(x) => x,
                        Err(code) => return self.fatal(qi, psn, code, peer),
                    };
                if self.qps[qi].outstanding_reads >= self.cfg.max_outstanding_reads {
                    self.counters.naks_read_cap += 1;
                    return self.fatal(qi, psn, NakCode::InvalidRequest, peer);
                }
                let segments = (reth.dma_len as usize).div_ceil(mtu).max(1) as u32;
                self.counters.reads += 1;
                self.advance(qi, segments, true);
                let msn = self.qps[qi].msn;
                self.queue_read(qi, region, offset, reth.dma_len as usize, psn, msn, peer);
                return;
            }
            _ => return self.fatal(qi, psn, NakCode::InvalidRequest, peer),
        }
        if f.bth.ack_req {
            let msn = self.qps[qi].msn;
            self.queue_ack(qi, psn, Aeth::ack(msn), peer);
        }
    }

    /// Moves the expected PSN on by `n`; completes a message if `complete`.
    fn advance(&mut self, qi: usize, n: u32, complete: bool) {
        let qp = &mut self.qps[qi];
        qp.epsn = psn_add(qp.epsn, n);
        if complete {
            qp.msn = (qp.msn + 1) & PSN_MASK;
        }
    }

    /// A NAK that moves the QP to the error state (remote access, invalid request).
    fn fatal(&mut self, qi: usize, psn: u32, code: NakCode, peer: Peer) {
        match code {
            NakCode::RemoteAccessError => self.counters.naks_remote_access += 1,
            _ => self.counters.naks_invalid_request += 1,
        }
        let msn = self.qps[qi].msn;
        self.queue_ack(qi, psn, Aeth::nak(code, msn), peer);
        self.qps[qi].error = true;
        self.qps[qi].write = None;
    }

    fn check_access(
        &self,
        rkey: u32,
        va: u64,
        len: u64,
        write: bool,
    ) -> Result<(usize, usize), NakCode> {
        let (idx, r) = self
            .regions
            .iter()
            .enumerate()
            .find(|(_, r)| r.rkey == rkey)
            .ok_or(NakCode::RemoteAccessError)?;
        let allowed = if write {
            r.access.remote_write
        } else {
            r.access.remote_read
        };
        if !allowed {
            return Err(NakCode::RemoteAccessError);
        }
        let off = r.offset_of(va, len).ok_or(NakCode::RemoteAccessError)?;
        Ok((idx, off))
    }

    fn copy_in(&mut self, region: usize, offset: usize, data: &[u8]) {
        if let Some(dst) = self
            .regions
            .get_mut(region)
            .and_then(|r| r.data.get_mut(offset..offset + data.len()))
        {
            dst.copy_from_slice(data);
            self.counters.bytes_written += data.len() as u64;
        }
    }

    fn queue_ack(&mut self, qp: usize, psn: u32, aeth: Aeth, peer: Peer) {
        let epoch = self.qps[qp].epoch;
        self.tx.push_back(Job::Ack {
            qp,
            epoch,
            psn,
            aeth,
            peer,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_read(
        &mut self,
        qp: usize,
        region: usize,
        offset: usize,
        len: usize,
        psn: u32,
        msn: u32,
        peer: Peer,
    ) {
        let q = &mut self.qps[qp];
        q.outstanding_reads += 1;
        self.tx.push_back(Job::Read {
            qp,
            epoch: q.epoch,
            region,
            offset,
            len,
            sent: 0,
            psn,
            msn,
            peer,
            counted: true,
        });
    }

    /// Builds the next reply frame into `out` (cleared first). Returns false when nothing is
    /// pending.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        while let Some(job) = self.tx.front_mut() {
            out.clear();
            match *job {
                Job::Ack {
                    qp,
                    epoch,
                    psn,
                    aeth,
                    peer,
                } => {
                    self.tx.pop_front();
                    let Some(q) = self.qps.get(qp).filter(|q| q.epoch == epoch) else {
                        continue;
                    };
                    let bth = Bth::new(Opcode::ACK, q.dest_qpn, psn, false);
                    self.ip_ident = self.ip_ident.wrapping_add(1);
                    let spec = Self::spec(&self.cfg, self.ip_ident, q.qpn, bth, Some(aeth), peer);
                    if spec.write_to(&[], true, out).is_ok() {
                        self.counters.tx_frames += 1;
                        return true;
                    }
                }
                Job::Read {
                    qp,
                    epoch,
                    region,
                    offset,
                    len,
                    ref mut sent,
                    psn,
                    msn,
                    peer,
                    counted,
                } => {
                    let live = self.qps.get(qp).is_some_and(|q| q.epoch == epoch);
                    if !live {
                        self.tx.pop_front();
                        continue;
                    }
                    let mtu = self.cfg.mtu;
                    let seg = (len - *sent).min(mtu);
                    let index = (*sent / mtu) as u32;
                    let first = *sent == 0;
                    let last = *sent + seg >= len;
                    let start = offset + *sent;
                    *sent += seg;
                    let opcode = match (first, last) {
                        (true, true) => Opcode::READ_RESPONSE_ONLY,
                        (true, false) => Opcode::READ_RESPONSE_FIRST,
                        (false, true) => Opcode::READ_RESPONSE_LAST,
                        (false, false) => Opcode::READ_RESPONSE_MIDDLE,
                    };
                    if last {
                        self.tx.pop_front();
                        if counted {
                            let q = &mut self.qps[qp];
                            q.outstanding_reads = q.outstanding_reads.saturating_sub(1);
                        }
                    }
                    self.ip_ident = self.ip_ident.wrapping_add(1);
                    let q = &self.qps[qp];
                    let mut bth = Bth::new(opcode, q.dest_qpn, psn_add(psn, index), false);
                    let data = self
                        .regions
                        .get(region)
                        .and_then(|r| r.data.get(start..start + seg))
                        .unwrap_or_default();
                    bth.pad_count = ((4 - data.len() % 4) % 4) as u8;
                    let aeth = opcode.has_aeth().then(|| Aeth::ack(msn));
                    let spec = Self::spec(&self.cfg, self.ip_ident, q.qpn, bth, aeth, peer);
                    if spec.write_to(data, true, out).is_ok() {
                        self.counters.tx_frames += 1;
                        self.counters.bytes_read += data.len() as u64;
                        return true;
                    }
                }
            }
        }
        false
    }

    fn spec(
        cfg: &SoftConfig,
        ident: u16,
        qpn: u32,
        bth: Bth,
        aeth: Option<Aeth>,
        peer: Peer,
    ) -> RoceSpec {
        RoceSpec {
            src_mac: cfg.mac,
            dst_mac: peer.mac,
            src_ip: cfg.ip,
            dst_ip: peer.ip,
            ip_ident: ident,
            tos: 0,
            ttl: 64,
            udp_src_port: 0xc000 | (qpn as u16 & 0x3fff),
            bth,
            reth: None,
            aeth,
        }
    }
}

impl RdmaTransport for SoftRnic {
    fn backend(&self) -> &'static str {
        "soft"
    }

    fn register_memory(&mut self, len: u64) -> Result<MemoryInfo, TransportError> {
        let len = usize::try_from(len).map_err(|_| TransportError::MemoryTooLarge(len))?;
        let access = Access {
            remote_read: true,
            remote_write: true,
        };
        Ok(self.register(len, access))
    }

    fn create_qp(&mut self, dest_qpn: u32) -> Result<u32, TransportError> {
        Ok(self.add_qp(dest_qpn))
    }

    fn reset_qp(&mut self, qpn: u32) -> Result<(), TransportError> {
        if self.reset(qpn) {
            Ok(())
        } else {
            Err(TransportError::NoSuchQp(qpn))
        }
    }

    fn on_frame(&mut self, frame: &[u8], tx: &mut dyn FnMut(&[u8])) {
        self.handle_frame(frame);
        let mut buf = std::mem::take(&mut self.scratch);
        while self.poll_transmit(&mut buf) {
            tx(&buf);
        }
        self.scratch = buf;
    }
}
