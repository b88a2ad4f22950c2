//! Internet checksum (RFC 1071) and its incremental update (RFC 1624), used to build valid frames
//! and by the NAT and load balancer when they rewrite addresses and ports.

/// One's-complement sum of 16-bit big-endian words, folded but not inverted.
pub fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    fold(acc)
}

fn fold(mut acc: u32) -> u32 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc
}

/// The checksum field value for `data` (with its checksum field zeroed) plus a partial sum.
pub fn finish(data: &[u8], acc: u32) -> u16 {
    !(sum16(data, acc) as u16)
}

/// RFC 1624 eqn. 3: new checksum after one 16-bit word changes from `old` to `new`.
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    let acc = u32::from(!check) + u32::from(!old) + u32::from(new);
    !(fold(acc) as u16)
}

/// Incremental update for a 32-bit field (an IPv4 address).
pub fn update32(check: u16, old: u32, new: u32) -> u16 {
    let c = update16(check, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_update_matches_full_recompute() {
        let mut hdr = [
            0x45u8, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 1, 2, 3, 192, 168, 7, 9,
        ];
        let c = finish(&hdr, 0);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(sum16(&hdr, 0), 0xFFFF, "a valid header sums to all ones");
        let old = u32::from_be_bytes([10, 1, 2, 3]);
        let new = u32::from_be_bytes([100, 64, 0, 17]);
        let inc = update32(c, old, new);
        hdr[12..16].copy_from_slice(&new.to_be_bytes());
        hdr[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(inc, finish(&hdr, 0));
    }
}
