//! Per-QP responder state.

use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;

/// Responder side of an RC QP.
#[derive(Debug, Clone)]
pub(crate) struct Qp {
    pub(crate) qpn: u32,
    pub(crate) dest_qpn: u32,
    /// Bumped on every reset so queued replies of the old incarnation are dropped.
    pub(crate) epoch: u32,
    pub(crate) error: bool,
    pub(crate) epsn: u32,
    pub(crate) msn: u32,
    /// A sequence-error NAK was sent; later out-of-order packets are dropped silently until
    /// the expected PSN arrives.
    pub(crate) nak_pending: bool,
    pub(crate) write: Option<WriteCtx>,
    pub(crate) outstanding_reads: u32,
}

/// An RDMA WRITE First..Last in progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteCtx {
    pub(crate) region: usize,
    pub(crate) offset: usize,
    pub(crate) remaining: usize,
}

/// Where replies go: the requester's addresses taken from the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    pub(crate) mac: MacAddr,
    pub(crate) ip: Ipv4Addr,
}

impl Qp {
    pub(crate) fn new(qpn: u32, dest_qpn: u32) -> Self {
        Self {
            qpn,
            dest_qpn,
            epoch: 0,
            error: false,
            epsn: 0,
            msn: 0,
            nak_pending: false,
            write: None,
            outstanding_reads: 0,
        }
    }

    /// RESET->INIT->RTR->RTS: PSNs and MSN back to 0, error cleared, old replies voided.
    pub(crate) fn reset(&mut self) {
        let epoch = self.epoch.wrapping_add(1);
        *self = Self::new(self.qpn, self.dest_qpn);
        self.epoch = epoch;
    }
}
