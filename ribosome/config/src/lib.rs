//! The one reader of the cluster file's `[servers]` section (`configs/cluster.toml`), shared
//! by `ribosome-agent`, `ribosome-switch` and everything that reads the file through the
//! switch (`p4-split`): one serde schema, one [`Servers::validate`], so every binary accepts
//! and refuses the same files with the same one-line message naming the key.
//!
//! Also here: byte sizes ([`size::parse_size`]), section helpers for the other readers
//! ([`cluster`]), and the command-line conventions of the Ribosome binaries ([`cli`]: exit
//! codes, one-line errors, quiet end on a closed stdout).

pub mod cli;
pub mod cluster;
pub mod servers;
pub mod size;
#[doc(hidden)]
pub mod testcases;

pub use cluster::ConfigError;
/// `print!`/`println!` that end quietly on a closed stdout (shared with every binary).
pub use reframer_io::{out, outln};
pub use servers::{ServerEntry, Servers};
