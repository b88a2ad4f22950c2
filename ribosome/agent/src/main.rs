//! `ribosome-agent`: runs on a Ribosome payload server.
//!
//! ```text
//! ribosome-agent --backend soft --iface veth0 --server-index 1 --qps 64 \
//!     --memory 64MiB --enable-timer 10-100 --config configs/cluster.toml --ip 192.168.40.2
//! ```

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use ribosome_agent::agent::{Agent, AgentConfig};
use ribosome_agent::config::{parse_range, parse_size, Servers};
use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_rnic::verbs::{VerbsConfig, VerbsTransport};
use ribosome_rnic::RdmaTransport;
use ribosome_wire::control::INFO_DST_MAC;
use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// User-space RC responder on the interface (AF_PACKET).
    Soft,
    /// A real RNIC through libibverbs.
    Verbs,
}

/// Ribosome payload-server agent: registers QPs and memory with the switch, resets QPs on
/// refresh frames, and with `--backend soft` serves RoCEv2 itself.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// RDMA backend.
    #[arg(long, value_enum, default_value = "soft")]
    backend: Backend,
    /// Interface facing the switch (default: this server's entry in the config).
    #[arg(long)]
    iface: Option<String>,
    /// Server index.
    #[arg(long)]
    server_index: u16,
    /// QPs on this server (default: qps_per_server from the config, else 64).
    #[arg(long)]
    qps: Option<u16>,
    /// Payload memory, e.g. 64MiB or 4.5GiB (default: the config's, else 64MiB).
    #[arg(long)]
    memory: Option<String>,
    /// Enable-timer range "min-max" in packets (default: the config's, else 1-1).
    #[arg(long)]
    enable_timer: Option<String>,
    /// Cluster file with a [servers] part (key, defaults, per-server interface and IP).
    #[arg(long)]
    config: Option<PathBuf>,
    /// This server's IPv4 (default: its entry in the config).
    #[arg(long)]
    ip: Option<Ipv4Addr>,
    /// RDMA device for --backend verbs (default: the config's, else the first).
    #[arg(long)]
    device: Option<String>,
    /// GID index for --backend verbs (default: the RoCEv2 GID holding --ip).
    #[arg(long)]
    gid_index: Option<u8>,
    /// Soft backend path MTU (default: the largest IB MTU the interface MTU fits).
    #[arg(long)]
    mtu: Option<usize>,
    /// Soft backend: check request ICRCs (default: the config's verify_icrc, else on).
    #[arg(long)]
    verify_icrc: Option<bool>,
    /// Run without a control key even if none is configured (the original's open mode).
    #[arg(long)]
    insecure_no_auth: bool,
}

fn ib_mtu_for(iface: &str) -> usize {
    let if_mtu: usize = std::fs::read_to_string(format!("/sys/class/net/{iface}/mtu"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1500);
    // IPv4 20 + UDP 8 + BTH 12 + RETH 16 + pad 3 + ICRC 4 must fit beside the payload.
    [4096, 2048, 1024, 512, 256]
        .into_iter()
        .find(|m| m + 63 <= if_mtu)
        .unwrap_or(256)
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let servers = cli.config.as_deref().map(Servers::load).transpose()?;
    let entry = servers
        .as_ref()
        .and_then(|s| s.entry(cli.server_index))
        .cloned();
    let iface = cli
        .iface
        .clone()
        .or_else(|| entry.as_ref().map(|e| e.iface.clone()))
        .context("no --iface and no config entry for this server index")?;
    let ip = cli
        .ip
        .or(entry.as_ref().map(|e| e.ip))
        .context("no --ip and no config entry for this server index")?;
    let qps = cli
        .qps
        .or(servers.as_ref().map(|s| s.qps_per_server))
        .unwrap_or(64);
    let memory = parse_size(
        cli.memory
            .as_deref()
            .or(servers.as_ref().map(|s| s.memory.as_str()))
            .unwrap_or("64MiB"),
    )?;
    let enable_timer = parse_range(
        cli.enable_timer
            .as_deref()
            .or(servers.as_ref().map(|s| s.enable_timer.as_str()))
            .unwrap_or("1-1"),
    )?;
    let key = match &servers {
        Some(s) => s.key()?,
        None => None,
    };
    if key.is_none() && !cli.insecure_no_auth {
        bail!("no control key configured: give --config with auth_key/auth_key_file, or --insecure-no-auth");
    }
    let info_dst_mac = match &servers {
        Some(s) => s.info_dst_mac.parse::<MacAddr>().context("info_dst_mac")?,
        None => INFO_DST_MAC,
    };
    let switch_ip = servers
        .as_ref()
        .map_or(Ipv4Addr::new(192, 168, 40, 254), |s| s.switch_ip);
    let mac = ribosome_rnic::sys::interface_mac(&iface)?;

    let transport: Box<dyn RdmaTransport> = match cli.backend {
        Backend::Soft => {
            let mut c = SoftConfig::new(mac, ip);
            c.mtu = cli.mtu.unwrap_or_else(|| ib_mtu_for(&iface));
            c.verify_icrc = cli
                .verify_icrc
                .or(servers.as_ref().map(|s| s.verify_icrc))
                .unwrap_or(true);
            Box::new(SoftRnic::new(c))
        }
        Backend::Verbs => {
            let device = cli
                .device
                .clone()
                .or(entry.as_ref().and_then(|e| e.device.clone()));
            let t = VerbsTransport::open(VerbsConfig {
                device,
                port: 1,
                gid_index: cli.gid_index,
                local_ip: ip,
                switch_ip,
                max_rd_atomic: 16,
            })
            .map_err(anyhow::Error::msg)?;
            install_fake_neighbour(&iface, switch_ip, servers.as_ref())?;
            Box::new(t)
        }
    };
    let cfg = AgentConfig {
        server_index: cli.server_index,
        qps,
        memory,
        enable_timer,
        mac,
        ip,
        info_dst_mac,
        key,
    };
    let mut agent = Agent::setup(cfg, transport)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("installing signal handler")?;
    }
    let stats = agent.run(&iface, &stop)?;
    eprintln!(
        "ribosome-agent: shutting down: announced {} refreshes {} refresh_rejected {}",
        stats.announced, stats.refreshes, stats.refresh_rejected
    );
    Ok(())
}

/// The RNIC resolves the switch's fake IP through the neighbour table, as the original's
/// SIOCSARP entry did.
fn install_fake_neighbour(iface: &str, ip: Ipv4Addr, servers: Option<&Servers>) -> Result<()> {
    let mac = servers.map_or("00:00:00:00:00:01", |s| s.switch_mac.as_str());
    let status = std::process::Command::new("ip")
        .args([
            "neigh",
            "replace",
            &ip.to_string(),
            "lladdr",
            mac,
            "dev",
            iface,
            "nud",
            "permanent",
        ])
        .status()
        .context("running ip neigh")?;
    if !status.success() {
        bail!("ip neigh replace {ip} lladdr {mac} dev {iface} failed");
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("ribosome-agent: {e:#}");
        std::process::exit(1);
    }
}
