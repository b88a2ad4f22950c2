//! Incremental Internet checksum update (RFC 1624), used when ACK coalescing rewrites a
//! TCP header: the checksum stays exactly as valid (or as offloaded) as it was.

/// New checksum after one 16-bit word of the covered data changed from `old` to `new`.
pub fn checksum_adjust_u16(csum: u16, old: u16, new: u16) -> u16 {
    // HC' = ~(~HC + ~m + m')
    let mut sum = u32::from(!csum) + u32::from(!old) + u32::from(new);
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    !(sum as u16)
}

/// Same as [`checksum_adjust_u16`] for a 32-bit field (two words).
pub fn checksum_adjust_u32(csum: u16, old: u32, new: u32) -> u16 {
    let c = checksum_adjust_u16(csum, (old >> 16) as u16, (new >> 16) as u16);
    checksum_adjust_u16(c, old as u16, new as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(data: &[u8]) -> u16 {
        let mut sum = 0u32;
        for c in data.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from(c[0]) << 8
            };
            sum += u32::from(w);
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn incremental_matches_full_recompute() {
        let mut data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        let before = full(&data);
        let old = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        let new: u32 = 0xDEAD_BEEF;
        data[8..12].copy_from_slice(&new.to_be_bytes());
        assert_eq!(checksum_adjust_u32(before, old, new), full(&data));
        let old16 = u16::from_be_bytes([data[20], data[21]]);
        data[20..22].copy_from_slice(&0x1234u16.to_be_bytes());
        assert_eq!(
            checksum_adjust_u16(
                full(&{
                    let mut d = data.clone();
                    d[20..22].copy_from_slice(&old16.to_be_bytes());
                    d
                }),
                old16,
                0x1234
            ),
            full(&data)
        );
    }
}
