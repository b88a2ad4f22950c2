//! The whole split pipeline in one process on a virtual clock: a generator on client port 0,
//! the switch model, soft payload servers (the `ribosome-agent` logic over the
//! `ribosome-rnic` soft responder), and the NF host with the Reframer scheduler. Links have
//! fixed one-way latencies; faults are injected on the links and servers.

use crate::host::NfHost;
use crate::host::NfHostError;
use crate::rewrite::Nat;
use ribosome_agent::agent::AgentError;
use ribosome_agent::agent::{Agent, AgentConfig};
use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_switch::SwitchError;
use ribosome_switch::{Out, PortId, Switch, SwitchConfig};
use ribosome_wire::control::{AuthKey, INFO_DST_MAC};
use ribosome_wire::ib::Opcode;
use ribosome_wire::MacAddr;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;

/// Client (traffic in/out) port.
pub const CLIENT_PORT: PortId = 0;
/// NF host port.
pub const NF_PORT: PortId = 1;
/// Port of payload server `k` is `FIRST_SERVER_PORT + k`.
pub const FIRST_SERVER_PORT: PortId = 2;

/// Settings of an in-process run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The switch (its ports are set by the simulator).
    pub switch: SwitchConfig,
    /// Payload memory per server, bytes.
    pub server_memory: u64,
    /// Enable-timer range the agents announce.
    pub enable_timer: (u16, u16),
    /// Scheduler settings of the NF host.
    pub scheduler: reframer_core::Config,
    /// Optional NAT on the NF host.
    pub nat: Option<Nat>,
    /// One-way latency switch <-> payload server, ns.
    pub server_link_ns: u64,
    /// One-way latency switch <-> NF host, ns.
    pub nf_link_ns: u64,
    /// Gap between generated packets, ns.
    pub gap_ns: u64,
    /// How often the switch's timer runs, ns.
    pub tick_ns: u64,
    /// Back-pressure: before each packet, wait (in virtual time) while this many split
    /// packets are in flight (split, not yet rebuilt or counted lost). `None`: a fixed gap,
    /// whatever the pipeline can take. See [`Sim::read_credits`].
    pub max_in_flight: Option<u64>,
}

impl SimConfig {
    /// Two servers with 8 QPs each, 1 MiB of memory, split above 64 B, a 64 µs scheduler
    /// window, 2 µs server links, control period 200 µs, liveness 50 µs.
    pub fn small() -> Self {
        let mut sw = SwitchConfig::new(NF_PORT, vec![CLIENT_PORT]);
        sw.servers = 2;
        sw.qps_per_server = 8;
        sw.payload_log = 1 << 20;
        sw.key = Some(AuthKey::new([7; 32]));
        sw.control_period_ns = 200_000;
        sw.liveness_timeout_ns = 50_000;
        sw.overload = None;
        let scheduler = reframer_core::Config {
            delay_ns: 64_000,
            max_burst: 32,
            ..reframer_core::Config::default()
        };
        Self {
            switch: sw,
            server_memory: 1 << 20,
            enable_timer: (1, 1),
            scheduler,
            nat: None,
            server_link_ns: 2_000,
            nf_link_ns: 1_000,
            gap_ns: 100,
            tick_ns: 5_000,
            max_in_flight: None,
        }
    }
}

/// What the simulator's links and servers did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Frames dropped on purpose (fault injection) on switch->server links.
    pub injected_drops: u64,
    /// Frames sent to a killed server.
    pub to_dead_server: u64,
    /// Bytes on the switch->NF link.
    pub nf_bytes_in: u64,
    /// Bytes of the generated packets.
    pub generated_bytes: u64,
    /// Packets generated.
    pub generated: u64,
    /// WRITEs seen on switch->server links.
    pub writes_seen: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dest {
    Switch(PortId),
    Server(usize),
    Nf,
    Client,
}

/// (due time, insertion order, destination, frame): ordered by time, then FIFO.
type Event = (u64, u64, Dest, Vec<u8>);

/// The running pipeline.
#[derive(Debug)]
pub struct Sim {
    cfg: SimConfig,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<Event>>,
    /// The switch model.
    pub switch: Switch,
    servers: Vec<Option<Agent>>,
    /// The NF host.
    pub nf: NfHost,
    output: Vec<Vec<u8>>,
    next_tick: u64,
    drop_writes: Vec<u64>,
    stats: SimStats,
    scratch: Out,
}

fn server_mac(k: usize) -> MacAddr {
    MacAddr([0x02, 0x52, 0, 0, 0, k as u8 + 1])
}

fn server_ip(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 40, k as u8 + 1)
}

/// Why the in-process pipeline could not be built or failed its checks.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The switch refused its settings.
    #[error(transparent)]
    Switch(#[from] SwitchError),
    /// The NF host refused its settings.
    #[error(transparent)]
    Host(#[from] NfHostError),
    /// A payload server could not be set up.
    #[error("payload server setup: {0}")]
    Server(#[from] AgentError),
    /// No payload server with this index.
    #[error("no payload server {0}")]
    NoServer(usize),
    /// A run lost or corrupted packets where none may be (the message says what).
    #[error("{0}")]
    Check(String),
}

/// `Result` of the in-process pipeline.
pub type Result<T, E = SimError> = std::result::Result<T, E>;

impl Sim {
    /// Builds the pipeline and lets every server register.
    pub fn new(mut cfg: SimConfig) -> Result<Self> {
        cfg.switch.nf_port = NF_PORT;
        cfg.switch.client_ports = vec![CLIENT_PORT];
        let switch = Switch::new(cfg.switch.clone())?;
        let nf = NfHost::new(cfg.scheduler.clone(), cfg.nat)?;
        let mut sim = Self {
            now: 0,
            seq: 0,
            events: BinaryHeap::new(),
            switch,
            servers: Vec::new(),
            nf,
            output: Vec::new(),
            next_tick: 0,
            drop_writes: Vec::new(),
            stats: SimStats::default(),
            scratch: Out::new(),
            cfg,
        };
        for k in 0..usize::from(sim.cfg.switch.servers) {
            sim.servers.push(None);
            sim.start_server(k)?;
        }
        sim.run_until(sim.now + 10_000);
        Ok(sim)
    }

    /// (Re)starts payload server `k`: fresh memory and QPs, announced to the switch.
    pub fn start_server(&mut self, k: usize) -> Result<()> {
        let cfg = AgentConfig {
            server_index: k as u16,
            qps: self.cfg.switch.qps_per_server,
            memory: self.cfg.server_memory,
            enable_timer: self.cfg.enable_timer,
            mac: server_mac(k),
            ip: server_ip(k),
            info_dst_mac: INFO_DST_MAC,
            key: self.cfg.switch.key.clone(),
        };
        let rnic = SoftRnic::new(SoftConfig::new(server_mac(k), server_ip(k)));
        let mut agent = Agent::setup(cfg, Box::new(rnic))?;
        let port = FIRST_SERVER_PORT + k as PortId;
        for f in agent.announcements() {
            self.schedule(self.cfg.server_link_ns, Dest::Switch(port), f);
        }
        let slot = self.servers.get_mut(k).ok_or(SimError::NoServer(k))?;
        *slot = Some(agent);
        Ok(())
    }

    /// Kills payload server `k`: frames to it vanish, it answers nothing.
    pub fn kill_server(&mut self, k: usize) {
        if let Some(s) = self.servers.get_mut(k) {
            *s = None;
        }
    }

    /// Drops the `n`-th WRITE (counting from 1) on the switch->server links.
    pub fn drop_write(&mut self, n: u64) {
        self.drop_writes.push(n);
    }

    /// Virtual time now, ns.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Link and fault counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Packets that left the switch on the client port so far.
    pub fn output(&self) -> &[Vec<u8>] {
        &self.output
    }

    fn schedule(&mut self, delay: u64, to: Dest, frame: Vec<u8>) {
        self.seq += 1;
        self.events
            .push(Reverse((self.now + delay, self.seq, to, frame)));
    }

    /// Split packets the switch has sent to a payload server and not yet rebuilt or
    /// counted lost.
    pub fn in_flight(&self) -> u64 {
        let c = self.switch.counters();
        c.split
            .saturating_sub(c.reassembled)
            .saturating_sub(self.switch.losses().total())
    }

    /// What one flow can have in flight without loss: a flow uses one QP, which holds
    /// `max_outstanding_reads` READs plus `max_waiting_reads` headers waiting for one (more
    /// are lost as `read_depth`). A generator keeping [`Sim::in_flight`] below this never
    /// overruns a QP, however few flows it has.
    pub fn read_credits(&self) -> u64 {
        let c = &self.cfg.switch;
        (c.max_outstanding_reads + c.max_waiting_reads) as u64
    }

    /// Waits (advancing virtual time) until fewer than `max_in_flight` packets are in
    /// flight, nothing is left to happen, or a liveness timeout passed (a stuck server
    /// must not stall the generator: its packets are counted lost by then).
    fn wait_for_credit(&mut self) {
        let Some(limit) = self.cfg.max_in_flight else {
            return;
        };
        let give_up = self.now + 2 * self.cfg.switch.liveness_timeout_ns.max(self.cfg.tick_ns);
        while self.in_flight() >= limit && self.now < give_up {
            match self.next_event_time() {
                Some(t) => self.run_until(t.max(self.now + 1).min(give_up)),
                None => break,
            }
        }
    }

    /// Injects `frames` on the client port, one every `gap_ns` (later where
    /// `max_in_flight` asks to wait), running the pipeline as it goes.
    pub fn inject(&mut self, frames: impl IntoIterator<Item = Vec<u8>>) {
        for f in frames {
            self.wait_for_credit();
            self.stats.generated += 1;
            self.stats.generated_bytes += f.len() as u64;
            let t = self.now;
            self.switch_rx(CLIENT_PORT, &f);
            self.run_until(t + self.cfg.gap_ns);
        }
    }

    /// Runs until nothing is in flight (the NF host flushed), or `limit_ns` more time passed.
    pub fn drain(&mut self, limit_ns: u64) {
        let end = self.now + limit_ns;
        while self.now < end {
            let next = self.next_event_time();
            match next {
                Some(t) => self.run_until(t.min(end)),
                None => {
                    let mut out = Vec::new();
                    self.nf.flush(self.now, &mut out);
                    if out.is_empty() {
                        // Let timers (liveness, restore) settle, then stop.
                        self.run_until(self.now + self.cfg.tick_ns);
                        if self.events.is_empty() && self.nf.next_deadline().is_none() {
                            return;
                        }
                    }
                    for f in out {
                        self.send_nf_output(f);
                    }
                }
            }
        }
    }

    fn next_event_time(&self) -> Option<u64> {
        let ev = self.events.peek().map(|Reverse((t, ..))| *t);
        match (ev, self.nf.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances virtual time to `t`, delivering every event due.
    pub fn run_until(&mut self, t: u64) {
        loop {
            let ev = self.events.peek().map(|Reverse((at, ..))| *at);
            let nf = self.nf.next_deadline();
            let tick = self.next_tick;
            let next = [ev, nf, Some(tick)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(t);
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            if tick <= self.now {
                self.next_tick = self.now + self.cfg.tick_ns;
                self.switch.tick(self.now, &mut self.scratch);
                let mut out = std::mem::take(&mut *self.scratch);
                self.route(&mut out);
                *self.scratch = out;
            }
            if nf.is_some_and(|d| d <= self.now) {
                let mut out = Vec::new();
                self.nf.poll(self.now, &mut out);
                for f in out {
                    self.send_nf_output(f);
                }
            }
            while self
                .events
                .peek()
                .is_some_and(|Reverse((at, ..))| *at <= self.now)
            {
                let Some(Reverse((_, _, to, frame))) = self.events.pop() else {
                    break;
                };
                self.deliver(to, frame);
            }
        }
        self.now = self.now.max(t);
    }

    fn send_nf_output(&mut self, f: Vec<u8>) {
        self.schedule(self.cfg.nf_link_ns, Dest::Switch(NF_PORT), f);
    }

    fn deliver(&mut self, to: Dest, frame: Vec<u8>) {
        match to {
            Dest::Switch(port) => self.switch_rx(port, &frame),
            Dest::Nf => {
                self.nf.push(frame, self.now);
                let mut out = Vec::new();
                self.nf.poll(self.now, &mut out);
                for f in out {
                    self.send_nf_output(f);
                }
            }
            Dest::Client => self.output.push(frame),
            Dest::Server(k) => {
                let port = FIRST_SERVER_PORT + k as PortId;
                let Some(agent) = self.servers.get_mut(k).and_then(Option::as_mut) else {
                    self.stats.to_dead_server += 1;
                    return;
                };
                let mut replies = Vec::new();
                agent.on_frame(&frame, &mut |r| replies.push(r.to_vec()));
                for r in replies {
                    self.schedule(self.cfg.server_link_ns, Dest::Switch(port), r);
                }
            }
        }
    }

    fn switch_rx(&mut self, port: PortId, frame: &[u8]) {
        self.switch
            .process(port, frame, self.now, &mut self.scratch);
        let mut out = std::mem::take(&mut *self.scratch);
        self.route(&mut out);
        *self.scratch = out;
    }

    fn route(&mut self, out: &mut Vec<(PortId, Vec<u8>)>) {
        for (port, f) in out.drain(..) {
            match port {
                CLIENT_PORT => self.schedule(0, Dest::Client, f),
                NF_PORT => {
                    self.stats.nf_bytes_in += f.len() as u64;
                    self.schedule(self.cfg.nf_link_ns, Dest::Nf, f);
                }
                p => {
                    let k = usize::from(p - FIRST_SERVER_PORT);
                    if is_write(&f) {
                        self.stats.writes_seen += 1;
                        if self.drop_writes.contains(&self.stats.writes_seen) {
                            self.stats.injected_drops += 1;
                            continue;
                        }
                    }
                    self.schedule(self.cfg.server_link_ns, Dest::Server(k), f);
                }
            }
        }
    }
}

fn is_write(f: &[u8]) -> bool {
    f.get(12..14) == Some(&[0x08, 0x00])
        && f.get(36..38) == Some(&4791u16.to_be_bytes())
        && f.get(42) == Some(&Opcode::WRITE_ONLY.0)
}
