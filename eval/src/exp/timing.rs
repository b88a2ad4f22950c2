//! Timing of a measured region: thread CPU time (what the figures use: our 2-core machines are
//! shared, and wall time counts the moments other processes hold the core) and wall time.

use cpu_time::ThreadTime;
use std::time::Instant;

#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub cpu_s: f64,
    pub wall_s: f64,
}

/// Runs `f` once and times it. Never inlined, so that callgrind can count the timed region
/// alone (`--toggle-collect='*timing::time*'`, see `eval one-run e3 --variant`).
#[inline(never)]
pub fn time<R>(f: impl FnOnce() -> R) -> (Timing, R) {
    let (c, w) = (ThreadTime::now(), Instant::now());
    let r = f();
    let t = Timing {
        cpu_s: c.elapsed().as_secs_f64(),
        wall_s: w.elapsed().as_secs_f64(),
    };
    (t, r)
}
