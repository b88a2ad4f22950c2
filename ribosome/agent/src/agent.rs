//! The agent proper: sets up QPs and memory on a transport, announces them to the switch with
//! authenticated registration frames, resets QPs on authenticated refresh frames, and (with
//! the soft backend) serves RoCEv2 on the same socket.

use anyhow::{Context, Result};
use rand::Rng;
use ribosome_rnic::sys::RawSocket;
use ribosome_rnic::{MemoryInfo, RdmaTransport};
use ribosome_wire::control::{
    write_control, Auth, AuthKey, ControlMsg, ParsedControl, SeqSource, Verifier,
    ETHERTYPE_QP_REFRESH,
};
use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
    pub fn setup(cfg: AgentConfig, mut transport: Box<dyn RdmaTransport>) -> Result<Self> {
        let mem = transport
            .register_memory(cfg.memory)
            .context("registering payload memory")?;
        let mut qps = Vec::with_capacity(usize::from(cfg.qps));
        for local in 0..cfg.qps {
            let global = u32::from(local) + u32::from(cfg.qps) * u32::from(cfg.server_index);
            let global16 = u16::try_from(global).context("global QP index exceeds 16 bits")?;
            let qpn = transport
                .create_qp(global)
                .with_context(|| format!("creating QP {local}"))?;
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
                eprintln!("ribosome-agent: refresh rejected: {e:#}");
            }
        }
    }

    fn refresh(&mut self, frame: &[u8]) -> Result<Vec<u8>> {
        let parsed = ParsedControl::parse(frame).context("malformed refresh frame")?;
        if parsed.eth.dst != self.cfg.mac && parsed.eth.dst != MacAddr([0xff; 6]) {
            anyhow::bail!("refresh for another MAC {}", parsed.eth.dst);
        }
        if let Some((auth, _)) = parsed.auth {
            if self.cfg.key.is_some() && auth.server_index != self.cfg.server_index {
                anyhow::bail!("refresh for server {}", auth.server_index);
            }
        }
        let msg = self.refresh_verifier.check(&parsed)?;
        let ControlMsg::QpRefresh { global_index } = msg else {
            anyhow::bail!("not a refresh message");
        };
        let local = self
            .qps
            .iter()
            .position(|(g, _)| *g == global_index)
            .with_context(|| format!("global QP index {global_index} is not ours"))?;
        let qpn = self.qps[local].1;
        self.transport
            .reset_qp(qpn)
            .with_context(|| format!("resetting QP {qpn:#x}"))?;
        eprintln!("ribosome-agent: QP {qpn:#x} (global {global_index}) reset on refresh");
        self.qp_info(local).context("re-announcing")
    }

    /// Serves on `iface` until `stop`: announces, then handles frames. Returns the counters.
    pub fn run(&mut self, iface: &str, stop: &AtomicBool) -> Result<AgentStats> {
        let sock = RawSocket::open(iface).with_context(|| format!("raw socket on {iface}"))?;
        sock.set_read_timeout(Duration::from_millis(100))?;
        for f in self.announcements() {
            sock.send(&f).context("sending registration")?;
        }
        eprintln!(
            "ribosome-agent: ready: backend {} iface {iface} server {} qps {} mem va {:#x} rkey {:#x} len {}",
            self.transport.backend(),
            self.cfg.server_index,
            self.qps.len(),
            self.mem.va,
            self.mem.rkey,
            self.mem.len
        );
        let mut buf = vec![0u8; 65536];
        let mut send_err = None;
        while !stop.load(Ordering::Relaxed) {
            let Some(n) = sock.recv(&mut buf)? else {
                continue;
            };
            let frame = buf.get(..n).unwrap_or_default();
            self.on_frame(frame, &mut |reply| {
                if let Err(e) = sock.send(reply) {
                    send_err = Some(e);
                }
            });
            if let Some(e) = send_err.take() {
                eprintln!("ribosome-agent: send failed: {e}");
            }
        }
        Ok(self.stats.clone())
    }
}
