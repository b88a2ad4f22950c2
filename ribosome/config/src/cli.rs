//! The command-line conventions of every Ribosome binary: exit 2 for a usage or
//! configuration error found before any work starts, exit 1 for a failure at run time; the
//! error is one line on stderr, `<binary>: error: <what>`. Output written to a closed stdout
//! (`| head`, a reader that exited) ends the program quietly with status 0.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit status of a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of a failure at run time.
pub const EXIT_RUNTIME: u8 = 1;

/// Prints `<bin>: error: <msg>` as one line on stderr and returns `code`.
pub fn fail(bin: &str, code: u8, msg: impl fmt::Display) -> ExitCode {
    eprintln!(
        "{bin}: error: {}",
        crate::cluster::one_line(&msg.to_string())
    );
    ExitCode::from(code)
}

/// Writes to stdout. A closed stdout (EPIPE) ends the process quietly with status 0; any
/// other write error ends it with a one-line error and status 1. Use it through [`out!`]
/// and [`outln!`] in place of `print!`/`println!`, which panic on a closed stdout.
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
    std::process::exit(i32::from(EXIT_RUNTIME));
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

/// A byte count for messages ("3.0 GiB (3221225472 bytes)").
pub fn bytes(n: u128) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    format!("{:.1} GiB ({n} bytes)", n as f64 / GIB)
}

/// Refuses a size-like flag whose allocation would exceed `limit` bytes: the error names
/// the flag and the bytes it would need.
pub fn check_alloc(
    flag: &str,
    value: impl fmt::Display,
    needs: u128,
    limit: u128,
) -> Result<(), String> {
    if needs > limit {
        return Err(format!(
            "{flag} {value}: would need {} of memory, more than the {} allowed",
            bytes(needs),
            bytes(limit)
        ));
    }
    Ok(())
}

/// Physical memory of this machine (`MemTotal` of /proc/meminfo), if known.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What one in-process run (demo, benchmark, trace generation) may allocate: half the
/// physical memory (8 GiB where it is unknown).
pub fn alloc_limit() -> u128 {
    u128::from(physical_memory().unwrap_or(16 << 30) / 2)
}
