//! E5's cluster-scale model of a Ribosome deployment at 100G: a discrete-event simulation of
//! the switch's port queues, the payload servers' links, and the NF host's link and cores, fed
//! with per-packet byte counts from our wire/switch crates ([`sizes`]) and per-frame NF costs
//! measured on this machine in the same run ([`cost`]). Two cores cannot carry 300 Gb/s, so
//! the shape of the paper's Figs 5-8 is reproduced by simulation, not by measurement.

pub mod cost;
pub mod event;
pub mod link;
pub mod nf_host;
pub mod scenario;
pub mod sim;
pub mod sizes;

pub use scenario::{Mode, Outcome, Resource, Scenario};
pub use sim::run;
