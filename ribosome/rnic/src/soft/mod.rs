//! The software RC responder.

mod memory;
mod psn;
mod qp;
mod responder;

pub use memory::{Access, MemoryRegion};
pub use psn::{psn_add, psn_cmp, PsnOrder, PSN_MASK};
pub use responder::{Counters, SoftConfig, SoftRnic};
