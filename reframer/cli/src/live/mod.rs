//! Live inline mode (`--port KIND:NAME`): owned by the live-ports work; this is its entry point.

use std::path::Path;

use clap::Args;
use serde::Deserialize;

/// Command-line options of the live mode, flattened into the main CLI.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct LiveArgs {
    /// A port to forward between, `afpacket:IFACE`, `xdp:IFACE` or `dpdk:PORT`; give two.
    #[arg(long = "port", value_name = "KIND:NAME")]
    pub(crate) ports: Vec<String>,
}

/// The `[live]` section of the TOML config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LiveConfig {}

/// Runs the bump in the wire until stopped.
pub(crate) fn run(
    args: &LiveArgs,
    _cfg: &LiveConfig,
    _sched: &reframer_core::Config,
    _summary_json: Option<&Path>,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "live ports ({}) are not available in this build yet",
        args.ports.join(", ")
    )
}
