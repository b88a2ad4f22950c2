//! E5's discrete-event cluster model: conservation, line-rate limits, the baseline's plateau,
//! monotonic scaling in NF cores, determinism, and the frame sizes taken from the switch model.

use reframer_eval::cluster::event::{Ps, PS_PER_NS, PS_PER_US};
use reframer_eval::cluster::link::Link;
use reframer_eval::cluster::sim::bound;
use reframer_eval::cluster::sizes::{self, FrameSizes, WIRE_OVERHEAD};
use reframer_eval::cluster::{run, Mode, Outcome, Resource, Scenario};

fn sizes_1k() -> FrameSizes {
    sizes::walk(1024).expect("1024-byte walk")
}

fn scenario(mode: Mode, sz: FrameSizes, mpps: f64, cores: usize, cost_ns: u64) -> Scenario {
    let mut s = Scenario::paper(mode, sz, mpps * 1e6, cores, cost_ns * PS_PER_NS);
    s.duration = 150 * PS_PER_US;
    s.warmup = 30 * PS_PER_US;
    s
}

fn cap(s: &Scenario, r: Resource) -> f64 {
    s.capacities()
        .into_iter()
        .find(|c| c.0 == r)
        .map(|c| c.1)
        .unwrap()
}

fn conserved(o: &Outcome) {
    assert_eq!(o.generated, o.delivered + o.lost, "{o:?}");
    assert_eq!(o.bytes_in, o.bytes_out + o.bytes_lost, "{o:?}");
    let dropped: u64 = o.drops.iter().map(|d| d.1).sum();
    assert_eq!(
        dropped, o.lost,
        "every lost packet has one place it was lost"
    );
    assert_eq!(
        o.link_frames_offered,
        o.link_frames_sent + o.link_frames_dropped
    );
    assert_eq!(
        o.link_frames_sent, o.link_frames_arrived,
        "every frame a link accepted reached the far end after the drain"
    );
}

#[test]
fn packets_bytes_and_link_frames_are_conserved_with_and_without_drops() {
    let sz = sizes_1k();
    for mode in [Mode::Ribosome, Mode::NfAlone] {
        // Light load: nothing lost.
        let o = run(&scenario(mode, sz, 5.0, 16, 300));
        conserved(&o);
        assert_eq!(o.lost, 0, "{mode:?} at 5 Mpps lost packets: {o:?}");
        assert!(o.delivered > 0);
        // Overload on every front: 2 cores, inputs above line rate, small buffers.
        let mut s = scenario(mode, sz, 45.0, 2, 300);
        s.port_buffer = 64 << 10;
        s.nic_buffer = 64 << 10;
        s.nf_ring_per_core = 64;
        let o = run(&s);
        conserved(&o);
        assert!(
            o.lost > o.generated / 4,
            "{mode:?} overload lost too little: {o:?}"
        );
        assert!(o.drops_of(Resource::InputPorts) > 0 && o.drops_of(Resource::NfPps) > 0);
    }
}

#[test]
fn a_link_never_carries_more_than_its_line_rate() {
    // The link alone: frames offered all at once leave one serialization time apart.
    let mut l = Link::new(100, u64::MAX, 0, (0, Ps::MAX));
    let wire = 1024 + u64::from(WIRE_OVERHEAD);
    let last = (0..1000).map(|_| l.send(0, wire).unwrap()).last().unwrap();
    assert_eq!(
        last,
        1000 * wire * 80,
        "1000 frames at 100G take 1000 x 80 ps/byte"
    );
    // A bounded buffer drops what does not fit instead of speeding up.
    let mut l = Link::new(100, 10 * wire, 0, (0, Ps::MAX));
    let ok = (0..100).filter(|_| l.send(0, wire).is_some()).count();
    assert_eq!(ok, 10);
    assert_eq!(l.stats.dropped, 90);

    // In the model: one input port offered twice its line rate, everything else ample.
    let sz = sizes_1k();
    let mut s = scenario(Mode::NfAlone, sz, 24.0, 64, 1);
    s.input_ports = 1;
    let o = run(&s);
    let line_gbps = 100.0 * 1024.0 / (1024.0 + f64::from(WIRE_OVERHEAD));
    assert!(
        o.delivered_gbps <= line_gbps * 1.01 && o.delivered_gbps >= line_gbps * 0.97,
        "one 100G input port delivered {} Gb/s (line rate {line_gbps:.1})",
        o.delivered_gbps
    );
    assert!(o.offered_gbps > 1.9 * line_gbps);
    assert!(o.drops_of(Resource::InputPorts) > 0);
}

#[test]
fn the_nf_server_alone_plateaus_at_its_link_or_its_packet_rate() {
    let sz = sizes_1k();
    // Fast cores: the single 100G NF link is the limit (~11.9 Mpps of 1 KB frames).
    let s = scenario(Mode::NfAlone, sz, 30.0, 16, 100);
    let o = run(&s);
    let link = cap(&s, Resource::NfLink);
    assert_eq!(s.model_bound().0, Resource::NfLink);
    assert_eq!(o.bound, Resource::NfLink, "{o:?}");
    assert!(
        (o.delivered_pps / link - 1.0).abs() < 0.02,
        "{} pps vs NF link {link}",
        o.delivered_pps
    );
    // Slow cores: the cores are the limit.
    let s = scenario(Mode::NfAlone, sz, 30.0, 2, 500);
    let o = run(&s);
    let pps = cap(&s, Resource::NfPps);
    assert_eq!(o.bound, Resource::NfPps, "{o:?}");
    assert!((o.delivered_pps / pps - 1.0).abs() < 0.02, "{o:?}");
    // Ribosome with the same fast cores goes well past the NF link: only headers cross it.
    let r = run(&scenario(Mode::Ribosome, sz, 30.0, 16, 100));
    let alone = run(&scenario(Mode::NfAlone, sz, 30.0, 16, 100));
    assert!(
        r.delivered_gbps > 2.5 * alone.delivered_gbps,
        "Ribosome {} vs alone {}",
        r.delivered_gbps,
        alone.delivered_gbps
    );
}

#[test]
fn ribosome_throughput_grows_with_nf_cores_until_another_bound() {
    let sz = sizes_1k();
    let gbps: Vec<f64> = [1, 2, 4, 8, 16, 32]
        .iter()
        .map(|&c| run(&scenario(Mode::Ribosome, sz, 36.0, c, 400)).delivered_gbps)
        .collect();
    for w in gbps.windows(2) {
        assert!(w[1] >= w[0] * 0.995, "not monotonic in cores: {gbps:?}");
    }
    // While the cores bound it, doubling them doubles the output.
    assert!((gbps[1] / gbps[0] - 2.0).abs() < 0.1, "{gbps:?}");
    assert!(gbps[5] > 10.0 * gbps[0], "{gbps:?}");
    let top = run(&scenario(Mode::Ribosome, sz, 36.0, 32, 400));
    assert_ne!(
        top.bound,
        Resource::NfPps,
        "32 cores at 400 ns take 80 Mpps: {top:?}"
    );
}

#[test]
fn a_seed_fixes_the_run_and_another_seed_changes_it() {
    let sz = sizes_1k();
    let s = scenario(Mode::Ribosome, sz, 20.0, 8, 400);
    let a = run(&s);
    let b = run(&s);
    assert!(a.latency_p50_us.is_finite());
    assert_eq!(a, b);
    let mut s2 = s.clone();
    s2.seed = 2;
    let c = run(&s2);
    assert_ne!(
        (a.generated, a.events, a.latency_p99_us.to_bits()),
        (c.generated, c.events, c.latency_p99_us.to_bits())
    );
}

#[test]
fn frame_sizes_are_those_of_the_switch_model() {
    let s = sizes_1k();
    assert!(s.split);
    // Header copy: Eth + IPv4 + UDP (42) + versioned trailer (28).
    assert_eq!(s.header, 42 + 28);
    // READ request: Eth/IPv4/UDP/BTH/ICRC (58) + RETH (16); ACK: 58 + AETH (4).
    assert_eq!((s.read_req, s.ack), (74, 62));
    // WRITE and READ response carry the same tag + pad + payload; RETH vs AETH differ by 12.
    assert_eq!(s.write - s.read_resp, 12);
    let payload = 1024 - 42;
    let pad = (4 - (8 + payload) % 4) % 4;
    assert_eq!(s.write, 58 + 16 + 8 + pad + payload);
    // Small packets are not split: the IPv4 total length of a 64-byte frame is 50 <= 64.
    assert_eq!(sizes::walk(64).unwrap(), FrameSizes::whole(64));
    assert!(sizes::walk(128).unwrap().split);
    // Bad sizes are errors, not panics.
    assert!(sizes::walk(10).is_err());
    assert!(sizes::walk(9000).is_err());
}

#[test]
fn the_bound_is_the_last_saturated_resource_on_the_path() {
    let path = [
        (Resource::InputPorts, 1.0),
        (Resource::NfLink, 0.99),
        (Resource::NfPps, 1.0),
        (Resource::NfLink, 0.3),
        (Resource::ServerLinks, 0.5),
        (Resource::OutputPorts, 0.6),
    ];
    assert_eq!(bound(100.0, 40.0, &path), Resource::NfPps);
    assert_eq!(bound(100.0, 99.0, &path), Resource::InputPorts);
    let idle = [(Resource::InputPorts, 0.2), (Resource::NfPps, 0.3)];
    assert_eq!(bound(100.0, 99.0, &idle), Resource::Offered);
    assert_eq!(bound(100.0, 50.0, &idle), Resource::NfPps);
}
