//! The 5-tuple flow key (IPv4 and IPv6) and its hash.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Source/destination address, ports and protocol. 40 bytes, compared as plain bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct FlowKey {
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    proto: u8,
    is_v6: bool,
    _pad: [u8; 2],
}

/// Set in every `rest` word of [`FlowKey::packed`] (in a byte that is padding in the key).
pub(crate) const PACKED_USED: u64 = u64::from_ne_bytes([0, 0, 0, 0, 0, 0, 1, 0]);

/// Fixed seeds: the hash (and so the flow-to-core steering and the table layout) is the
/// same on every run, which keeps the offline mode deterministic. A plain static (the
/// constructor is `const`), so hashing pays no lazy-initialisation check.
static HASHER: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
);

impl FlowKey {
    /// An IPv4 5-tuple.
    #[inline]
    pub fn v4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, proto: u8) -> Self {
        // Each address as one 16-byte value (the four bytes, then zeros): written with one
        // store, so the hash's 8-byte reads right after parsing are forwarded from it instead
        // of stalling on a 4-byte store over a zeroed line (`perf annotate`: the first
        // instruction after `parse` held a tenth of the scheduler's samples).
        let wide = |a: [u8; 4]| u128::from(u32::from_le_bytes(a)).to_le_bytes();
        Self {
            src: wide(src),
            dst: wide(dst),
            sport,
            dport,
            proto,
            is_v6: false,
            _pad: [0; 2],
        }
    }

    /// An IPv6 5-tuple.
    pub fn v6(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, proto: u8) -> Self {
        Self {
            src,
            dst,
            sport,
            dport,
            proto,
            is_v6: true,
            _pad: [0; 2],
        }
    }

    /// Source address.
    pub fn src(&self) -> IpAddr {
        self.addr(&self.src)
    }

    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        self.addr(&self.dst)
    }

    fn addr(&self, a: &[u8; 16]) -> IpAddr {
        if self.is_v6 {
            IpAddr::V6(Ipv6Addr::from(*a))
        } else {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        }
    }

    /// Source port.
    pub fn sport(&self) -> u16 {
        self.sport
    }

    /// Destination port.
    pub fn dport(&self) -> u16 {
        self.dport
    }

    /// IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// The key as a flow-table slot holds it inline: `(addrs, rest)`. `addrs` is the two IPv4
    /// addresses (for IPv6 only their first bytes: the full key lives beside the table);
    /// `rest` the ports, protocol, family and a set pad byte ([`PACKED_USED`]), never 0, so 0
    /// can mark an empty slot. Adjacent fields packed in memory order: a few plain loads.
    #[inline(always)]
    pub(crate) fn packed(&self) -> (u64, u64) {
        let [a, b, c, d, ..] = self.src;
        let [e, f, g, h, ..] = self.dst;
        let [s0, s1] = self.sport.to_ne_bytes();
        let [d0, d1] = self.dport.to_ne_bytes();
        let rest = [s0, s1, d0, d1, self.proto, u8::from(self.is_v6), 0, 0];
        (
            u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
            u64::from_ne_bytes(rest) | PACKED_USED,
        )
    }

    /// Whether a `rest` word of [`Self::packed`] is of an IPv6 key.
    #[inline(always)]
    pub(crate) fn packed_is_v6(rest: u64) -> bool {
        rest.to_ne_bytes()[5] != 0
    }

    /// 64-bit ahash of the tuple with fixed seeds.
    #[inline]
    pub fn hash64(&self) -> u64 {
        let mut h = HASHER.build_hasher();
        h.write(&self.src);
        h.write(&self.dst);
        h.write_u64(
            u64::from(self.sport) << 24
                | u64::from(self.dport) << 8
                | u64::from(self.proto)
                | u64::from(self.is_v6) << 40,
        );
        h.finish()
    }
}

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{} proto {}",
            self.src(),
            self.sport,
            self.dst(),
            self.dport,
            self.proto
        )
    }
}
