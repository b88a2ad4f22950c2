//! The Ribosome payload-server agent (binary `ribosome-agent`) and a switch-side stand-in
//! (binary `ribosome-peer`) that exercises it over the wire: registration, QP refresh, and
//! parking and fetching payloads with RoCEv2.

pub mod agent;
pub mod peer;
