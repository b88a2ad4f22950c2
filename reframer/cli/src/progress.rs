//! The offline progress bar: bytes of the input read, packets/s and ETA, on stderr only when
//! stderr is a terminal and `--quiet` is off (nothing at all otherwise: logs and pipes stay
//! clean). Updated every few thousand packets so the replay loop does not slow down.

use std::{io::IsTerminal, path::Path, time::Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Packets between two updates of the bar (indicatif also limits redraws to 20 per second).
const EVERY: u64 = 4096;

/// A bar over the input file's bytes, or nothing.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    packets: u64,
    started: Instant,
}

impl Progress {
    /// A bar for reading `input` when stderr is a terminal and not `quiet`.
    pub(crate) fn for_input(input: &Path, quiet: bool) -> Self {
        Self::new(input, !quiet && std::io::stderr().is_terminal())
    }

    fn new(input: &Path, on: bool) -> Self {
        let bar = on.then(|| {
            let total = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {msg} ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(
                input
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            );
            bar.set_message("0 pkt/s");
            bar.tick();
            bar
        });
        Self {
            bar,
            packets: 0,
            started: Instant::now(),
        }
    }

    /// One packet read; `bytes` is how much of the input has been consumed.
    #[inline]
    pub(crate) fn packet(&mut self, bytes: u64) {
        self.packets += 1;
        if self.packets % EVERY == 0 {
            if let Some(bar) = &self.bar {
                let pps = self.packets as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("{} pkts {:.0} pkt/s", self.packets, pps));
                bar.set_position(bytes);
            }
        }
    }

    /// Removes the bar (the summary follows on a clean line).
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// Also on an error mid-run: the error line must not land on the bar's line.
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_means_no_bar() {
        let mut p = Progress::new(Path::new("/nonexistent"), false);
        for i in 0..10_000 {
            p.packet(i);
        }
        assert!(p.bar.is_none());
        p.finish();
    }
}
