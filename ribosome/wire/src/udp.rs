//! UDP header.

use crate::bytes::{split, u16_at};
use crate::Result;

/// The RoCEv2 destination port.
pub const ROCE_V2_PORT: u16 = 4791;

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHdr {
    /// Source port (RoCEv2 uses it for ECMP entropy).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Header plus data length.
    pub length: u16,
    /// Checksum; RoCEv2 over IPv4 sends 0.
    pub checksum: u16,
}

impl UdpHdr {
    /// Header length in bytes.
    pub const LEN: usize = 8;

    /// Parses the header; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (h, rest) = split(b, Self::LEN, "UDP header")?;
        Ok((
            Self {
                src_port: u16_at(h, 0, "UDP")?,
                dst_port: u16_at(h, 2, "UDP")?,
                length: u16_at(h, 4, "UDP")?,
                checksum: u16_at(h, 6, "UDP")?,
            },
            rest,
        ))
    }

    /// Appends the 8 header bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for v in [self.src_port, self.dst_port, self.length, self.checksum] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}
