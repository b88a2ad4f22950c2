//! `ribosome-agent`: runs on a Ribosome payload server.
//!
//! ```text
//! ribosome-agent --backend soft --iface veth0 --server-index 1 --qps 64 \
//!     --memory 64MiB --enable-timer 10-100 --config configs/cluster.toml --ip 192.168.40.2
//! ```

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use ribosome_agent::agent::{Agent, AgentConfig};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_config::servers::parse_range;
use ribosome_config::size::parse_size;
use ribosome_config::Servers;
use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_rnic::verbs::{VerbsConfig, VerbsTransport};
use ribosome_rnic::RdmaTransport;
use ribosome_wire::control::INFO_DST_MAC;
use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// User-space RC responder on the interface (a reframer-io AF_PACKET port).
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

/// Everything decided from the flags and the cluster file, before any device is touched.
#[derive(Debug)]
struct Setup {
    cli: Cli,
    servers: Option<Servers>,
    device: Option<String>,
    iface: String,
    cfg: AgentConfig,
    switch_ip: Ipv4Addr,
}

/// Reads the flags and the cluster file; every error here is a usage or config error.
fn setup(cli: Cli) -> Result<Setup> {
    let servers = match &cli.config {
        Some(p) => Some(Servers::load(p).with_context(|| format!("in {}", p.display()))?),
        None => None,
    };
    let entry = servers
        .as_ref()
        .and_then(|s| s.entry(cli.server_index))
        .cloned();
    let idx = cli.server_index;
    let iface = cli
        .iface
        .clone()
        .or_else(|| entry.as_ref().map(|e| e.iface.clone()))
        .with_context(|| format!("no --iface and no [[servers.server]] with index = {idx}"))?;
    let ip = cli
        .ip
        .or(entry.as_ref().map(|e| e.ip))
        .with_context(|| format!("no --ip and no [[servers.server]] with index = {idx}"))?;
    let qps = match (cli.qps, &servers) {
        (Some(q), _) => q,
        (None, Some(s)) => s.qps_per_server,
        (None, None) => 64,
    };
    if qps == 0 {
        bail!("--qps 0: need at least 1 QP");
    }
    let memory = match (&cli.memory, &servers) {
        (Some(m), _) => parse_size(m).map_err(|e| anyhow::anyhow!("--memory: {e}"))?,
        (None, Some(s)) => s.memory_bytes()?,
        (None, None) => 64 << 20,
    };
    check_memory(memory)?;
    let enable_timer = match (&cli.enable_timer, &servers) {
        (Some(t), _) => parse_range(t).map_err(|e| anyhow::anyhow!("--enable-timer: {e}"))?,
        (None, Some(s)) => s.enable_timer_range()?,
        (None, None) => (1, 1),
    };
    let key = match &servers {
        Some(s) => s.key()?,
        None => None,
    };
    if key.is_none() && !cli.insecure_no_auth {
        bail!("no control key configured: give --config with auth_key/auth_key_file, or --insecure-no-auth");
    }
    let info_dst_mac = match &servers {
        Some(s) => s.info_dst_mac()?,
        None => INFO_DST_MAC,
    };
    let switch_ip = servers
        .as_ref()
        .map_or(Ipv4Addr::new(192, 168, 40, 254), |s| s.switch_ip);
    if let Some(m) = cli.mtu {
        if !(256..=4096).contains(&m) || !m.is_power_of_two() {
            bail!("--mtu {m}: want an IB MTU, 256, 512, 1024, 2048 or 4096");
        }
    }
    let device = cli
        .device
        .clone()
        .or(entry.as_ref().and_then(|e| e.device.clone()));
    let cfg = AgentConfig {
        server_index: cli.server_index,
        qps,
        memory,
        enable_timer,
        mac: MacAddr([0; 6]),
        ip,
        info_dst_mac,
        key,
    };
    Ok(Setup {
        cli,
        servers,
        device,
        iface,
        cfg,
        switch_ip,
    })
}

/// The payload memory is allocated up front: refuse what this machine cannot hold.
fn check_memory(memory: u64) -> Result<()> {
    let limit = cli::physical_memory().unwrap_or(u64::MAX);
    cli::check_alloc(
        "--memory (or servers.memory)",
        memory,
        memory.into(),
        limit.into(),
    )
    .map_err(anyhow::Error::msg)
}

/// Opens the interface and the RDMA backend and serves; every error here is a run-time one.
fn run(s: Setup) -> Result<()> {
    let Setup {
        cli,
        servers,
        device,
        iface,
        mut cfg,
        switch_ip,
    } = s;
    let ip = cfg.ip;
    let mac = ribosome_rnic::interface_mac(&iface)
        .with_context(|| format!("interface {iface}: reading its MAC address"))?;
    cfg.mac = mac;
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
    let mut agent = Agent::setup(cfg, transport)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("installing signal handler")?;
    }
    let stats = agent.run(&iface, &stop)?;
    let p = &stats.port;
    eprintln!(
        "ribosome-agent: shutting down: announced {} refreshes {} refresh_rejected {} \
         port_rx {} port_tx {} rx_kernel_dropped {} rx_oversize {} tx_error {} tx_backlog_full {} \
         tx_oversize {}",
        stats.announced,
        stats.refreshes,
        stats.refresh_rejected,
        p.port.rx_packets,
        p.port.tx_packets,
        p.port.rx_dropped,
        p.port.rx_oversize,
        p.port.tx_dropped,
        p.tx_backlog_full,
        p.tx_oversize
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

fn main() -> ExitCode {
    let s = match setup(Cli::parse()) {
        Ok(s) => s,
        Err(e) => return cli::fail("ribosome-agent", EXIT_USAGE, format!("{e:#}")),
    };
    match run(s) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail("ribosome-agent", EXIT_RUNTIME, format!("{e:#}")),
    }
}
