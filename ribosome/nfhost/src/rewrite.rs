//! Header-rewriting NFs for split frames. The NF sees neither the payload nor (for the
//! L4 checksum) anything it covers beyond the header, so checksums must be updated
//! incrementally (RFC 1624) from the old field values, never recomputed.

use reframer_core::wire::checksum::{checksum_adjust_u16, checksum_adjust_u32};
use ribosome_switch::packet::{self, Parsed, PROTO_UDP};
use std::net::Ipv4Addr;

/// A destination NAT: rewrites the IPv4 destination and L4 destination port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nat {
    /// New destination address.
    pub to_ip: Ipv4Addr,
    /// New destination port.
    pub to_port: u16,
}

fn get16(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

impl Nat {
    /// Rewrites a TCP/UDP IPv4 frame (split header or whole) in place; other frames are left
    /// alone. Returns whether it rewrote.
    pub fn apply(&self, f: &mut [u8]) -> bool {
        let Parsed::L4(p) = packet::parse(f) else {
            return false;
        };
        let ip = 14;
        let l4 = ip + 20;
        let old_ip = u32::from(p.flow.dst);
        let new_ip = u32::from(self.to_ip);
        let ip_c = checksum_adjust_u32(get16(f, ip + 10), old_ip, new_ip);
        put16(f, ip + 10, ip_c);
        f[ip + 16..ip + 20].copy_from_slice(&self.to_ip.octets());
        let c_at = if p.flow.proto == PROTO_UDP {
            l4 + 6
        } else {
            l4 + 16
        };
        let old_c = get16(f, c_at);
        if p.flow.proto == PROTO_UDP && old_c == 0 {
            // No UDP checksum: nothing to update.
        } else {
            let mut c = checksum_adjust_u32(old_c, old_ip, new_ip);
            c = checksum_adjust_u16(c, p.flow.dport, self.to_port);
            if p.flow.proto == PROTO_UDP && c == 0 {
                c = 0xffff;
            }
            put16(f, c_at, c);
        }
        put16(f, l4 + 2, self.to_port);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reframer_core::frames::{l4_checksum_ok, FrameSpec};
    use std::net::IpAddr;

    #[test]
    fn nat_keeps_checksums_valid_incrementally() {
        let a = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
        for mut f in [
            FrameSpec::udp(a, b, 1000, 53, 333).build(),
            FrameSpec::tcp(a, b, 1000, 80, 7, 9, 0x18, &[5u8; 100]).build(),
        ] {
            let nat = Nat {
                to_ip: Ipv4Addr::new(192, 0, 2, 77),
                to_port: 8080,
            };
            assert!(nat.apply(&mut f));
            assert!(l4_checksum_ok(&f));
            assert_eq!(ribosome_wire::ipv4::checksum(&f[14..34]), 0);
            assert_eq!(&f[30..34], &[192, 0, 2, 77]);
        }
    }
}
