//! The cluster file as TOML tables, and its sections deserialized with one-line errors.

use serde::de::DeserializeOwned;
use std::path::Path;

/// A cluster file that cannot be read, parsed or validated. Every message is one line and
/// names the file, the section or the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file (or a file it names, such as the key file) cannot be read.
    #[error("reading {path}: {err}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said (shown once: it is not also the error's source).
        err: std::io::Error,
    },
    /// Not TOML, or a section does not match its schema (unknown or mistyped key).
    #[error("{0}")]
    Parse(String),
    /// A key holds a value that is out of range or malformed.
    #[error("{key}: {why}")]
    Invalid {
        /// The key, as `section.key`.
        key: String,
        /// What is wrong with it.
        why: String,
    },
}

impl ConfigError {
    /// An invalid value of `key`.
    pub fn invalid(key: impl Into<String>, why: impl std::fmt::Display) -> Self {
        Self::Invalid {
            key: key.into(),
            why: why.to_string(),
        }
    }
}

/// Reads a file to a string; the error names it.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
        path: path.display().to_string(),
        err,
    })
}

/// Parses the text of a cluster file into its top-level table.
pub fn parse(text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let msg = one_line(e.message());
        ConfigError::Parse(match line {
            Some(l) => format!("parsing cluster file: line {l}: {msg}"),
            None => format!("parsing cluster file: {msg}"),
        })
    })
}

/// Section `name` of `table` deserialized as `T`, or `None` where the file has none.
pub fn section<T: DeserializeOwned>(
    table: &toml::Table,
    name: &str,
) -> Result<Option<T>, ConfigError> {
    let Some(v) = table.get(name) else {
        return Ok(None);
    };
    v.clone()
        .try_into()
        .map(Some)
        .map_err(|e: toml::de::Error| {
            ConfigError::Parse(format!("[{name}]: {}", one_line(e.message())))
        })
}

pub use reframer_io::cli::one_line;
