//! Live mode (`--port KIND:NAME`, also the live Ribosome NF host with `--ribosome`): a thin
//! adapter over the `reframer-live` library, which owns the ports, workers, monitor, signals
//! and metrics. This file only maps the main CLI onto it and writes the run summary.

use std::path::Path;

use reframer_live::LiveOptions;
pub(crate) use reframer_live::{LiveArgs, LiveConfig};

use crate::summary::{self, RunMode, Summary};

/// Runs until SIGINT/SIGTERM or `--duration`, then prints the summary.
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
        let mut s = Summary::new(
            RunMode::Live,
            sched.delay_ns,
            &report.stats,
            report.elapsed.as_secs_f64(),
        )
        .with_ribosome(report.nf);
        s.live = Some(report.summary());
        summary::write_json(f, &s)?;
    }
    Ok(())
}
