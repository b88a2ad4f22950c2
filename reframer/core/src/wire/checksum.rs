//! The Internet checksum, the one implementation of the workspace: the full sum (RFC 1071)
//! that builders and verifiers use, and the incremental update (RFC 1624) used when ACK
//! coalescing, a NAT or a load balancer rewrites header fields: the checksum stays exactly
//! as valid (or as offloaded) as it was.

/// One's-complement sum of `data` as 16-bit big-endian words (an odd last byte is padded
/// with a zero), added to the partial sum `acc` and folded to 16 bits, not inverted. A
/// region with a valid checksum field sums to `0xFFFF`.
pub fn ones_sum(data: &[u8], acc: u32) -> u32 {
    let mut sum = u64::from(acc);
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u32
}

/// The checksum field value for `data` (its checksum field zeroed) plus an already-summed
/// `partial` (a pseudo-header, see [`pseudo_header_sum`]).
pub fn checksum_with(data: &[u8], partial: u32) -> u16 {
    !(ones_sum(data, partial) as u16)
}

/// The Internet checksum of `data` (RFC 1071). Over a header whose checksum field is valid
/// it is 0.
pub fn checksum(data: &[u8]) -> u16 {
    checksum_with(data, 0)
}

/// Partial sum of the TCP/UDP pseudo-header: both addresses (4 or 16 bytes each), the
/// protocol and the L4 length (header and payload).
pub fn pseudo_header_sum(src: &[u8], dst: &[u8], proto: u8, l4_len: u32) -> u32 {
    let len = (l4_len >> 16) + (l4_len & 0xFFFF);
    ones_sum(dst, ones_sum(src, u32::from(proto) + len))
}

/// New checksum after one 16-bit word of the covered data changed from `old` to `new`
/// (RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`).
pub fn checksum_adjust_u16(csum: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!csum) + u32::from(!old) + u32::from(new);
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    !(sum as u16)
}

/// Same as [`checksum_adjust_u16`] for a 32-bit field (two words, e.g. an IPv4 address or a
/// TCP sequence number).
pub fn checksum_adjust_u32(csum: u16, old: u32, new: u32) -> u16 {
    let c = checksum_adjust_u16(csum, (old >> 16) as u16, (new >> 16) as u16);
    checksum_adjust_u16(c, old as u16, new as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook algorithm, word by word into a wide sum, as a reference.
    fn naive(data: &[u8]) -> u16 {
        let mut sum = 0u64;
        for (i, b) in data.iter().enumerate() {
            sum += if i % 2 == 0 {
                u64::from(*b) << 8
            } else {
                u64::from(*b)
            };
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_example_and_a_valid_header_sums_to_ones() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_sum(&data, 0), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
        let mut hdr = [
            0x45u8, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 1, 2, 3, 192, 168, 7, 9,
        ];
        let c = checksum(&hdr);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(ones_sum(&hdr, 0), 0xFFFF);
        assert_eq!(checksum(&hdr), 0);
    }

    #[test]
    fn large_inputs_do_not_overflow_the_sum() {
        let data = vec![0xFFu8; 300_000];
        assert_eq!(checksum(&data), naive(&data));
        assert_eq!(ones_sum(&data, u32::MAX), ones_sum(&data, 0xFFFF));
    }

    #[test]
    fn pseudo_header_is_the_sum_of_its_bytes() {
        let src = [10, 1, 2, 3];
        let dst = [192, 168, 7, 9];
        let mut p = Vec::new();
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&[0, 17, 0x01, 0x23]);
        assert_eq!(pseudo_header_sum(&src, &dst, 17, 0x123), ones_sum(&p, 0));
        let v6 = [0xFEu8; 16];
        let mut p = v6.repeat(2);
        p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 6]); // 32-bit length 0x10000, next header 6
        assert_eq!(pseudo_header_sum(&v6, &v6, 6, 0x1_0000), ones_sum(&p, 0));
    }

    proptest::proptest! {
        #[test]
        fn full_sum_agrees_with_the_naive_reference(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            split in 0usize..600,
        ) {
            proptest::prop_assert_eq!(checksum(&data), naive(&data));
            // A partial sum carried over an even split point gives the same result.
            let at = (split.min(data.len())) & !1;
            proptest::prop_assert_eq!(
                checksum_with(&data[at..], ones_sum(&data[..at], 0)),
                naive(&data)
            );
        }

        #[test]
        fn incremental_update_equals_full_recompute(
            mut data in proptest::collection::vec(proptest::num::u8::ANY, 8..200),
            at in 0usize..200,
            new16 in proptest::num::u16::ANY,
            new32 in proptest::num::u32::ANY,
        ) {
            // Word-aligned fields, as in every header the workspace rewrites.
            let at = (at % (data.len() - 3)) & !1;
            let before = checksum(&data);
            let old16 = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new16.to_be_bytes());
            let after16 = checksum(&data);
            let inc16 = checksum_adjust_u16(before, old16, new16);
            // 0x0000 and 0xFFFF are the same number in one's complement: an update may
            // give either where the full sum gives the other only for an all-zero sum.
            proptest::prop_assert!(inc16 == after16 || (inc16 ^ after16 == 0xFFFF && ones_sum(&data, 0) % 0xFFFF == 0));
            let old32 = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            data[at..at + 4].copy_from_slice(&new32.to_be_bytes());
            let inc32 = checksum_adjust_u32(after16, old32, new32);
            let after32 = checksum(&data);
            proptest::prop_assert!(inc32 == after32 || (inc32 ^ after32 == 0xFFFF && ones_sum(&data, 0) % 0xFFFF == 0));
        }
    }
}
