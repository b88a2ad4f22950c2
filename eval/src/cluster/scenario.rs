//! What one simulated run is: the deployment (Ribosome, or the NF server alone), its links and
//! buffers, the NF host's cores and per-frame cost, the offered traffic; and what the run
//! measured. Also the analytic capacity of each resource, which names the bound a run should hit.

use super::event::{Ps, PS_PER_NS, PS_PER_US};
use super::link::Link;
use super::nf_host::NfHost;
use super::sizes::{FrameSizes, WIRE_OVERHEAD};

/// Which deployment is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Switch splits packets: payloads parked on the payload servers, headers to the NF host.
    Ribosome,
    /// The paper's "Baseline": whole packets through the switch to the NF host and back.
    NfAlone,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ribosome => "ribosome",
            Self::NfAlone => "nf_alone",
        }
    }
}

/// A resource that can limit throughput; `Offered` means none did (output = input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Offered,
    InputPorts,
    ServerLinks,
    NfLink,
    NfPps,
    OutputPorts,
}

impl Resource {
    pub const LIMITS: [Self; 5] = [
        Self::InputPorts,
        Self::ServerLinks,
        Self::NfLink,
        Self::NfPps,
        Self::OutputPorts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::InputPorts => "input_ports",
            Self::ServerLinks => "server_links",
            Self::NfLink => "nf_link",
            Self::NfPps => "nf_pps",
            Self::OutputPorts => "output_ports",
        }
    }
}

/// One run's settings. Defaults (`Scenario::paper`) follow the paper's testbed (reference §1.1,
/// §4): 100G everywhere, 4 payload servers, traffic on 3 input ports (the generator's multicast
/// switch fed 3 ports; the paper's ~300 Gb/s plateau is 3 x 100G), 4 output ports.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub mode: Mode,
    pub sizes: FrameSizes,
    /// Packets per second offered, spread evenly over the input ports.
    pub offered_pps: f64,
    pub servers: usize,
    pub input_ports: usize,
    pub output_ports: usize,
    pub nf_cores: usize,
    /// NF host CPU time per frame (header or whole packet).
    pub nf_cost: Ps,
    pub link_gbps: u64,
    /// Egress buffer of each switch port, bytes.
    pub port_buffer: u64,
    /// TX queue of each host NIC (generator, NF host, payload servers), bytes.
    pub nic_buffer: u64,
    /// RX descriptors per NF core.
    pub nf_ring_per_core: usize,
    /// One-way latency of each link beyond serialization (cable, PHY, MAC, switch pipeline).
    pub prop: Ps,
    /// Payload server RNIC time from READ request to response.
    pub rnic_delay: Ps,
    /// Flows (each pinned to one payload server by hash, as the switch's selector does).
    pub flows: u32,
    /// Traffic is generated during [0, duration); measured during [warmup, duration).
    pub duration: Ps,
    pub warmup: Ps,
    pub seed: u64,
}

impl Scenario {
    pub fn paper(
        mode: Mode,
        sizes: FrameSizes,
        offered_pps: f64,
        nf_cores: usize,
        nf_cost: Ps,
    ) -> Self {
        Self {
            mode,
            sizes,
            offered_pps,
            servers: 4,
            input_ports: 3,
            output_ports: 4,
            nf_cores,
            nf_cost,
            link_gbps: 100,
            port_buffer: 1 << 20,
            nic_buffer: 1 << 20,
            nf_ring_per_core: 1024,
            prop: 500 * PS_PER_NS,
            rnic_delay: PS_PER_US,
            flows: 1024,
            duration: 200 * PS_PER_US,
            warmup: 50 * PS_PER_US,
            seed: 1,
        }
    }

    /// Whether packets take the split path.
    pub fn splits(&self) -> bool {
        self.mode == Mode::Ribosome && self.sizes.split
    }

    /// Offered Gb/s of frame bytes (FCS, preamble and gap excluded, as the paper's axes).
    pub fn offered_gbps(&self) -> f64 {
        self.offered_pps * f64::from(self.sizes.frame) * 8.0 / 1e9
    }

    /// Packets per second each resource can carry in this scenario, from the frame sizes alone.
    pub fn capacities(&self) -> Vec<(Resource, f64)> {
        let w = |b: u32| u64::from(b + WIRE_OVERHEAD);
        let cap = |bytes: u64| Link::capacity_pps(self.link_gbps, bytes);
        let s = &self.sizes;
        let mut v = vec![(
            Resource::InputPorts,
            self.input_ports as f64 * cap(w(s.frame)),
        )];
        if self.splits() {
            let down = cap(w(s.write) + w(s.read_req));
            let up = cap(w(s.read_resp) + w(s.ack));
            v.push((Resource::ServerLinks, self.servers as f64 * down.min(up)));
            v.push((Resource::NfLink, cap(w(s.header))));
            let outs = self.servers.min(self.output_ports);
            v.push((Resource::OutputPorts, outs as f64 * cap(w(s.frame))));
        } else {
            v.push((Resource::NfLink, cap(w(s.frame))));
            v.push((
                Resource::OutputPorts,
                self.output_ports as f64 * cap(w(s.frame)),
            ));
        }
        v.push((
            Resource::NfPps,
            NfHost::capacity_pps(self.nf_cores, self.nf_cost),
        ));
        v
    }

    /// The tightest analytic bound (resource, pps); `Offered` if the offered load is below all
    /// (a resource offered exactly its capacity counts as the bound).
    pub fn model_bound(&self) -> (Resource, f64) {
        self.capacities()
            .into_iter()
            .fold((Resource::Offered, self.offered_pps), |a, b| {
                if b.1 <= a.1 * (1.0 + 1e-9) {
                    b
                } else {
                    a
                }
            })
    }
}

/// What a run measured. Rates are over the measurement window; counts cover the whole run,
/// drained to the end, so `generated = delivered + lost` holds exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub offered_pps: f64,
    pub offered_gbps: f64,
    pub delivered_pps: f64,
    pub delivered_gbps: f64,
    pub latency_p50_us: f64,
    pub latency_p99_us: f64,
    pub generated: u64,
    pub delivered: u64,
    pub lost: u64,
    /// Frame bytes (original packets) generated, delivered and lost.
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bytes_lost: u64,
    /// Packets lost, by the resource whose queue dropped them first.
    pub drops: Vec<(Resource, u64)>,
    /// Busy fraction over the window, by resource (the busiest link of each kind).
    pub util: Vec<(Resource, f64)>,
    /// What limited this run (see `sim::bound`).
    pub bound: Resource,
    /// Frames offered to links, accepted, dropped, and arrived at the far end.
    pub link_frames_offered: u64,
    pub link_frames_sent: u64,
    pub link_frames_dropped: u64,
    pub link_frames_arrived: u64,
    /// Headers that came back for packets already lost (their payload is never read).
    pub stale_headers: u64,
    pub events: u64,
}

impl Outcome {
    pub fn util_of(&self, r: Resource) -> f64 {
        self.util.iter().find(|u| u.0 == r).map_or(0.0, |u| u.1)
    }

    pub fn drops_of(&self, r: Resource) -> u64 {
        self.drops.iter().find(|u| u.0 == r).map_or(0, |u| u.1)
    }
}
