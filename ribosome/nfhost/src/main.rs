//! `ribosome-nfhost`: the NF host of a Ribosome cluster, and the in-process pipeline.
//!
//! ```text
//! ribosome-nfhost demo                       # whole pipeline in-process, faults optional
//! ribosome-nfhost bench                      # pps and NF-host bytes, sizes 64..1500
//! ribosome-nfhost serve --iface nf0          # one-armed NF host on AF_PACKET
//! ribosome-nfhost probe --iface cl0          # test traffic on a client port, checked
//! ```

mod probe;
mod serve;

use anyhow::Result;
use clap::{Parser, Subcommand};
use ribosome_nfhost::bench::bench_size;
use ribosome_nfhost::sim::{Sim, SimConfig};
use ribosome_nfhost::traffic::{generate, verify, TrafficSpec};
use ribosome_nfhost::Nat;
use std::net::Ipv4Addr;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Ribosome NF host: Reframer scheduling of split header frames"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run generator -> switch -> 2 soft payload servers + NF host in-process and check every
    /// output packet byte for byte.
    Demo {
        /// Packets to send.
        #[arg(long, default_value_t = 20_000)]
        packets: usize,
        /// Flows.
        #[arg(long, default_value_t = 64)]
        flows: usize,
        /// Kill payload server 1 after a third of the packets, restart it after two thirds.
        #[arg(long)]
        kill_server: bool,
        /// Drop the N-th RDMA WRITE.
        #[arg(long)]
        drop_write: Option<u64>,
        /// Payload log per server, bytes (small values make it wrap before READs return).
        #[arg(long)]
        payload_log: Option<u64>,
        /// Header-store slots (small values make slots get reused while headers are held).
        #[arg(long)]
        header_slots: Option<u16>,
        /// Rewrite destinations to this address (NAT with incremental checksums).
        #[arg(long)]
        nat: Option<Ipv4Addr>,
    },
    /// Packets/s through the in-process pipeline and NF-host bytes vs full packets.
    Bench {
        /// Packets per size and repeat.
        #[arg(long, default_value_t = 20_000)]
        packets: usize,
        /// Repeats per size (the median is printed).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Frame sizes, bytes.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "64,128,256,512,1024,1500"
        )]
        sizes: Vec<usize>,
    },
    /// One-armed NF host on an interface: frames from the switch are scheduled, rewritten
    /// per the NF contract and sent back on the same interface.
    Serve(serve::ServeArgs),
    /// Send test traffic on a switch client port and check what comes back byte for byte.
    Probe(probe::ProbeArgs),
}

fn demo(
    packets: usize,
    flows: usize,
    kill: bool,
    drop_write: Option<u64>,
    log: Option<u64>,
    slots: Option<u16>,
    nat: Option<Ipv4Addr>,
) -> Result<()> {
    let mut cfg = SimConfig::small();
    cfg.server_memory = 16 << 20;
    cfg.switch.payload_log = log.unwrap_or(16 << 20);
    if let Some(s) = slots {
        cfg.switch.header_slots = s;
    }
    cfg.nat = nat.map(|to_ip| Nat {
        to_ip,
        to_port: 8080,
    });
    let nat = cfg.nat;
    let mut sim = Sim::new(cfg)?;
    if let Some(n) = drop_write {
        sim.drop_write(n);
    }
    let pkts = generate(&TrafficSpec {
        seed: 7,
        flows,
        packets,
        sizes: (80, 1500),
        small_every: 8,
        small_max: 78,
    });
    let frames: Vec<Vec<u8>> = pkts.iter().map(|p| p.frame.clone()).collect();
    let third = packets / 3;
    sim.inject(frames[..third].iter().cloned());
    if kill {
        sim.kill_server(1);
        println!("t={}ns: payload server 1 killed", sim.now());
    }
    sim.inject(frames[third..2 * third].iter().cloned());
    if kill {
        sim.start_server(1)?;
        println!("t={}ns: payload server 1 restarted", sim.now());
    }
    sim.inject(frames[2 * third..].iter().cloned());
    sim.drain(10_000_000_000);
    let v = verify(&pkts, sim.output(), nat.as_ref());
    println!("generated={} virtual_time_ns={}", packets, sim.now());
    println!(
        "delivered_exact={} via_split={} corrupted={} duplicates={} missing={} reordered={}",
        v.exact, v.split, v.corrupted, v.duplicates, v.missing, v.reordered
    );
    let mut line = String::from("losses:");
    sim.switch
        .losses()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    println!("{line}");
    let mut line = String::from("whole_to_nf:");
    sim.switch
        .whole_reasons()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    println!("{line}");
    let mut line = String::from("switch:");
    sim.switch
        .counters()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    println!("{line}");
    let s = sim.stats();
    println!(
        "nf_host_bytes={} full_packet_bytes={} ratio={:.3}",
        s.nf_bytes_in,
        s.generated_bytes,
        s.nf_bytes_in as f64 / s.generated_bytes.max(1) as f64
    );
    let ok = v.corrupted == 0 && v.duplicates == 0 && v.missing == sim.switch.losses().total();
    println!(
        "result={}",
        if ok {
            "ok (no corruption, every loss counted)"
        } else {
            "FAIL"
        }
    );
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

fn bench(packets: usize, repeats: usize, sizes: &[usize]) -> Result<()> {
    println!(
        "{:>6} {:>12} {:>12} {:>8} {:>14} {:>14} {:>9}",
        "size", "pipeline_pps", "nf_only_pps", "ratio", "nf_host_bytes", "full_bytes", "nf/full"
    );
    for &size in sizes {
        let r = bench_size(size, packets, repeats)?;
        println!(
            "{:>6} {:>12.0} {:>12.0} {:>8.3} {:>14} {:>14} {:>9.3}",
            r.size,
            r.pipeline_pps,
            r.nf_only_pps,
            r.pipeline_pps / r.nf_only_pps.max(1.0),
            r.nf_bytes,
            r.full_bytes,
            r.nf_fraction()
        );
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Demo {
            packets,
            flows,
            kill_server,
            drop_write,
            payload_log,
            header_slots,
            nat,
        } => demo(
            packets,
            flows,
            kill_server,
            drop_write,
            payload_log,
            header_slots,
            nat,
        ),
        Cmd::Bench {
            packets,
            repeats,
            sizes,
        } => bench(packets, repeats, &sizes),
        Cmd::Serve(a) => serve::run(&a),
        Cmd::Probe(a) => probe::run(&a),
    };
    if let Err(e) = r {
        eprintln!("ribosome-nfhost: {e:#}");
        std::process::exit(1);
    }
}
