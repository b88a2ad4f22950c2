//! A trace as a nanosecond pcap, written with reframer-io's pcap writer. Frames are written
//! with their real IP total length and wire length but truncated to the header bytes we keep
//! (like a capture with a snap length), so multi-million-packet traces stay small; `--full`
//! pads each frame with zero payload to its wire length instead.

use super::frame::ETH_LEN;
use super::Trace;
use reframer_core::wire::checksum::{checksum, checksum_with};
use reframer_io::pcap::PcapWriter;
use std::io::{self, Write};
use std::path::Path;

pub fn write<W: Write>(trace: &Trace, full: bool, out: W) -> io::Result<()> {
    let mut w = PcapWriter::from_writer(io::BufWriter::new(out), Path::new("trace"))
        .map_err(io::Error::other)?;
    let mut b = Vec::with_capacity(2048);
    for i in 0..trace.pkts.len() {
        let f = trace.frame(i);
        b.clear();
        b.extend_from_slice(f.as_ref());
        let wire = usize::from(f.wire_len);
        // Real IP length on the wire; the L4 checksum then covers payload we do not store, so it is
        // only valid with `full` (zero payload adds nothing to the sum, but the pseudo-header
        // length changes): recompute it there.
        let ip_total = (wire - ETH_LEN) as u16;
        b[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&ip_total.to_be_bytes());
        b[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&[0, 0]);
        let c = checksum(&b[ETH_LEN..ETH_LEN + 20]);
        b[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&c.to_be_bytes());
        if b[ETH_LEN + 9] == 17 {
            let udp_len = (wire - ETH_LEN - 20) as u16;
            b[ETH_LEN + 24..ETH_LEN + 26].copy_from_slice(&udp_len.to_be_bytes());
        }
        if full {
            b.resize(wire, 0);
            fix_l4_for_full(&mut b, wire);
        }
        w.write_snapped(trace.pkts[i].t_ns, &b, wire)
            .map_err(io::Error::other)?;
    }
    w.into_inner().map_err(io::Error::other)?;
    Ok(())
}

/// Recomputes the L4 checksum for a frame padded with zeros to `wire` bytes.
fn fix_l4_for_full(b: &mut [u8], wire: usize) {
    let l4 = ETH_LEN + 20;
    let proto = b[ETH_LEN + 9];
    let l4_len = (wire - l4) as u16;
    let at = if proto == 6 { 16 } else { 6 };
    b[l4 + at..l4 + at + 2].copy_from_slice(&[0, 0]);
    let src = u32::from_be_bytes([b[26], b[27], b[28], b[29]]);
    let dst = u32::from_be_bytes([b[30], b[31], b[32], b[33]]);
    let c = checksum_with(
        &b[l4..wire],
        super::frame::pseudo_sum(src, dst, proto, l4_len),
    );
    b[l4 + at..l4 + at + 2].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::motivation;

    #[test]
    fn writes_header_and_records() {
        let t = motivation::generate(3, 2, 1, 1000, 1);
        let mut buf = Vec::new();
        write(&t, false, &mut buf).unwrap();
        assert_eq!(&buf[0..4], &0xa1b2_3c4du32.to_le_bytes());
        assert_eq!(&buf[20..24], &1u32.to_le_bytes(), "Ethernet");
        // 24-byte file header + 6 records of (16 + 42) bytes (UDP frames).
        assert_eq!(buf.len(), 24 + 6 * (16 + 42));
        let orig = u32::from_le_bytes(buf[24 + 12..24 + 16].try_into().unwrap());
        assert_eq!(orig, 1000);
        let mut full = Vec::new();
        write(&t, true, &mut full).unwrap();
        assert_eq!(full.len(), 24 + 6 * (16 + 1000));
        let first = &full[24 + 16..24 + 16 + 1000];
        assert!(crate::trace::frame::checksums_valid(first));
    }
}
