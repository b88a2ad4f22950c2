//! The RDMA side of a Ribosome payload server behind one trait, [`RdmaTransport`], with two
//! backends:
//!
//! - [`soft`]: a user-space RC responder implementing exactly what Ribosome asks of an RNIC
//!   (one-sided WRITE and READ with rkey/bounds checks, PSN tracking with 24-bit wrap, NAKs,
//!   duplicates, READ segmentation, an outstanding-READ cap, optional ICRC check). Its core is
//!   sans-IO ([`soft::SoftRnic`]); on an interface it is driven through
//!   [`RdmaTransport::on_frame`] by the agent's loop over a reframer-io port.
//! - [`verbs`]: rdma-sys (libibverbs): device discovery, PD, MR, RC QPs driven
//!   RESET->INIT->RTR->RTS with the destination QPN set to the switch-side global index.
//!
//! `unsafe` lives only in `verbs::sys` (libibverbs).

pub mod soft;
pub mod verbs;

/// Payload memory registered for remote access, as announced in a MEM info frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryInfo {
    /// Base virtual address the peer uses in RETHs.
    pub va: u64,
    /// Remote key.
    pub rkey: u32,
    /// Length in bytes.
    pub len: u64,
}

/// Why a transport operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Payload memory larger than this host can address.
    #[error("memory size {0} too large")]
    MemoryTooLarge(u64),
    /// No local QP with this number.
    #[error("no QP {0:#x}")]
    NoSuchQp(u32),
    /// No usable RDMA device, port or GID (the message names it).
    #[error("{0}")]
    Device(String),
    /// A libibverbs call failed (the message names the call or state).
    #[error("{0}")]
    Verbs(String),
}

/// What a payload-server agent needs from an RDMA device, real or emulated.
pub trait RdmaTransport: Send {
    /// Backend name for logs ("soft" or "verbs").
    fn backend(&self) -> &'static str;

    /// Registers `len` bytes of zeroed payload memory with remote READ and WRITE access.
    fn register_memory(&mut self, len: u64) -> Result<MemoryInfo, TransportError>;

    /// Creates an RC QP connected to the switch-side QP `dest_qpn` and brings it to RTS with
    /// PSNs 0. Returns the local QP number.
    fn create_qp(&mut self, dest_qpn: u32) -> Result<u32, TransportError>;

    /// Resets QP `qpn` (RESET->INIT->RTR->RTS, PSNs 0, same destination) after a NAK or loss.
    fn reset_qp(&mut self, qpn: u32) -> Result<(), TransportError>;

    /// Offers one received Ethernet frame. A software responder answers RoCEv2 requests by
    /// calling `tx` for each reply frame; hardware backends ignore it (the NIC already did).
    fn on_frame(&mut self, frame: &[u8], tx: &mut dyn FnMut(&[u8]));
}

/// The MAC address of `iface`, from sysfs.
pub fn interface_mac(iface: &str) -> std::io::Result<ribosome_wire::MacAddr> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/address"))?;
    text.trim().parse().map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{iface} MAC: {e}"))
    })
}
