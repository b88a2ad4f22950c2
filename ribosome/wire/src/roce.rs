//! Whole RoCEv2 frames: Ethernet + IPv4 + UDP 4791 + BTH [+ RETH | AETH] + payload + ICRC.

use crate::bytes::{arr, split};
use crate::eth::{EthHdr, MacAddr, ETHERTYPE_IPV4};
use crate::ib::{Aeth, Bth, Reth};
use crate::icrc::{icrc_ipv4, ICRC_LEN};
use crate::ipv4::{Ipv4Hdr, PROTO_UDP};
use crate::udp::{UdpHdr, ROCE_V2_PORT};
use crate::{Result, WireError};
use std::net::Ipv4Addr;

/// Everything needed to build one RoCEv2 frame, except the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoceSpec {
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination.
    pub dst_ip: Ipv4Addr,
    /// IPv4 identification.
    pub ip_ident: u16,
    /// IPv4 DSCP/ECN.
    pub tos: u8,
    /// IPv4 TTL.
    pub ttl: u8,
    /// UDP source port (entropy).
    pub udp_src_port: u16,
    /// The BTH.
    pub bth: Bth,
    /// RETH, for WRITE First/Only and READ Request.
    pub reth: Option<Reth>,
    /// AETH, for ACK and READ Response First/Last/Only.
    pub aeth: Option<Aeth>,
}

/// Fixed overhead of a frame with neither RETH nor AETH, ICRC included.
pub const BASE_OVERHEAD: usize = EthHdr::LEN + Ipv4Hdr::LEN + UdpHdr::LEN + Bth::LEN + ICRC_LEN;

impl RoceSpec {
    /// Appends the whole frame to `out`: headers with correct lengths and IPv4 checksum, UDP
    /// checksum 0, the payload, the BTH pad bytes (zeros), and the ICRC (computed if
    /// `with_icrc`, else four zero bytes, as Ribosome's switch sends).
    pub fn write_to(&self, payload: &[u8], with_icrc: bool, out: &mut Vec<u8>) -> Result<()> {
        let ext = self.reth.map_or(0, |_| Reth::LEN) + self.aeth.map_or(0, |_| Aeth::LEN);
        let pad = usize::from(self.bth.pad_count & 3);
        let udp_len = UdpHdr::LEN + Bth::LEN + ext + payload.len() + pad + ICRC_LEN;
        let ip_len = Ipv4Hdr::LEN + udp_len;
        let ip_len16 = u16::try_from(ip_len).map_err(|_| WireError::TooLarge(ip_len))?;
        let start = out.len();
        EthHdr {
            dst: self.dst_mac,
            src: self.src_mac,
            ethertype: ETHERTYPE_IPV4,
        }
        .write_to(out);
        let ip_start = out.len();
        Ipv4Hdr {
            ihl: 5,
            tos: self.tos,
            total_len: ip_len16,
            ident: self.ip_ident,
            flags_frag: Ipv4Hdr::DF,
            ttl: self.ttl,
            protocol: PROTO_UDP,
            checksum: 0,
            src: self.src_ip,
            dst: self.dst_ip,
        }
        .write_to(out);
        UdpHdr {
            src_port: self.udp_src_port,
            dst_port: ROCE_V2_PORT,
            length: udp_len as u16,
            checksum: 0,
        }
        .write_to(out);
        self.bth.write_to(out);
        if let Some(r) = self.reth {
            r.write_to(out);
        }
        if let Some(a) = self.aeth {
            a.write_to(out);
        }
        out.extend_from_slice(payload);
        out.extend_from_slice(&[0u8; 3][..pad]);
        let icrc = if with_icrc {
            match icrc_ipv4(out.get(ip_start..).unwrap_or_default()) {
                Ok(c) => c,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        } else {
            [0; ICRC_LEN]
        };
        out.extend_from_slice(&icrc);
        Ok(())
    }

    /// Convenience: the frame as a new vector.
    pub fn to_bytes(&self, payload: &[u8], with_icrc: bool) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(BASE_OVERHEAD + 20 + payload.len());
        self.write_to(payload, with_icrc, &mut v)?;
        Ok(v)
    }
}

/// A parsed RoCEv2 frame borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoceFrame<'a> {
    /// Ethernet header.
    pub eth: EthHdr,
    /// IPv4 header.
    pub ip: Ipv4Hdr,
    /// UDP header.
    pub udp: UdpHdr,
    /// Base transport header.
    pub bth: Bth,
    /// RETH when the opcode carries one.
    pub reth: Option<Reth>,
    /// AETH when the opcode carries one.
    pub aeth: Option<Aeth>,
    /// Payload without BTH pad bytes.
    pub payload: &'a [u8],
    /// The ICRC as found on the wire.
    pub icrc: [u8; ICRC_LEN],
    covered: &'a [u8],
}

impl<'a> RoceFrame<'a> {
    /// Parses an Ethernet frame. Fails unless it is IPv4/UDP to port 4791 with consistent
    /// lengths and room for the extension headers and ICRC.
    pub fn parse(frame: &'a [u8]) -> Result<Self> {
        let (eth, rest) = EthHdr::parse(frame)?;
        if eth.ethertype != ETHERTYPE_IPV4 {
            return Err(WireError::Unexpected {
                what: "EtherType (want IPv4)",
                value: u64::from(eth.ethertype),
            });
        }
        let (ip, _ip_raw, ip_payload) = Ipv4Hdr::parse(rest)?;
        if ip.protocol != PROTO_UDP {
            return Err(WireError::Unexpected {
                what: "IP protocol (want UDP)",
                value: u64::from(ip.protocol),
            });
        }
        if ip.flags_frag & 0x3fff != 0 {
            return Err(WireError::Unexpected {
                what: "IPv4 fragment",
                value: u64::from(ip.flags_frag),
            });
        }
        let ip_packet = rest.get(..usize::from(ip.total_len)).unwrap_or_default();
        let (udp, udp_rest) = UdpHdr::parse(ip_payload)?;
        if udp.dst_port != ROCE_V2_PORT {
            return Err(WireError::Unexpected {
                what: "UDP destination port (want 4791)",
                value: u64::from(udp.dst_port),
            });
        }
        if usize::from(udp.length) != ip_payload.len() {
            return Err(WireError::Unexpected {
                what: "UDP length vs IPv4 payload",
                value: u64::from(udp.length),
            });
        }
        let (bth, mut r) = Bth::parse(udp_rest)?;
        let mut reth = None;
        let mut aeth = None;
        if bth.opcode.has_reth() {
            let (h, more) = Reth::parse(r)?;
            reth = Some(h);
            r = more;
        }
        if bth.opcode.has_aeth() {
            let (h, more) = Aeth::parse(r)?;
            aeth = Some(h);
            r = more;
        }
        let body_len = r.len().checked_sub(ICRC_LEN).ok_or(WireError::Truncated {
            what: "ICRC",
            need: ICRC_LEN,
            have: r.len(),
        })?;
        let (body, icrc) = split(r, body_len, "ICRC")?;
        let pad = usize::from(bth.pad_count);
        let payload = body
            .get(..body.len().wrapping_sub(pad))
            .filter(|_| pad <= body.len())
            .ok_or(WireError::Unexpected {
                what: "BTH pad count exceeds payload",
                value: pad as u64,
            })?;
        let covered_len = ip_packet.len().saturating_sub(ICRC_LEN);
        Ok(Self {
            eth,
            ip,
            udp,
            bth,
            reth,
            aeth,
            payload,
            icrc: arr(icrc, 0, "ICRC")?,
            covered: ip_packet.get(..covered_len).unwrap_or_default(),
        })
    }

    /// Recomputes the ICRC and compares it with the one on the wire.
    pub fn icrc_valid(&self) -> bool {
        icrc_ipv4(self.covered).is_ok_and(|c| c == self.icrc)
    }
}
