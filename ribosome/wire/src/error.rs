//! One error type for every parser and builder.

/// Why a frame could not be parsed or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends before the named structure does.
    #[error("{what}: truncated, need {need} bytes, have {have}")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field holds a value this parser does not accept.
    #[error("{what}: unexpected value {value:#x}")]
    Unexpected {
        /// The field.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// The frame would not fit its 16-bit length fields.
    #[error("frame too large for its length fields: {0} bytes")]
    TooLarge(usize),
}
