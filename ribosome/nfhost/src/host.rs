//! The NF host: frames from the switch go through the Reframer scheduler (header frames are
//! scheduled as packets of the flow whose header they carry), then through the NFs and the
//! contract, and back to the switch.

use crate::rewrite::Nat;
use reframer_core::{Config, ConfigError, Scheduler};
use ribosome_wire::NfCounts;

/// Why an NF host could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NfHostError {
    /// The scheduler refused its settings (the message names the key).
    #[error("scheduler settings: {0}")]
    Scheduler(#[from] ConfigError),
}

/// What the NF host saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfStats {
    /// Frames received.
    pub rx: u64,
    /// Frames returned.
    pub tx: u64,
    /// Frames returned, split headers and whole packets.
    pub nf: NfCounts,
    /// Bytes received (what crossed the NF host's link inbound).
    pub rx_bytes: u64,
    /// Frames the scheduler dropped (memory bound), all counted by reason there.
    pub dropped: u64,
}

/// Scheduler plus NFs.
#[derive(Debug)]
pub struct NfHost {
    sched: Scheduler<Vec<u8>>,
    nat: Option<Nat>,
    batch: Vec<Vec<u8>>,
    stats: NfStats,
}

impl NfHost {
    /// A host with scheduler settings `cfg` and an optional NAT. TCP ACK coalescing and
    /// reordering are forced off: a header frame's trailer looks like payload to the parser,
    /// so a coalescer would treat headers as data and must not touch them.
    pub fn new(mut cfg: Config, nat: Option<Nat>) -> Result<Self, NfHostError> {
        cfg.tcp_ack_coalescing = false;
        cfg.tcp_reorder = false;
        Ok(Self {
            sched: Scheduler::new(cfg)?,
            nat,
            batch: Vec::with_capacity(64),
            stats: NfStats::default(),
        })
    }

    /// Counters.
    pub fn stats(&self) -> &NfStats {
        &self.stats
    }

    /// The scheduler (its own counters and state).
    pub fn scheduler(&self) -> &Scheduler<Vec<u8>> {
        &self.sched
    }

    /// Takes one frame from the switch.
    pub fn push(&mut self, frame: Vec<u8>, now: u64) {
        self.stats.rx += 1;
        self.stats.rx_bytes += frame.len() as u64;
        self.sched.push(frame, now);
    }

    /// Earliest time [`Self::poll`] has work, ns.
    pub fn next_deadline(&self) -> Option<u64> {
        self.sched.next_deadline()
    }

    /// Releases due bursts; each frame goes through the NFs and the contract into `out`.
    pub fn poll(&mut self, now: u64, out: &mut Vec<Vec<u8>>) {
        self.sched.poll(now);
        self.drain(out);
    }

    /// Releases everything (end of input).
    pub fn flush(&mut self, now: u64, out: &mut Vec<Vec<u8>>) {
        self.sched.flush(now);
        self.drain(out);
    }

    fn drain(&mut self, out: &mut Vec<Vec<u8>>) {
        while self.sched.pop_discarded().is_some() {
            self.stats.dropped += 1;
        }
        loop {
            self.batch.clear();
            if self.sched.pop_tx_batch(&mut self.batch) == 0 {
                break;
            }
            for mut f in self.batch.drain(..) {
                if let Some(nat) = &self.nat {
                    nat.apply(&mut f);
                }
                self.stats.nf.apply(&mut f);
                self.stats.tx += 1;
                out.push(f);
            }
        }
    }
}
