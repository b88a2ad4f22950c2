//! The event-driven run: generator -> input ports -> switch -> (WRITE to a payload server,
//! header to the NF host -> back -> READ request -> READ response -> output port) or, for the
//! NF server alone and for unsplit packets, whole packets through the NF host to an output port.
//! The switch forwards at line rate (no processing delay); every link direction has a FIFO with
//! a finite buffer; the NF host is `cores` servers of a fixed per-frame cost.

use super::event::{EventQueue, Ps, PS_PER_NS};
use super::link::Link;
use super::nf_host::NfHost;
use super::scenario::{Outcome, Resource, Scenario};
use super::sizes::WIRE_OVERHEAD;
use crate::rng::Rng;
use hdrhistogram::Histogram;

/// Where a frame of packet `pkt` has just arrived, or what happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// The generator emits its next packet on this input port.
    Gen(u16),
    AtSwitchFromClient(u32),
    AtNf(u32),
    NfDone(u32),
    AtSwitchFromNf(u32),
    AtServerWrite(u32),
    AtServerRead(u32),
    ServerReplies(u32),
    AtSwitchResponse(u32),
    AtSwitchAck,
    Delivered(u32),
}

#[derive(Debug, Clone, Copy)]
struct Pkt {
    born: Ps,
    server: u16,
    out_port: u16,
    lost: bool,
}

/// Deterministic flow hash (the switch's CRC16 selector plays this role in the model).
fn mix(x: u64) -> u64 {
    reframer_core::rng::SplitMix64::hash(x)
}

struct Net {
    input: Vec<Link>,
    to_server: Vec<Link>,
    from_server: Vec<Link>,
    to_nf: Link,
    from_nf: Link,
    output: Vec<Link>,
    nf: NfHost,
}

impl Net {
    fn links(&self) -> impl Iterator<Item = &Link> {
        self.input
            .iter()
            .chain(&self.to_server)
            .chain(&self.from_server)
            .chain([&self.to_nf, &self.from_nf])
            .chain(&self.output)
    }
}

/// A resource is saturated above this busy fraction.
pub const SATURATED: f64 = 0.95;

/// What limited a run, from the utilisations of the resources in path order: if the output
/// kept up with the offered load, nothing (or the input ports, if they were full); otherwise
/// the saturated resource furthest downstream, since every resource after it passes what it
/// lets through; if none is saturated, the busiest.
pub fn bound(offered_pps: f64, delivered_pps: f64, path: &[(Resource, f64)]) -> Resource {
    let input_full = path
        .iter()
        .any(|r| r.0 == Resource::InputPorts && r.1 >= SATURATED);
    if delivered_pps >= 0.98 * offered_pps {
        return if input_full {
            Resource::InputPorts
        } else {
            Resource::Offered
        };
    }
    path.iter()
        .rev()
        .find(|r| r.1 >= SATURATED)
        .or_else(|| path.iter().max_by(|a, b| a.1.total_cmp(&b.1)))
        .map_or(Resource::Offered, |r| r.0)
}

fn max_util(links: &[&Link]) -> f64 {
    links.iter().map(|l| l.utilisation()).fold(0.0, f64::max)
}

struct Run<'a> {
    sc: &'a Scenario,
    q: EventQueue<Ev>,
    net: Net,
    pkts: Vec<Pkt>,
    rngs: Vec<Rng>,
    gap: f64,
    drops: [u64; 6],
    delivered: u64,
    delivered_in_window: u64,
    generated_in_window: u64,
    arrivals: u64,
    stale: u64,
    /// READ requests or responses dropped: server links then limit what comes back from the
    /// NF, not only what goes in (WRITEs).
    read_drops: u64,
    lat: Option<Histogram<u64>>,
    events: u64,
}

fn slot(r: Resource) -> usize {
    match r {
        Resource::Offered => 0,
        Resource::InputPorts => 1,
        Resource::ServerLinks => 2,
        Resource::NfLink => 3,
        Resource::NfPps => 4,
        Resource::OutputPorts => 5,
    }
}

/// Runs one scenario to completion (generation, then drain until no event is left).
pub fn run(sc: &Scenario) -> Outcome {
    let window = (sc.warmup.min(sc.duration), sc.duration);
    let link = |buf: u64| Link::new(sc.link_gbps, buf, sc.prop, window);
    let servers = sc.servers.max(1);
    let inputs = sc.input_ports.max(1);
    let net = Net {
        input: (0..inputs).map(|_| link(sc.nic_buffer)).collect(),
        to_server: (0..servers).map(|_| link(sc.port_buffer)).collect(),
        from_server: (0..servers).map(|_| link(sc.nic_buffer)).collect(),
        to_nf: link(sc.port_buffer),
        from_nf: link(sc.nic_buffer),
        output: (0..sc.output_ports.max(1))
            .map(|_| link(sc.port_buffer))
            .collect(),
        nf: NfHost::new(
            sc.nf_cores,
            sc.nf_cost,
            sc.nf_ring_per_core * sc.nf_cores.max(1),
            window,
        ),
    };
    let per_port = sc.offered_pps / inputs as f64;
    let mut r = Run {
        sc,
        q: EventQueue::default(),
        net,
        pkts: Vec::new(),
        rngs: (0..inputs as u64).map(|p| Rng::new(sc.seed, p)).collect(),
        // At least 1 ps apart, so time always advances (an absurd rate cannot stall the run).
        gap: if per_port > 0.0 {
            (1e12 / per_port).max(1.0)
        } else {
            0.0
        },
        drops: [0; 6],
        delivered: 0,
        delivered_in_window: 0,
        generated_in_window: 0,
        arrivals: 0,
        stale: 0,
        read_drops: 0,
        lat: Histogram::new(3).ok(),
        events: 0,
    };
    if r.gap > 0.0 {
        for p in 0..inputs {
            // Ports start out of phase so their first packets do not coincide.
            let first = (r.rngs[p].unit() * r.gap) as Ps;
            r.q.at(first, Ev::Gen(p as u16));
        }
    }
    while let Some((now, ev)) = r.q.pop() {
        r.events += 1;
        r.step(now, ev);
    }
    r.outcome(window)
}

impl Run<'_> {
    fn wire(bytes: u32) -> u64 {
        u64::from(bytes + WIRE_OVERHEAD)
    }

    /// Marks `pkt` lost at resource `r` (counted once, at its first drop).
    fn lose(&mut self, pkt: u32, r: Resource) {
        if let Some(p) = self.pkts.get_mut(pkt as usize) {
            if !p.lost {
                p.lost = true;
                self.drops[slot(r)] += 1;
            }
        }
    }

    fn pkt(&self, pkt: u32) -> Pkt {
        self.pkts.get(pkt as usize).copied().unwrap_or(Pkt {
            born: 0,
            server: 0,
            out_port: 0,
            lost: true,
        })
    }

    /// Sends on a link chosen by `pick`; on success schedules `next` at the arrival time, else
    /// loses the packet at `r`.
    fn send(
        &mut self,
        now: Ps,
        pkt: u32,
        bytes: u32,
        r: Resource,
        pick: impl FnOnce(&mut Net) -> Option<&mut Link>,
        next: Ev,
    ) {
        match pick(&mut self.net).and_then(|l| l.send(now, Self::wire(bytes))) {
            Some(at) => self.q.at(at, next),
            None => self.lose(pkt, r),
        }
    }

    fn step(&mut self, now: Ps, ev: Ev) {
        let sz = self.sc.sizes;
        let split = self.sc.splits();
        match ev {
            Ev::Gen(port) => self.generate(now, port),
            Ev::AtSwitchFromClient(id) => {
                self.arrivals += 1;
                let p = self.pkt(id);
                if split {
                    let s = usize::from(p.server);
                    self.send(
                        now,
                        id,
                        sz.write,
                        Resource::ServerLinks,
                        |n| n.to_server.get_mut(s),
                        Ev::AtServerWrite(id),
                    );
                    self.send(
                        now,
                        id,
                        sz.header,
                        Resource::NfLink,
                        |n| Some(&mut n.to_nf),
                        Ev::AtNf(id),
                    );
                } else {
                    self.send(
                        now,
                        id,
                        sz.frame,
                        Resource::NfLink,
                        |n| Some(&mut n.to_nf),
                        Ev::AtNf(id),
                    );
                }
            }
            Ev::AtNf(id) => {
                self.arrivals += 1;
                match self.net.nf.admit(now) {
                    Some(done) => self.q.at(done, Ev::NfDone(id)),
                    None => self.lose(id, Resource::NfPps),
                }
            }
            Ev::NfDone(id) => {
                let b = if split { sz.header } else { sz.frame };
                self.send(
                    now,
                    id,
                    b,
                    Resource::NfLink,
                    |n| Some(&mut n.from_nf),
                    Ev::AtSwitchFromNf(id),
                );
            }
            Ev::AtSwitchFromNf(id) => {
                self.arrivals += 1;
                let p = self.pkt(id);
                if !split {
                    let o = usize::from(p.out_port);
                    self.send(
                        now,
                        id,
                        sz.frame,
                        Resource::OutputPorts,
                        |n| n.output.get_mut(o),
                        Ev::Delivered(id),
                    );
                } else if p.lost {
                    // Its WRITE was dropped: nothing to read back.
                    self.stale += 1;
                } else {
                    let s = usize::from(p.server);
                    self.send(
                        now,
                        id,
                        sz.read_req,
                        Resource::ServerLinks,
                        |n| n.to_server.get_mut(s),
                        Ev::AtServerRead(id),
                    );
                    self.read_drops += u64::from(self.pkt(id).lost);
                }
            }
            Ev::AtServerWrite(id) => {
                self.arrivals += 1;
                let s = usize::from(self.pkt(id).server);
                if let Some(at) = self
                    .net
                    .from_server
                    .get_mut(s)
                    .and_then(|l| l.send(now, Self::wire(sz.ack)))
                {
                    self.q.at(at, Ev::AtSwitchAck);
                }
            }
            Ev::AtServerRead(id) => {
                self.arrivals += 1;
                self.q.at(now + self.sc.rnic_delay, Ev::ServerReplies(id));
            }
            Ev::ServerReplies(id) => {
                let s = usize::from(self.pkt(id).server);
                self.send(
                    now,
                    id,
                    sz.read_resp,
                    Resource::ServerLinks,
                    |n| n.from_server.get_mut(s),
                    Ev::AtSwitchResponse(id),
                );
                self.read_drops += u64::from(self.pkt(id).lost);
            }
            Ev::AtSwitchResponse(id) => {
                self.arrivals += 1;
                let o = usize::from(self.pkt(id).out_port);
                self.send(
                    now,
                    id,
                    sz.frame,
                    Resource::OutputPorts,
                    |n| n.output.get_mut(o),
                    Ev::Delivered(id),
                );
            }
            Ev::AtSwitchAck => self.arrivals += 1,
            Ev::Delivered(id) => {
                self.arrivals += 1;
                let p = self.pkt(id);
                if p.lost {
                    return;
                }
                self.delivered += 1;
                let (w0, w1) = (self.sc.warmup, self.sc.duration);
                if (w0..w1).contains(&now) {
                    self.delivered_in_window += 1;
                }
                if (w0..w1).contains(&p.born) {
                    if let Some(h) = &mut self.lat {
                        let _ = h.record((now - p.born) / PS_PER_NS);
                    }
                }
            }
        }
    }

    fn generate(&mut self, now: Ps, port: u16) {
        let sc = self.sc;
        let Some(rng) = self.rngs.get_mut(usize::from(port)) else {
            return;
        };
        let flow = rng.next_u64() % u64::from(sc.flows.max(1));
        let jitter = 0.5 + rng.unit();
        let next = now + ((self.gap * jitter) as Ps).max(1);
        let h = mix(flow);
        let server = (h % sc.servers.max(1) as u64) as u16;
        let out_port = if self.sc.splits() {
            server % sc.output_ports.max(1) as u16
        } else {
            ((h >> 32) % sc.output_ports.max(1) as u64) as u16
        };
        let id = self.pkts.len() as u32;
        self.pkts.push(Pkt {
            born: now,
            server,
            out_port,
            lost: false,
        });
        if (sc.warmup..sc.duration).contains(&now) {
            self.generated_in_window += 1;
        }
        let p = usize::from(port);
        self.send(
            now,
            id,
            sc.sizes.frame,
            Resource::InputPorts,
            |n| n.input.get_mut(p),
            Ev::AtSwitchFromClient(id),
        );
        if next < sc.duration {
            self.q.at(next, Ev::Gen(port));
        }
    }

    fn outcome(self, window: (Ps, Ps)) -> Outcome {
        let secs = window.1.saturating_sub(window.0).max(1) as f64 / 1e12;
        let frame = u64::from(self.sc.sizes.frame);
        let generated = self.pkts.len() as u64;
        let lost = self.pkts.iter().filter(|p| p.lost).count() as u64;
        let n = &self.net;
        let util = vec![
            (
                Resource::InputPorts,
                max_util(&n.input.iter().collect::<Vec<_>>()),
            ),
            (
                Resource::ServerLinks,
                max_util(&n.to_server.iter().chain(&n.from_server).collect::<Vec<_>>()),
            ),
            (Resource::NfLink, max_util(&[&n.to_nf, &n.from_nf])),
            (Resource::NfPps, n.nf.utilisation()),
            (
                Resource::OutputPorts,
                max_util(&n.output.iter().collect::<Vec<_>>()),
            ),
        ];
        let offered_pps = self.generated_in_window as f64 / secs;
        let delivered_pps = self.delivered_in_window as f64 / secs;
        // Resources in path order. Server links carry WRITEs before the NF and READs after it;
        // they count as downstream of the NF only if READs were dropped there.
        let input = (
            Resource::InputPorts,
            max_util(&n.input.iter().collect::<Vec<_>>()),
        );
        let servers = (Resource::ServerLinks, util[1].1);
        let (early, late) = if self.read_drops > 0 {
            ((Resource::Offered, 0.0), servers)
        } else {
            (servers, (Resource::Offered, 0.0))
        };
        let path = [
            input,
            early,
            (Resource::NfLink, n.to_nf.utilisation()),
            (Resource::NfPps, n.nf.utilisation()),
            (Resource::NfLink, n.from_nf.utilisation()),
            late,
            (Resource::OutputPorts, util[4].1),
        ];
        let bound = bound(offered_pps, delivered_pps, &path);
        let (mut offered, mut sent, mut dropped) = (0, 0, 0);
        for l in n.links() {
            sent += l.stats.sent;
            dropped += l.stats.dropped;
            offered += l.stats.sent + l.stats.dropped;
        }
        let q = |h: &Option<Histogram<u64>>, p: f64| {
            h.as_ref()
                .filter(|h| !h.is_empty())
                .map_or(f64::NAN, |h| h.value_at_quantile(p) as f64 / 1e3)
        };
        Outcome {
            offered_pps,
            offered_gbps: offered_pps * frame as f64 * 8.0 / 1e9,
            delivered_pps,
            delivered_gbps: delivered_pps * frame as f64 * 8.0 / 1e9,
            latency_p50_us: q(&self.lat, 0.5),
            latency_p99_us: q(&self.lat, 0.99),
            generated,
            delivered: self.delivered,
            lost,
            bytes_in: generated * frame,
            bytes_out: self.delivered * frame,
            bytes_lost: lost * frame,
            drops: Resource::LIMITS
                .iter()
                .map(|&r| (r, self.drops[slot(r)]))
                .collect(),
            util,
            bound,
            link_frames_offered: offered,
            link_frames_sent: sent,
            link_frames_dropped: dropped,
            link_frames_arrived: self.arrivals,
            stale_headers: self.stale,
            events: self.events,
        }
    }
}
