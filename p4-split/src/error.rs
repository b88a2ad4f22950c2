//! The library's one error type. Everything it reports is found before any output is written
//! (the cluster file, `[tofino]`, the embedded P4 sources, the script template), so the binary
//! exits 2 on it. Every message is one line and names the file, key or P4 name; a wrapped
//! error is shown inline, not also as the `source()`, so an error chain prints it once.

use ribosome_config::ConfigError;
use ribosome_switch::SwitchError;

/// Why a deployment could not be read or a generated file could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster file cannot be read or parsed, or a shared section is invalid.
    #[error(transparent)]
    Cluster(#[from] ConfigError),
    /// The `[switch]` section (the software switch's own checks).
    #[error(transparent)]
    Switch(#[from] SwitchError),
    /// A `[tofino]` setting, or a setting the Tofino program cannot carry out; the message
    /// names the key.
    #[error("{0}")]
    Setting(String),
    /// The P4 sources lack or misdeclare a name the generators need.
    #[error("{0}")]
    P4(String),
    /// The embedded setup-script template and the values disagree (a bug of this crate).
    #[error("{0}")]
    Template(String),
    /// The same, with the cluster file it came from.
    #[error("in {path}: {err}")]
    InFile {
        /// The cluster file.
        path: String,
        /// What is wrong in it.
        err: Box<Self>,
    },
}

/// `Result` of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
