//! Command-line conventions every binary of the project shares: writing to stdout without
//! panicking when its reader is gone, and the memory a run may allocate.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// Prints `<bin>: error: <msg>` as one line on stderr and returns `code` (2 for a usage or
/// configuration error found before any work, 1 for a failure at run time).
pub fn fail(bin: &str, code: u8, msg: impl fmt::Display) -> ExitCode {
    eprintln!("{bin}: error: {}", one_line(&msg.to_string()));
    ExitCode::from(code)
}

/// `text` on one line: its lines trimmed and joined by spaces.
pub fn one_line(text: &str) -> String {
    text.trim()
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes to stdout. A closed stdout (EPIPE: `| head`) ends the process quietly with status
/// 0; any other write error ends it with a one-line error and status 1 (a runtime failure).
/// Use it through [`out!`] and [`outln!`] in place of `print!`/`println!`, which panic on a
/// closed stdout.
///
/// [`out!`]: crate::out
/// [`outln!`]: crate::outln
pub fn write_stdout(args: fmt::Arguments<'_>) {
    let mut o = io::stdout().lock();
    if let Err(e) = o.write_fmt(args) {
        stdout_failed(&e);
    }
}

/// Flushes stdout under the same rules as [`write_stdout`].
pub fn flush_stdout() {
    if let Err(e) = io::stdout().lock().flush() {
        stdout_failed(&e);
    }
}

fn stdout_failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    let bin = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    eprintln!("{bin}: error: writing to stdout: {e}");
    std::process::exit(1);
}

/// `print!` that ends the process quietly (status 0) when stdout is closed.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(::std::format_args!($($arg)*)) };
}

/// `println!` that ends the process quietly (status 0) when stdout is closed.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::write_stdout(::std::format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}

/// Never more than this for one run's tables, whatever the machine.
pub const HARD_MAX_BYTES: u64 = 16 << 30;

/// Physical memory of this machine (`MemTotal` of /proc/meminfo), if known.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What one run (its tables, a demo, a benchmark, a trace) may allocate, and how that bound
/// was found: half of MemTotal, at most [`HARD_MAX_BYTES`] (also the bound where MemTotal
/// cannot be read).
pub fn memory_limit() -> (u64, String) {
    match physical_memory() {
        Some(t) if t / 2 < HARD_MAX_BYTES => (t / 2, format!("half of MemTotal {}", gib(t))),
        _ => (HARD_MAX_BYTES, "the hard maximum".to_owned()),
    }
}

/// A byte count for messages, in GiB with one decimal.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_half_the_memory_at_most_the_hard_maximum() {
        let (limit, why) = memory_limit();
        assert!(limit > 0 && limit <= HARD_MAX_BYTES, "{limit} ({why})");
        if let Some(t) = physical_memory() {
            assert_eq!(limit, (t / 2).min(HARD_MAX_BYTES));
        }
        assert_eq!(gib(3 << 29), "1.5 GiB");
        assert_eq!(one_line(" a\n  b\r\nc \n"), "a b c");
    }
}
