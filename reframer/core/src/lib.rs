//! Sans-IO core of Reframer, the traffic-locality scheduler ("Packet Order Matters!",
//! NSDI '22; FastClick's `SFMaker`), done so that it can be tested on a virtual clock.
//!
//! - [`wire`]: zero-copy, panic-free classification of Ethernet/VLAN/IPv4/IPv6/TCP/UDP into a
//!   5-tuple [`wire::FlowKey`] or a bypass reason.
//! - [`Scheduler`]: holds each flow's packets for at most [`Config::delay_ns`] from the first
//!   packet of its window and releases them as one burst, in window order. No I/O, no clock
//!   reads: every call takes `now` in nanoseconds.
//! - [`Stats`]: plain counters, hold-time histogram and locality (SLF) meters.
//! - [`Scheduler::advance_to`]: runs every deadline up to a time and hands out what it
//!   released (offline replay, the demo, the evaluation's virtual clock).
//!
//! ```
//! use reframer_core::{Config, Scheduler};
//! let mut s: Scheduler<Vec<u8>> = Scheduler::new(Config::default()).unwrap();
//! s.push(vec![0u8; 60], 0); // not IP: passed through at once
//! let mut out = Vec::new();
//! assert_eq!(s.pop_tx_batch(&mut out), 1);
//! ```
#![warn(missing_docs)]
#![deny(unsafe_code)]

mod ack_coalesce;
mod config;
mod drive;
mod flow_table;
pub mod frames;
mod locality;
mod packet_slab;
pub mod rng;
mod scheduler;
pub mod stats;
mod sys;
mod window_ring;
pub mod wire;

pub use config::{Config, ConfigError, Priority, MAX_BURST_LIMIT, MAX_DELAY_NS, MAX_TABLE_LIMIT};
pub use scheduler::{BurstHint, BurstInfo, Scheduler};
pub use stats::{ByReason, BypassReason, DropReason, FlushReason, Locality, Stats};
pub use sys::prefetch;
