//! Byte-exact builders and never-panicking, zero-copy parsers for every frame a Ribosome
//! payload server sees: Ethernet, IPv4, UDP 4791, the InfiniBand BTH/RETH/AETH, the RoCEv2
//! ICRC (IPv4 variant), the split trailer and payload tag (original and versioned layouts),
//! and the authenticated registration (0x1234) and QP refresh (0x4321) frames.
//!
//! Parsers take `&[u8]` and return fixed-size `Copy` header structs plus borrowed payload
//! slices; malformed input is a [`WireError`], never a panic (fuzzed in `fuzz/`).

mod bytes;
pub mod contract;
pub mod control;
mod error;
pub mod eth;
pub mod ib;
pub mod icrc;
pub mod ipv4;
pub mod roce;
pub mod selfcheck;
pub mod split;
pub mod udp;

pub use contract::{apply_nf_contract, classify, swap_macs, FrameKind, NfCounts, SPLIT_FLAG};
pub use error::WireError;
pub use eth::{EthHdr, MacAddr};
pub use ib::{Aeth, AethKind, Bth, NakCode, Opcode, Reth};
pub use ipv4::Ipv4Hdr;
pub use roce::{RoceFrame, RoceSpec};
pub use split::{check_fetch, FetchMismatch, PayloadTag, SplitTrailer};
pub use udp::UdpHdr;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, WireError>;
