//! A deterministic behavioural model of the Ribosome p4-split switch (NSDI '23), sans-IO:
//! frames in on a port, frames out on ports. It splits large TCP/UDP packets into an RDMA
//! WRITE of the payload to a payload server and a header copy to the NF host, turns each
//! returning header into an RDMA READ, and rebuilds the packet from the READ response.
//!
//! Beyond the original it detects what the original silently corrupts: payloads carry a
//! generation number (versioned tag and trailer), so an overwritten log entry or a reused
//! header slot drops the packet with a counted reason; payload servers that stop answering
//! are taken out of the selector. Every lost packet is counted once in [`Losses`].
//!
//! Constants live in [`consts`]; settings in [`SwitchConfig`].

pub mod config;
pub mod consts;
mod control;
pub mod counters;
pub mod lpm;
mod order;
pub mod packet;
mod pipeline;
mod reassembly;
pub mod selector;
mod split;
mod state;

pub use config::{LoadedSwitch, Overload, PortId, PortRole, SwitchConfig, SwitchError};
pub use counters::{Counters, Losses, WholeReasons};
pub use pipeline::{Out, Switch};
