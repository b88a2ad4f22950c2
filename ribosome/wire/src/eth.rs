//! Ethernet II header (no VLAN: Ribosome never tags).

use crate::bytes::{arr, split, u16_at};
use crate::{Result, WireError};
use std::fmt;
use std::str::FromStr;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The MAC as the original agent serialises it: a u64 with two leading zero bytes.
    pub fn to_u64(self) -> u64 {
        let m = self.0;
        u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
    }

    /// Inverse of [`MacAddr::to_u64`]; the top two bytes are ignored.
    pub fn from_u64(v: u64) -> Self {
        let b = v.to_be_bytes();
        Self([b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = WireError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = WireError::Unexpected {
            what: "MAC address text",
            value: s.len() as u64,
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(bad)?;
            if p.len() != 2 {
                return Err(bad);
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| bad)?;
        }
        if parts.next().is_some() {
            return Err(bad);
        }
        Ok(Self(out))
    }
}

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthHdr {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// EtherType.
    pub ethertype: u16,
}

impl EthHdr {
    /// Header length in bytes.
    pub const LEN: usize = 14;

    /// Parses the header; returns it and the rest of the frame.
    pub fn parse(b: &[u8]) -> Result<(Self, &[u8])> {
        let (h, rest) = split(b, Self::LEN, "Ethernet header")?;
        Ok((
            Self {
                dst: MacAddr(arr(h, 0, "Ethernet dst")?),
                src: MacAddr(arr(h, 6, "Ethernet src")?),
                ethertype: u16_at(h, 12, "EtherType")?,
            },
            rest,
        ))
    }

    /// Appends the 14 header bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst.0);
        out.extend_from_slice(&self.src.0);
        out.extend_from_slice(&self.ethertype.to_be_bytes());
    }
}
