//! The Ribosome Tofino program (`p4/`), its control-plane generator, and the consistency
//! checks that tie the P4 sources to the Rust crates.
//!
//! - [`deploy`]: the cluster file (via `ribosome_switch::LoadedSwitch`) plus `[tofino]`.
//! - [`config_header`]: `p4/include/config.p4` from the cluster file.
//! - [`setup_script`]: the bfrt_python control plane from the cluster file.
//! - [`p4src`], [`expr`]: a small reader for the P4 declarations the checks need.
//! - [`layouts`], [`facts`]: the Rust side, derived from ribosome-wire / ribosome-switch.
//! - [`consistency`]: the comparisons.
//! - [`sources`]: the committed P4 files, embedded.
//! - [`error`]: the library's [`Error`].

pub mod config_header;
pub mod consistency;
pub mod deploy;
pub mod error;
pub mod expr;
pub mod facts;
pub mod layouts;
pub mod p4src;
pub mod setup_script;
pub mod sources;

pub use error::{Error, Result};
