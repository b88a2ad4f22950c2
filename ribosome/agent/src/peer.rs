//! A switch-side stand-in for end-to-end checks of an agent over the wire (used by the netns
//! test and by hand): it verifies registration frames like the switch's data plane would
//! (with the shared key), sends forged and genuine refresh frames, and parks and fetches a
//! payload with RoCEv2 WRITE and READ as the switch does.

use reframer_io::portset::{PortSet, JUMBO_FRAME_BYTES};
use reframer_io::{PortKind, PortSpec};
use ribosome_wire::control::{
    write_control, Auth, AuthKey, ControlMsg, ParsedControl, SeqSource, Verifier,
    ETHERTYPE_RDMA_INFO, INFO_DST_MAC,
};
use ribosome_wire::split::check_fetch;
use ribosome_wire::{
    AethKind, Bth, MacAddr, NakCode, Opcode, PayloadTag, Reth, RoceFrame, RoceSpec, SplitTrailer,
    WireError,
};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Why the stand-in could not run its scenario.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The interface could not be opened or used.
    #[error("{iface}: {err}")]
    Port {
        /// The interface.
        iface: String,
        /// What the OS said.
        err: std::io::Error,
    },
    /// A frame could not be queued (counted by the port set; the message says which).
    #[error("{0}: frame not sent")]
    NotSent(String),
    /// The agent did not register every QP, its memory and its address in time.
    #[error("registration incomplete before the timeout")]
    RegistrationIncomplete,
    /// A frame could not be built.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The agent answered against the protocol (the message says how).
    #[error("{0}")]
    Protocol(String),
}

/// `Result` of the peer.
pub type Result<T, E = PeerError> = std::result::Result<T, E>;

/// One AF_PACKET port on `iface`.
struct Link {
    iface: String,
    set: PortSet,
}

impl Link {
    fn open(iface: &str) -> Result<Self> {
        let spec = PortSpec {
            kind: PortKind::AfPacket,
            name: iface.to_owned(),
        };
        let set = PortSet::open(&[spec], JUMBO_FRAME_BYTES).map_err(|err| PeerError::Port {
            iface: iface.to_owned(),
            err,
        })?;
        Ok(Self {
            iface: iface.to_owned(),
            set,
        })
    }

    fn io(&self, err: std::io::Error) -> PeerError {
        PeerError::Port {
            iface: self.iface.clone(),
            err,
        }
    }

    /// Sends one frame now.
    fn send(&mut self, f: &[u8]) -> Result<()> {
        if !self.set.send(0, f) {
            return Err(PeerError::NotSent(self.iface.clone()));
        }
        self.set.flush().map_err(|e| self.io(e))
    }

    /// Receives until `f` returns `Some` or `deadline` passes.
    fn recv_until<T>(
        &mut self,
        deadline: Instant,
        mut f: impl FnMut(&[u8]) -> Option<T>,
    ) -> Result<Option<T>> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.set
            .recv_until(left, |_, fr| f(fr))
            .map_err(|e| self.io(e))
    }

    /// Flushes what is queued (at most `limit`) before the port closes.
    fn close(mut self, limit: Duration) -> Result<()> {
        self.set.drain(limit).map_err(|e| self.io(e))
    }
}

/// What the stand-in switch needs to know.
#[derive(Debug, Clone)]
pub struct SwitchArgs {
    /// Interface towards the agent.
    pub iface: String,
    /// Shared control key.
    pub key: Option<AuthKey>,
    /// The agent's server index.
    pub server_index: u16,
    /// The agent's QP count.
    pub qps: u16,
    /// How long to wait for the full registration.
    pub timeout: Duration,
    /// Our (fake client) MAC.
    pub switch_mac: MacAddr,
    /// Our (fake client) IPv4.
    pub switch_ip: Ipv4Addr,
}

/// Outcome of the scenario, printed as `key=value` lines.
#[derive(Debug, Default)]
pub struct Report {
    /// QP info frames accepted, by global index.
    pub qps: BTreeMap<u16, u32>,
    /// MEM info accepted: (va, rkey).
    pub mem: Option<(u64, u32)>,
    /// ETH info accepted: (mac, ip).
    pub eth: Option<(MacAddr, Ipv4Addr)>,
    /// Registration frames refused by the verifier.
    pub rejected_registrations: u32,
    /// No QP info followed a refresh signed with the wrong key.
    pub forged_refresh_ignored: bool,
    /// A QP info followed the genuine refresh.
    pub refresh_renewed: bool,
    /// The WRITE got a positive ACK.
    pub write_acked: bool,
    /// The READ returned the written bytes, and the tag matched the trailer's generation.
    pub read_matches: bool,
    /// Response packets of the multi-MTU READ.
    pub read_segments: u32,
    /// A PSN gap was answered with a sequence-error NAK.
    pub gap_nak: bool,
}

impl Report {
    /// True when every check passed.
    pub fn all_ok(&self, qps: u16) -> bool {
        self.qps.len() == usize::from(qps)
            && self.mem.is_some()
            && self.eth.is_some()
            && self.forged_refresh_ignored
            && self.refresh_renewed
            && self.write_acked
            && self.read_matches
            && self.read_segments > 1
            && self.gap_nak
    }

    /// `key=value` lines.
    pub fn lines(&self) -> String {
        format!(
            "registered_qps={}\nmem_registered={}\neth_registered={}\nrejected_registrations={}\n\
             forged_refresh_ignored={}\nrefresh_renewed={}\nwrite_acked={}\nread_matches={}\n\
             read_segments={}\ngap_nak={}\n",
            self.qps.len(),
            self.mem.is_some(),
            self.eth.is_some(),
            self.rejected_registrations,
            self.forged_refresh_ignored,
            self.refresh_renewed,
            self.write_acked,
            self.read_matches,
            self.read_segments,
            self.gap_nak
        )
    }
}

/// Handles one registration frame; returns the accepted message, if any.
fn registration(frame: &[u8], verifier: &mut Verifier, report: &mut Report) -> Option<ControlMsg> {
    if frame.get(12..14) != Some(&ETHERTYPE_RDMA_INFO.to_be_bytes()[..]) {
        return None;
    }
    let Ok(parsed) = ParsedControl::parse(frame) else {
        report.rejected_registrations += 1;
        return None;
    };
    match verifier.check(&parsed) {
        Ok(msg) => {
            match msg {
                ControlMsg::QpInfo {
                    global_index, qpn, ..
                } => {
                    report.qps.insert(global_index, qpn);
                }
                ControlMsg::MemInfo { va, rkey, .. } => report.mem = Some((va, rkey)),
                ControlMsg::EthInfo { mac, ip, .. } => report.eth = Some((mac, ip)),
                ControlMsg::QpRefresh { .. } => {}
            }
            Some(msg)
        }
        Err(e) => {
            eprintln!("ribosome-peer: registration rejected: {e}");
            report.rejected_registrations += 1;
            None
        }
    }
}

/// Runs the whole scenario against one agent.
pub fn run_switch(a: &SwitchArgs, ready: impl FnOnce()) -> Result<Report> {
    let mut sock = Link::open(&a.iface)?;
    ready();
    let mut report = Report::default();
    let mut verifier = Verifier::new(a.key.clone());
    let deadline = Instant::now() + a.timeout;
    sock.recv_until(deadline, |f| {
        registration(f, &mut verifier, &mut report);
        let done =
            report.qps.len() == usize::from(a.qps) && report.mem.is_some() && report.eth.is_some();
        done.then_some(())
    })?
    .ok_or(PeerError::RegistrationIncomplete)?;
    let (Some((server_mac, server_ip)), Some((va, rkey)), Some((&g0, _))) =
        (report.eth, report.mem, report.qps.iter().next())
    else {
        return Err(PeerError::RegistrationIncomplete);
    };

    // A refresh signed with the wrong key must not reset anything.
    let mut seq = SeqSource::from_clock();
    let refresh = ControlMsg::QpRefresh { global_index: g0 };
    let auth = Auth {
        server_index: a.server_index,
        seq: seq.next_seq(),
    };
    let forged_key = AuthKey::new([0x66; 32]);
    let mut f = Vec::new();
    write_control(
        server_mac,
        a.switch_mac,
        &refresh,
        Some((&forged_key, auth)),
        &mut f,
    );
    sock.send(&f)?;
    let renewed = |report: &mut Report, verifier: &mut Verifier, f: &[u8]| matches!(registration(f, verifier, report), Some(ControlMsg::QpInfo { global_index, .. }) if global_index == g0);
    let after_forged = sock.recv_until(Instant::now() + Duration::from_millis(500), |f| {
        renewed(&mut report, &mut verifier, f).then_some(())
    })?;
    report.forged_refresh_ignored = after_forged.is_none();

    // The genuine one resets the QP (PSN 0 again) and re-announces it.
    f.clear();
    let auth = Auth {
        server_index: a.server_index,
        seq: seq.next_seq(),
    };
    write_control(
        server_mac,
        a.switch_mac,
        &refresh,
        a.key.as_ref().map(|k| (k, auth)),
        &mut f,
    );
    sock.send(&f)?;
    report.refresh_renewed = sock
        .recv_until(Instant::now() + Duration::from_secs(3), |f| {
            renewed(&mut report, &mut verifier, f).then_some(())
        })?
        .is_some();
    let qpn = *report
        .qps
        .get(&g0)
        .ok_or_else(|| PeerError::Protocol(format!("QP {g0} vanished")))?;

    let spec = |op: Opcode, psn: u32, reth: Option<Reth>| RoceSpec {
        src_mac: a.switch_mac,
        dst_mac: server_mac,
        src_ip: a.switch_ip,
        dst_ip: server_ip,
        ip_ident: psn as u16,
        tos: 0,
        ttl: 64,
        udp_src_port: 0,
        bth: Bth::new(op, qpn, psn, true),
        reth,
        aeth: None,
    };
    let replies = |op_ok: fn(Opcode) -> bool| {
        move |f: &[u8]| {
            let r = RoceFrame::parse(f).ok()?;
            (r.bth.dest_qp == u32::from(g0) && op_ok(r.bth.opcode)).then(|| {
                (
                    r.bth.opcode,
                    r.bth.psn,
                    r.aeth.map(|x| x.kind()),
                    r.payload.to_vec(),
                )
            })
        }
    };
    let wait = Instant::now() + Duration::from_secs(2);

    // Park: versioned tag (slot 5, generation 77), no pad, then the payload, as the switch
    // writes it.
    let tag = PayloadTag {
        pad_count: 0,
        header_slot: 5,
        generation: Some(77),
    };
    let mut parked = Vec::new();
    tag.write_to(&mut parked)?;
    parked.extend((0..3000u32).map(|i| (i * 31 + 7) as u8));
    let reth = Reth {
        va: va + 4096,
        rkey,
        dma_len: parked.len() as u32,
    };
    sock.send(&spec(Opcode::WRITE_ONLY, 0, Some(reth)).to_bytes(&parked, true)?)?;
    let ack = sock.recv_until(wait, replies(|o| o == Opcode::ACK))?;
    report.write_acked = matches!(ack, Some((_, 0, Some(AethKind::Ack { .. }), _)));

    // Fetch it back and check the tag against the trailer the header would carry.
    let reth = Reth {
        va: va + 4096,
        rkey,
        dma_len: parked.len() as u32,
    };
    sock.send(&spec(Opcode::READ_REQUEST, 1, Some(reth)).to_bytes(&[], true)?)?;
    let resp = sock.recv_until(wait, replies(|o| o == Opcode::READ_RESPONSE_ONLY))?;
    if let Some((_, 1, _, data)) = resp {
        let trailer = SplitTrailer {
            remote_va: va + 4096,
            length: parked.len() as u16,
            qp_index: g0,
            server_index: a.server_index,
            pad_count: 0,
            header_slot: 5,
            generation: Some(77),
        };
        let tag_ok = PayloadTag::parse(&data)
            .ok()
            .is_some_and(|(t, _)| check_fetch(&trailer, &t).is_ok());
        report.read_matches = data == parked && tag_ok;
    }

    // A READ larger than the path MTU comes back segmented.
    let big = 10_000u32;
    let reth = Reth {
        va,
        rkey,
        dma_len: big,
    };
    sock.send(&spec(Opcode::READ_REQUEST, 2, Some(reth)).to_bytes(&[], true)?)?;
    let mut got = 0usize;
    let mut next_psn = 2u32;
    let is_resp = |o: Opcode| (0x0d..=0x10).contains(&o.0);
    while let Some((op, psn, _, data)) = sock.recv_until(wait, replies(is_resp))? {
        if psn != next_psn {
            return Err(PeerError::Protocol(format!(
                "READ response PSN {psn}, expected {next_psn}"
            )));
        }
        next_psn += 1;
        got += data.len();
        report.read_segments += 1;
        if op == Opcode::READ_RESPONSE_LAST || op == Opcode::READ_RESPONSE_ONLY {
            break;
        }
    }
    if got != big as usize {
        return Err(PeerError::Protocol(format!(
            "segmented READ returned {got} bytes, expected {big}"
        )));
    }

    // Skip a PSN: the agent must answer with a sequence-error NAK naming the expected PSN.
    let reth = Reth {
        va,
        rkey,
        dma_len: 4,
    };
    sock.send(&spec(Opcode::WRITE_ONLY, next_psn + 1, Some(reth)).to_bytes(b"skip", true)?)?;
    let nak = sock.recv_until(wait, replies(|o| o == Opcode::ACK))?;
    report.gap_nak = matches!(nak, Some((_, p, Some(AethKind::Nak(NakCode::PsnSequenceError)), _)) if p == next_psn);
    sock.close(Duration::from_millis(100))?;
    Ok(report)
}

/// Which forged frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgeKind {
    /// QP info pointing the switch at another QPN.
    QpInfo,
    /// MEM info with an attacker's rkey and VA.
    MemInfo,
    /// Unauthenticated (legacy) QP info.
    Unsigned,
}

/// Sends one registration frame the switch must refuse: signed with a wrong key, or not
/// signed at all.
pub fn forge(iface: &str, kind: ForgeKind, server_index: u16, global_index: u16) -> Result<()> {
    let mut sock = Link::open(iface)?;
    let mac = ribosome_rnic::interface_mac(iface).map_err(|e| sock.io(e))?;
    let wrong = AuthKey::new([0x66; 32]);
    let auth = Auth {
        server_index,
        seq: u64::MAX / 2,
    };
    let mut f = Vec::new();
    let qp = ControlMsg::QpInfo {
        enable_timer: 1,
        global_index,
        qpn: 0xdead,
    };
    match kind {
        ForgeKind::QpInfo => write_control(INFO_DST_MAC, mac, &qp, Some((&wrong, auth)), &mut f),
        ForgeKind::MemInfo => {
            let m = ControlMsg::MemInfo {
                server_index,
                va: 0x4141_0000,
                rkey: 0x4141,
            };
            write_control(INFO_DST_MAC, mac, &m, Some((&wrong, auth)), &mut f)
        }
        ForgeKind::Unsigned => write_control(INFO_DST_MAC, mac, &qp, None, &mut f),
    }
    sock.send(&f)?;
    sock.close(Duration::from_millis(100))
}
