//! A minimal nanosecond-resolution pcap writer (magic 0xa1b23c4d, LINKTYPE_ETHERNET).
//! Frames are written with their real IP total length and wire length but truncated to the
//! header bytes we keep (like a capture with a snap length), so multi-million-packet traces stay
//! small; `--full` pads each frame with zero payload to its wire length instead.

use super::frame::ETH_LEN;
use super::Trace;
use reframer_core::wire::checksum::{checksum, checksum_with};
use std::io::{self, Write};

pub fn write<W: Write>(trace: &Trace, full: bool, out: W) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    w.write_all(&0i32.to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?;
    w.write_all(&65535u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())?;
    let zeros = [0u8; 2048];
    for i in 0..trace.pkts.len() {
        let f = trace.frame(i);
        let mut b = f.as_ref().to_vec();
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
            fix_l4_for_full(&mut b, wire);
        }
        let t = trace.pkts[i].t_ns;
        let cap = if full { wire } else { b.len() };
        w.write_all(&((t / 1_000_000_000) as u32).to_le_bytes())?;
        w.write_all(&((t % 1_000_000_000) as u32).to_le_bytes())?;
        w.write_all(&(cap as u32).to_le_bytes())?;
        w.write_all(&(wire as u32).to_le_bytes())?;
        w.write_all(&b)?;
        if full {
            let mut pad = wire - b.len();
            while pad > 0 {
                let n = pad.min(zeros.len());
                w.write_all(&zeros[..n])?;
                pad -= n;
            }
        }
    }
    w.flush()
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
    let c = checksum_with(&b[l4..], super::frame::pseudo_sum(src, dst, proto, l4_len));
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
