//! IPv4 header (options are skipped, not interpreted).

use crate::bytes::{arr, split, u16_at, u8_at};
use crate::{Result, WireError};
use std::net::Ipv4Addr;

/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;

/// An IPv4 header without options (`ihl` records the parsed length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Hdr {
    /// Header length in 32-bit words (5 when built here).
    pub ihl: u8,
    /// DSCP and ECN.
    pub tos: u8,
    /// Header plus payload length.
    pub total_len: u16,
    /// Identification (covered by the RoCEv2 ICRC).
    pub ident: u16,
    /// Flags and fragment offset (0x4000 = DF).
    pub flags_frag: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol.
    pub protocol: u8,
    /// Header checksum as found on the wire (builders compute it).
    pub checksum: u16,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

impl Ipv4Hdr {
    /// Length of an option-less header.
    pub const LEN: usize = 20;
    /// Don't-fragment flag.
    pub const DF: u16 = 0x4000;

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl) * 4
    }

    /// Parses the header. Returns it, the raw header bytes (for checksum and ICRC work) and
    /// the payload cut to `total_len` (Ethernet padding dropped).
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8], &[u8])> {
        let vihl = u8_at(b, 0, "IPv4 header")?;
        if vihl >> 4 != 4 {
            return Err(WireError::Unexpected {
                what: "IP version",
                value: u64::from(vihl >> 4),
            });
        }
        let ihl = vihl & 0x0f;
        if ihl < 5 {
            return Err(WireError::Unexpected {
                what: "IPv4 IHL",
                value: u64::from(ihl),
            });
        }
        let hlen = usize::from(ihl) * 4;
        let (raw, _) = split(b, hlen, "IPv4 header")?;
        let total_len = u16_at(raw, 2, "IPv4 total length")?;
        let tl = usize::from(total_len);
        if tl < hlen {
            return Err(WireError::Unexpected {
                what: "IPv4 total length below header length",
                value: u64::from(total_len),
            });
        }
        let (packet, _padding) = split(b, tl, "IPv4 packet (total length)")?;
        let hdr = Self {
            ihl,
            tos: u8_at(raw, 1, "IPv4")?,
            total_len,
            ident: u16_at(raw, 4, "IPv4")?,
            flags_frag: u16_at(raw, 6, "IPv4")?,
            ttl: u8_at(raw, 8, "IPv4")?,
            protocol: u8_at(raw, 9, "IPv4")?,
            checksum: u16_at(raw, 10, "IPv4")?,
            src: Ipv4Addr::from(arr::<4>(raw, 12, "IPv4 src")?),
            dst: Ipv4Addr::from(arr::<4>(raw, 16, "IPv4 dst")?),
        };
        let payload = packet.get(hlen..).unwrap_or_default();
        Ok((hdr, raw, payload))
    }

    /// Appends an option-less header, computing the checksum (the `checksum` and `ihl` fields
    /// are ignored).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.push(0x45);
        out.push(self.tos);
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&self.ident.to_be_bytes());
        out.extend_from_slice(&self.flags_frag.to_be_bytes());
        out.push(self.ttl);
        out.push(self.protocol);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        let sum = checksum(out.get(start..).unwrap_or_default());
        if let Some(c) = out.get_mut(start + 10..start + 12) {
            c.copy_from_slice(&sum.to_be_bytes());
        }
    }
}

/// The Internet checksum (RFC 1071), the workspace's one implementation (reframer-core's
/// `wire::checksum`). Over a header with a valid checksum field it is 0.
pub use reframer_core::wire::checksum::checksum;
