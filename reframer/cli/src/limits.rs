//! How much memory a setting may make us allocate: checked, from the real table sizes, before
//! anything is allocated, so no accepted setting can abort on allocation or take the machine.

use anyhow::bail;
use reframer_core::{Config, Scheduler};

use reframer_io::cli::{gib, memory_limit};

/// Refuses `bytes` for `what` (a sentence naming the settings) above the limit.
pub(crate) fn check_memory(what: &str, bytes: u64) -> anyhow::Result<()> {
    let (limit, why) = memory_limit();
    if bytes > limit {
        bail!(
            "{what} would need {bytes} bytes ({}), more than the {} allowed ({why})",
            gib(bytes),
            gib(limit)
        );
    }
    Ok(())
}

/// The schedulers a run builds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Schedulers {
    /// One, over the offline packet buffers.
    Offline,
    /// One per scheduled direction of every worker, over live frames.
    Live { workers: usize, directions: usize },
}

/// Checks the scheduler tables (`flow_table_capacity`, `max_buffered_packets`, `max_burst`)
/// of every scheduler the run builds against the limit.
pub(crate) fn check_scheduler_memory(cfg: &Config, s: &Schedulers) -> anyhow::Result<()> {
    let (one, count) = match *s {
        Schedulers::Offline => (Scheduler::<crate::offline::Pkt>::memory_bytes(cfg), 1),
        Schedulers::Live {
            workers,
            directions,
        } => (
            Scheduler::<reframer_io::Frame>::memory_bytes(cfg),
            (workers * directions) as u64,
        ),
    };
    let what = format!(
        "`flow_table_capacity` = {} with `max_buffered_packets` = {}{}",
        cfg.flow_table_capacity,
        cfg.max_buffered_packets,
        if count > 1 {
            format!(" ({count} schedulers of {one} bytes)")
        } else {
            String::new()
        }
    );
    check_memory(&what, one.saturating_mul(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reframer_io::cli::HARD_MAX_BYTES;

    #[test]
    fn the_limit_is_bounded_and_tables_past_it_are_refused() {
        let (limit, _) = memory_limit();
        assert!(limit > 0 && limit <= HARD_MAX_BYTES);
        let huge = Config {
            flow_table_capacity: reframer_core::MAX_TABLE_LIMIT,
            ..Config::default()
        };
        let e = check_scheduler_memory(&huge, &Schedulers::Offline).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("`flow_table_capacity` = 268435456") && e.contains("GiB"),
            "{e}"
        );
        check_scheduler_memory(&Config::default(), &Schedulers::Offline).unwrap();
        let many = Schedulers::Live {
            workers: 1 << 20,
            directions: 2,
        };
        let e = check_scheduler_memory(&Config::default(), &many).unwrap_err();
        assert!(e.to_string().contains("2097152 schedulers"), "{e}");
    }
}
