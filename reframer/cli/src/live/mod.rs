//! Live inline mode (`--port KIND:NAME`): a thin adapter over the `reframer-live` crate, which
//! owns the ports, workers, monitor and signals. This file only maps the main CLI onto it and
//! writes the shared `--summary-json` object with a `live` section added.

use std::path::Path;

use reframer_live::LiveOptions;
pub(crate) use reframer_live::{LiveArgs, LiveConfig};

use crate::summary;

/// Runs the bump in the wire until SIGINT/SIGTERM or `--duration`, then prints the summary.
pub(crate) fn run(
    opts: &LiveOptions,
    sched: &reframer_core::Config,
    summary_json: Option<&Path>,
) -> anyhow::Result<()> {
    // Created before the run, so an unwritable place fails before any traffic.
    let summary = summary_json.map(summary::create_json).transpose()?;
    let report = reframer_live::run(opts, sched)?;
    reframer_live::print_final(&report);
    if let Some(f) = summary {
        let mut extra = serde_json::Map::new();
        extra.insert("live".into(), report.live_json());
        let v = summary::summary_json(&report.stats, report.elapsed.as_secs_f64(), extra);
        summary::write_json(f, &v)?;
    }
    Ok(())
}
