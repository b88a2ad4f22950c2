//! The port abstraction every backend implements, port specifications (`afpacket:eth0`), and
//! the counters a port reports.

use std::{fmt, io, os::fd::RawFd, str::FromStr};

use crate::frame::{Frame, FramePool};

/// Receiving half of a port. Batch-oriented: one call moves a burst, never blocks.
pub trait RxPort {
    /// Appends up to `max` received frames to `out`; returns how many.
    fn rx_burst(
        &mut self,
        pool: &mut FramePool,
        out: &mut Vec<Frame>,
        max: usize,
    ) -> io::Result<usize>;

    /// A descriptor that turns readable when frames arrive, for epoll when idle. `None` means
    /// the port can only be polled (the worker then naps briefly instead of sleeping).
    fn rx_fd(&self) -> Option<RawFd>;
}

/// Transmitting half of a port.
pub trait TxPort {
    /// Sends frames from the front of `frames`. Frames that left, or that can never leave (too
    /// big: counted in `tx_dropped`), are removed and recycled into `pool`. Frames still in
    /// `frames` met a full queue: retry them later. Returns the number transmitted.
    fn tx_burst(&mut self, frames: &mut Vec<Frame>, pool: &mut FramePool) -> io::Result<usize>;

    /// True while frames accepted by `tx_burst` still wait in a ring that only moves when
    /// poked (AF_XDP copy mode): the worker keeps polling instead of sleeping.
    fn tx_stalled(&self) -> bool {
        false
    }
}

/// A bidirectional port owned by one worker.
pub trait Port: RxPort + TxPort + Send {
    /// The spec it was opened from, e.g. `afpacket:eth0`.
    fn name(&self) -> &str;
    /// Counters since the port was opened.
    fn counters(&mut self) -> PortCounters;
}

/// Per-port counters. Every frame that does not leave is in one of the drop fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PortCounters {
    /// Frames received and handed to the worker.
    pub rx_packets: u64,
    /// Bytes of those frames.
    pub rx_bytes: u64,
    /// Frames transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Received frames larger than the frame buffer (GRO/LRO/TSO on), dropped.
    pub rx_oversize: u64,
    /// Received frames whose checksum the sender left to offload (TX checksum offload on the
    /// sending host); forwarded as they are, but the receiver will likely drop them.
    pub rx_csum_partial: u64,
    /// Frames the kernel or NIC dropped before we saw them (ring full).
    pub rx_dropped: u64,
    /// Frames that could not be transmitted (error other than a full queue).
    pub tx_dropped: u64,
}

impl PortCounters {
    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &Self) {
        self.rx_packets += o.rx_packets;
        self.rx_bytes += o.rx_bytes;
        self.tx_packets += o.tx_packets;
        self.tx_bytes += o.tx_bytes;
        self.rx_oversize += o.rx_oversize;
        self.rx_csum_partial += o.rx_csum_partial;
        self.rx_dropped += o.rx_dropped;
        self.tx_dropped += o.tx_dropped;
    }
}

/// An open error of port `kind:iface`, with a hint for the usual causes; `caps` names the
/// privileges the kind needs.
pub(crate) fn open_error(kind: &str, iface: &str, caps: &str, e: io::Error) -> io::Error {
    let hint = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => format!(" (needs {caps}: run as root)"),
        Some(libc::ENETDOWN) => " (interface is down: ip link set IFACE up)".to_owned(),
        _ => String::new(),
    };
    io::Error::new(e.kind(), format!("{kind}:{iface}: {e}{hint}"))
}

/// Which backend a port uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    /// Linux AF_PACKET with a TPACKET_V3 receive ring.
    AfPacket,
    /// Linux AF_XDP.
    Xdp,
    /// DPDK ethdev (needs the `dpdk` feature).
    Dpdk,
}

/// A parsed `KIND:NAME` port argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// The backend.
    pub kind: PortKind,
    /// Interface name (afpacket, xdp) or DPDK port id / device name.
    pub name: String,
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            PortKind::AfPacket => "afpacket",
            PortKind::Xdp => "xdp",
            PortKind::Dpdk => "dpdk",
        };
        write!(f, "{k}:{}", self.name)
    }
}

impl FromStr for PortSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (k, name) = s.split_once(':').ok_or_else(|| {
            format!("port `{s}`: expected KIND:NAME, e.g. afpacket:eth0, xdp:eth0 or dpdk:0")
        })?;
        let kind = match k {
            "afpacket" | "af_packet" => PortKind::AfPacket,
            "xdp" | "af_xdp" => PortKind::Xdp,
            "dpdk" => PortKind::Dpdk,
            _ => {
                return Err(format!(
                    "port `{s}`: unknown kind `{k}` (use afpacket, xdp or dpdk)"
                ))
            }
        };
        if name.is_empty() || name.len() > 255 || name.contains(['\0', '/', ' ']) {
            return Err(format!("port `{s}`: bad name `{name}`"));
        }
        Ok(Self {
            kind,
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let p: PortSpec = "afpacket:veth0".parse().unwrap();
        assert_eq!(p.kind, PortKind::AfPacket);
        assert_eq!(p.name, "veth0");
        assert_eq!(p.to_string(), "afpacket:veth0");
        assert_eq!("dpdk:0".parse::<PortSpec>().unwrap().kind, PortKind::Dpdk);
        assert!("eth0"
            .parse::<PortSpec>()
            .unwrap_err()
            .contains("KIND:NAME"));
        assert!("tap:x"
            .parse::<PortSpec>()
            .unwrap_err()
            .contains("unknown kind"));
        assert!("afpacket:".parse::<PortSpec>().is_err());
    }
}
