//! The agent proper: sets up QPs and memory on a transport, announces them to the switch with
//! authenticated registration frames, resets QPs on authenticated refresh frames, and (with
//! the soft backend) serves RoCEv2 on the same port (a reframer-io AF_PACKET port: pooled
//! frames, batched RX/TX, epoll when idle).

use rand::Rng;
use reframer_io::portset::{PortSet, JUMBO_FRAME_BYTES};
use reframer_io::{PortKind, PortSpec, SetCounters};
use ribosome_rnic::{MemoryInfo, RdmaTransport, TransportError};
use ribosome_wire::control::{
    write_control, Auth, AuthError, AuthKey, ControlMsg, ParsedControl, SeqSource, Verifier,
    ETHERTYPE_QP_REFRESH,
};
use ribosome_wire::{MacAddr, WireError};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why the agent could not set up or serve.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The transport refused the payload memory.
    #[error("registering payload memory: {0}")]
    Memory(TransportError),
    /// The transport refused a QP.
    #[error("creating QP {local}: {err}")]
    Qp {
        /// Local QP number (0-based).
        local: u16,
        /// Why.
        err: TransportError,
    },
    /// Server index and QP count put a QP's global index beyond 16 bits.
    #[error("global QP index {0} exceeds 16 bits")]
    GlobalIndex(u32),
    /// The interface could not be opened or used.
    #[error("{iface}: {err}")]
    Port {
        /// The interface.
        iface: String,
        /// What the OS said.
        err: std::io::Error,
    },
}

/// Why a refresh frame was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Not a well-formed control frame.
    #[error("malformed refresh frame: {0}")]
    Malformed(WireError),
    /// Addressed to another MAC.
    #[error("refresh for another MAC {0}")]
    OtherMac(MacAddr),
    /// Signed for another server.
    #[error("refresh for server {0}")]
    OtherServer(u16),
    /// Refused by the verifier (key, replay, unauthenticated).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A control message that is not a refresh.
    #[error("not a refresh message")]
    NotRefresh,
    /// A QP of another server.
    #[error("global QP index {0} is not ours")]
    NotOurs(u16),
    /// The transport could not reset the QP.
    #[error("resetting QP {qpn:#x}: {err}")]
    Reset {
        /// The QP.
        qpn: u32,
        /// Why.
        err: TransportError,
    },
}

/// Everything the agent announces and checks.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Server index.
    pub server_index: u16,
    /// QPs on this server.
    pub qps: u16,
    /// Bytes of payload memory.
    pub memory: u64,
    /// Enable-timer range (inclusive).
    pub enable_timer: (u16, u16),
    /// Our MAC (ETH info) and the source of our frames.
    pub mac: MacAddr,
    /// Our IPv4 (ETH info).
    pub ip: Ipv4Addr,
    /// Destination MAC of registration frames.
    pub info_dst_mac: MacAddr,
    /// Shared control key; `None` is the original unauthenticated mode.
    pub key: Option<AuthKey>,
}

/// What the agent did, for the shutdown summary and tests.
#[derive(Debug, Default, Clone)]
pub struct AgentStats {
    /// Registration frames sent.
    pub announced: u64,
    /// Refresh frames accepted (QP reset and re-announced).
    pub refreshes: u64,
    /// Refresh frames refused (bad MAC, replay, unauthenticated, other server, bad index).
    pub refresh_rejected: u64,
    /// The port's counters (every frame that did not leave is in a drop field).
    pub port: SetCounters,
}

/// A running agent.
pub struct Agent {
    cfg: AgentConfig,
    transport: Box<dyn RdmaTransport>,
    /// (global index, local QPN) per local QP.
    qps: Vec<(u16, u32)>,
    mem: MemoryInfo,
    seq: SeqSource,
    refresh_verifier: Verifier,
    stats: AgentStats,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("backend", &self.transport.backend())
            .field("qps", &self.qps)
            .field("mem", &self.mem)
            .finish()
    }
}

impl Agent {
    /// Registers memory and creates `cfg.qps` QPs connected to their switch-side indices.
    pub fn setup(
        cfg: AgentConfig,
        mut transport: Box<dyn RdmaTransport>,
    ) -> Result<Self, AgentError> {
        let mem = transport
            .register_memory(cfg.memory)
            .map_err(AgentError::Memory)?;
        let mut qps = Vec::with_capacity(usize::from(cfg.qps));
        for local in 0..cfg.qps {
            let global = u32::from(local) + u32::from(cfg.qps) * u32::from(cfg.server_index);
            let global16 = u16::try_from(global).map_err(|_| AgentError::GlobalIndex(global))?;
            let qpn = transport
                .create_qp(global)
                .map_err(|err| AgentError::Qp { local, err })?;
            qps.push((global16, qpn));
        }
        let refresh_verifier = Verifier::new(cfg.key.clone());
        Ok(Self {
            cfg,
            transport,
            qps,
            mem,
            seq: SeqSource::from_clock(),
            refresh_verifier,
            stats: AgentStats::default(),
        })
    }

    /// (global index, QPN) of each QP.
    pub fn qps(&self) -> &[(u16, u32)] {
        &self.qps
    }

    /// The registered memory.
    pub fn memory(&self) -> MemoryInfo {
        self.mem
    }

    /// Counters.
    pub fn stats(&self) -> &AgentStats {
        &self.stats
    }

    fn frame(&mut self, msg: &ControlMsg) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        let auth = Auth {
            server_index: self.cfg.server_index,
            seq: self.seq.next_seq(),
        };
        let auth = self.cfg.key.as_ref().map(|k| (k, auth));
        write_control(self.cfg.info_dst_mac, self.cfg.mac, msg, auth, &mut out);
        self.stats.announced += 1;
        out
    }

    fn qp_info(&mut self, local: usize) -> Option<Vec<u8>> {
        let (global_index, qpn) = *self.qps.get(local)?;
        let (lo, hi) = self.cfg.enable_timer;
        let msg = ControlMsg::QpInfo {
            enable_timer: rand::thread_rng().gen_range(lo..=hi),
            global_index,
            qpn,
        };
        Some(self.frame(&msg))
    }

    /// QP info for every QP, then MEM info, then ETH info, in the original's order.
    pub fn announcements(&mut self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (0..self.qps.len())
            .filter_map(|i| self.qp_info(i))
            .collect();
        let mem = ControlMsg::MemInfo {
            server_index: self.cfg.server_index,
            va: self.mem.va,
            rkey: self.mem.rkey,
        };
        out.push(self.frame(&mem));
        let eth = ControlMsg::EthInfo {
            server_index: self.cfg.server_index,
            mac: self.cfg.mac,
            ip: self.cfg.ip,
        };
        out.push(self.frame(&eth));
        out
    }

    /// Handles one received frame, sending replies through `tx`.
    pub fn on_frame(&mut self, frame: &[u8], tx: &mut dyn FnMut(&[u8])) {
        let is_refresh = frame.get(12..14) == Some(&ETHERTYPE_QP_REFRESH.to_be_bytes()[..]);
        if !is_refresh {
            self.transport.on_frame(frame, tx);
            return;
        }
        match self.refresh(frame) {
            Ok(reply) => {
                self.stats.refreshes += 1;
                tx(&reply);
            }
            Err(e) => {
                self.stats.refresh_rejected += 1;
                eprintln!("ribosome-agent: refresh rejected: {e}");
            }
        }
    }

    fn refresh(&mut self, frame: &[u8]) -> Result<Vec<u8>, RefreshError> {
        let parsed = ParsedControl::parse(frame).map_err(RefreshError::Malformed)?;
        if parsed.eth.dst != self.cfg.mac && parsed.eth.dst != MacAddr([0xff; 6]) {
            return Err(RefreshError::OtherMac(parsed.eth.dst));
        }
        if let Some((auth, _)) = parsed.auth {
            if self.cfg.key.is_some() && auth.server_index != self.cfg.server_index {
                return Err(RefreshError::OtherServer(auth.server_index));
            }
        }
        let msg = self.refresh_verifier.check(&parsed)?;
        let ControlMsg::QpRefresh { global_index } = msg else {
            return Err(RefreshError::NotRefresh);
        };
        let local = self
            .qps
            .iter()
            .position(|(g, _)| *g == global_index)
            .ok_or(RefreshError::NotOurs(global_index))?;
        let qpn = self.qps[local].1;
        self.transport
            .reset_qp(qpn)
            .map_err(|err| RefreshError::Reset { qpn, err })?;
        eprintln!("ribosome-agent: QP {qpn:#x} (global {global_index}) reset on refresh");
        // `local` indexes `qps`, so there is a QP info to send.
        Ok(self.qp_info(local).unwrap_or_default())
    }

    /// Serves on `iface` (AF_PACKET) until `stop`: announces, then handles frames. Returns
    /// the counters.
    pub fn run(&mut self, iface: &str, stop: &AtomicBool) -> Result<AgentStats, AgentError> {
        let port_err = |err| AgentError::Port {
            iface: iface.to_owned(),
            err,
        };
        let spec = PortSpec {
            kind: PortKind::AfPacket,
            name: iface.to_owned(),
        };
        let mut set = PortSet::open(&[spec], JUMBO_FRAME_BYTES).map_err(port_err)?;
        for f in self.announcements() {
            set.send(0, &f);
        }
        set.flush().map_err(port_err)?;
        eprintln!(
            "ribosome-agent: ready: backend {} iface {iface} server {} qps {} mem va {:#x} rkey {:#x} len {}",
            self.transport.backend(),
            self.cfg.server_index,
            self.qps.len(),
            self.mem.va,
            self.mem.rkey,
            self.mem.len
        );
        while !stop.load(Ordering::Relaxed) {
            let got = set
                .poll_rx(64, |_, frame, tx| {
                    self.on_frame(frame, &mut |reply| {
                        tx.send(0, reply);
                    })
                })
                .map_err(port_err)?;
            set.flush().map_err(port_err)?;
            if got == 0 {
                set.wait(None, Duration::from_millis(50))
                    .map_err(port_err)?;
            }
        }
        set.drain(Duration::from_millis(100)).map_err(port_err)?;
        self.stats.port = set.counters(0).unwrap_or_default();
        Ok(self.stats.clone())
    }
}
