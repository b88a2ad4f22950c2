//! The errors of the live mode, in two kinds the binary tells apart: a [`ConfigError`] is
//! found while flags and the `[live]` section are resolved, before any traffic (a usage error:
//! the binary exits 2); a [`RunError`] comes from running (ports, pinning, threads, the
//! metrics listener, the stats CSV, a worker: exit 1).
//!
//! Every message is one line and names the flag, key or port. An OS error is part of the
//! message and not a `source()`, so an error chain prints it once.

use std::{io, net::SocketAddr, path::PathBuf};

use reframer_io::PortSpec;

/// A flag or `[live]` setting that cannot be used (the binary's usage error, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A bump in the wire needs two ports.
    #[error("live mode needs exactly two ports (--port A --port B or [live] ports), got {0}")]
    PortCount(usize),
    /// The NF host (`--ribosome`) needs one port or two.
    #[error(
        "the live NF host (--ribosome) takes one port (one-armed: --port A) or two \
         (--port A --port B), got {0}"
    )]
    NfHostPortCount(usize),
    /// A port that does not parse as `KIND:NAME` (the message names it).
    #[error("{0}")]
    Port(String),
    /// Both ports are the same.
    #[error(
        "--port: both ports are {port}; give two different ports{}",
        if *.nf_contract { " (or one, for a one-armed NF host)" } else { "" }
    )]
    SamePorts {
        /// The port given twice.
        port: PortSpec,
        /// Whether one port would do (the NF host).
        nf_contract: bool,
    },
    /// `--passthrough` on one port.
    #[error("--passthrough needs two ports (one-armed, there is one direction)")]
    PassthroughOneArmed,
    /// A core list that does not parse (the message names `--cores`).
    #[error("{0}")]
    Cores(String),
    /// A duration that is not a positive number of seconds.
    #[error("{setting} must be a positive number of seconds, got {value}")]
    Duration {
        /// `--duration` or `[live] duration_s`.
        setting: &'static str,
        /// What was given.
        value: f64,
    },
    /// Any other setting out of range; the message starts with its section or flag.
    #[error("{setting} {why}")]
    Setting {
        /// `[live]`, `[live.afpacket]` or `[live.xdp]`.
        setting: &'static str,
        /// What is wrong, starting with the key.
        why: String,
    },
}

/// A port that could not be opened (the message names it).
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Opening or starting the port failed; reframer-io's message names the port.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A `dpdk:` port in a build without DPDK.
    #[error(
        "{0}: this reframer was built without DPDK; rebuild with \
         `cargo build --release --features dpdk` (needs libdpdk-dev >= 22.11)"
    )]
    NoDpdk(PortSpec),
    /// A `dpdk:` port whose device was not started.
    #[error("{0}: not started")]
    NotStarted(PortSpec),
}

/// Why one worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The scheduler settings are invalid.
    #[error("scheduler settings: {0}")]
    Scheduler(reframer_core::ConfigError),
    /// A worker takes one port or two.
    #[error("a worker takes one or two ports, got {0}")]
    PortCount(usize),
    /// The worker thread could not be pinned to its core.
    #[error("pinning worker {worker} to core {core}: {err}")]
    Pin {
        /// The worker.
        worker: usize,
        /// Its `--cores` entry.
        core: usize,
        /// What the OS said.
        err: io::Error,
    },
    /// A port (receive or send) or the poller failed; the message says which.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Why a live run failed after its options were resolved (the binary's runtime error, exit 1).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scheduler settings are invalid.
    #[error("scheduler settings: {0}")]
    Scheduler(reframer_core::ConfigError),
    /// `[live.afpacket] vnet_hdr` with ACK coalescing.
    #[error(
        "[live.afpacket] vnet_hdr and tcp_ack_coalescing cannot be combined: a frame with \
         its checksum left to offload cannot be rewritten in place"
    )]
    VnetHdrAckCoalescing,
    /// The signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(io::Error),
    /// A port could not be opened (by the first worker, or before the workers).
    #[error(transparent)]
    Port(#[from] PortError),
    /// Worker `worker`'s handle on a port could not be opened.
    #[error("worker {worker}: {err}")]
    WorkerPort {
        /// The worker.
        worker: usize,
        /// What failed.
        err: PortError,
    },
    /// `--stats-csv` could not be created or written.
    #[error("--stats-csv {}: {err}", .path.display())]
    StatsCsv {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        err: io::Error,
    },
    /// `--metrics-listen` could not be bound.
    #[error("--metrics-listen {addr}: {err}")]
    MetricsListen {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        err: io::Error,
    },
    /// A thread could not be spawned.
    #[error("spawning {what}: {err}")]
    Spawn {
        /// "a worker thread" or "the metrics thread".
        what: &'static str,
        /// What the OS said.
        err: io::Error,
    },
    /// A worker failed.
    #[error("worker {worker}: {err}")]
    Worker {
        /// The worker.
        worker: usize,
        /// Why it stopped.
        err: WorkerError,
    },
    /// A worker panicked.
    #[error("worker {0} panicked")]
    WorkerPanicked(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_print_the_os_error_once() {
        let port: PortSpec = "afpacket:a".parse().unwrap();
        let same = |nf_contract| {
            ConfigError::SamePorts {
                port: port.clone(),
                nf_contract,
            }
            .to_string()
        };
        assert_eq!(
            same(false),
            "--port: both ports are afpacket:a; give two different ports"
        );
        assert_eq!(
            same(true),
            "--port: both ports are afpacket:a; give two different ports (or one, for a \
             one-armed NF host)"
        );
        let e = RunError::Worker {
            worker: 1,
            err: WorkerError::Pin {
                worker: 1,
                core: 3,
                err: io::Error::from_raw_os_error(22),
            },
        };
        let text = e.to_string();
        assert!(
            text.starts_with("worker 1: pinning worker 1 to core 3: "),
            "{text}"
        );
        assert_eq!(text.matches("os error 22").count(), 1, "{text}");
        assert!(std::error::Error::source(&e).is_none());
        let e = RunError::StatsCsv {
            path: "/nonexistent/x.csv".into(),
            err: io::Error::from_raw_os_error(2),
        };
        assert!(e
            .to_string()
            .starts_with("--stats-csv /nonexistent/x.csv: "));
        assert!(!e.to_string().contains('\n'));
    }
}
