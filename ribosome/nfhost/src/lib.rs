//! The NF-host side of a Ribosome cluster, as a library: classify split header frames vs
//! whole packets ([`contract`], re-exported from `ribosome_wire::contract`), schedule them with the Reframer scheduler ([`host`]), apply
//! the NF contract (MAC swap, trailer kept) with optional header-rewriting NFs that update
//! checksums incrementally ([`rewrite`]). [`sim`] wires a switch model, soft payload servers
//! and this host together in-process on a virtual clock (tests, demo, benchmark). The live NF
//! host is `reframer --ribosome --port ...`.

#[cfg(feature = "sim")]
pub mod bench;
pub mod contract;
pub mod host;
pub mod rewrite;
#[cfg(feature = "sim")]
pub mod sim;
pub mod traffic;

pub use contract::{apply_nf_contract, classify, swap_macs, FrameKind};
pub use host::{NfHost, NfStats};
pub use rewrite::Nat;
