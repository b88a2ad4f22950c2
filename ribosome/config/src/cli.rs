//! The command-line conventions of every Ribosome binary: exit 2 for a usage or
//! configuration error found before any work starts, exit 1 for a failure at run time; the
//! error is one line on stderr, `<binary>: error: <what>`. Output written to a closed stdout
//! (`| head`, a reader that exited) ends the program quietly with status 0, and size-like
//! flags are bounded, both through the project-wide [`reframer_io::cli`].

use std::fmt;

/// Exit status of a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of a failure at run time.
pub const EXIT_RUNTIME: u8 = 1;

pub use reframer_io::cli::{fail, flush_stdout, physical_memory, write_stdout};

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

/// What one in-process run (demo, benchmark, trace generation) may allocate: the one bound
/// every binary applies ([`reframer_io::cli::memory_limit`]).
pub fn alloc_limit() -> u128 {
    u128::from(reframer_io::cli::memory_limit().0)
}
