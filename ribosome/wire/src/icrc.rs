//! The RoCEv2 invariant CRC for IPv4 (IBA Annex A17.3.3; the recipe of Linux `rxe_icrc.c`).
//!
//! CRC-32 (IEEE, as zlib) over: 8 bytes of 0xFF standing for the masked LRH, the IPv4 header
//! with TOS, TTL and checksum set to all ones, the UDP header with its checksum set to all
//! ones, the BTH with its FECN/BECN/reserved byte set to all ones, then every byte up to the
//! ICRC. The four ICRC bytes go on the wire least-significant byte first.

use crate::bytes::split;
use crate::ib::Bth;
use crate::ipv4::Ipv4Hdr;
use crate::udp::UdpHdr;
use crate::{Result, WireError};

/// Length of the ICRC trailer.
pub const ICRC_LEN: usize = 4;

/// Computes the ICRC over `ip_packet`: the bytes from the first IPv4 header byte up to (not
/// including) the ICRC itself.
pub fn icrc_ipv4(ip_packet: &[u8]) -> Result<[u8; ICRC_LEN]> {
    let ihl = ip_packet
        .first()
        .map(|b| usize::from(b & 0x0f) * 4)
        .unwrap_or(0);
    if ihl < Ipv4Hdr::LEN {
        return Err(WireError::Unexpected {
            what: "IPv4 IHL for ICRC",
            value: ihl as u64,
        });
    }
    let masked_len = ihl + UdpHdr::LEN + Bth::LEN;
    let (head, rest) = split(ip_packet, masked_len, "ICRC-covered headers")?;
    // At most 60 + 8 + 12 bytes: a stack copy keeps the input untouched.
    let mut m = [0u8; 80];
    let m = m.get_mut(..masked_len).unwrap_or_default();
    m.copy_from_slice(head);
    let mask = |m: &mut [u8], i: usize| {
        if let Some(b) = m.get_mut(i) {
            *b = 0xff;
        }
    };
    for i in [1, 8, 10, 11] {
        mask(m, i); // TOS, TTL, header checksum
    }
    for i in [ihl + 6, ihl + 7] {
        mask(m, i); // UDP checksum
    }
    mask(m, ihl + UdpHdr::LEN + Bth::ICRC_MASKED_BYTE);
    let mut h = crc32fast::Hasher::new();
    h.update(&[0xff; 8]);
    h.update(m);
    h.update(rest);
    Ok(h.finalize().to_le_bytes())
}
