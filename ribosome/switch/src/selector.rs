//! The `qp_mapping` ActionSelector: a CRC16 hash of the 5-tuple picks one of the active
//! members; member k is (QP k, server k / qps_per_server). Member status is how the control
//! plane steers flows away from overloaded or dead servers.

use std::net::Ipv4Addr;

/// The fields the selector hashes, in the P4 field-list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// IPv4 source.
    pub src: Ipv4Addr,
    /// IPv4 destination.
    pub dst: Ipv4Addr,
    /// IP protocol.
    pub proto: u8,
    /// L4 source port.
    pub sport: u16,
    /// L4 destination port.
    pub dport: u16,
}

impl FiveTuple {
    /// `Hash<bit<16>>(HashAlgorithm_t.CRC16)` over src, dst, proto, sport, dport.
    pub fn crc16(&self) -> u16 {
        let mut b = [0u8; 13];
        b[..4].copy_from_slice(&self.src.octets());
        b[4..8].copy_from_slice(&self.dst.octets());
        b[8] = self.proto;
        b[9..11].copy_from_slice(&self.sport.to_be_bytes());
        b[11..13].copy_from_slice(&self.dport.to_be_bytes());
        crc16(&b)
    }
}

/// CRC-16 as Tofino's `CRC16`: polynomial 0x8005, reflected, init 0, no final xor
/// (CRC-16/ARC; check value 0xBB3D over "123456789").
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// One selector group with per-member status.
#[derive(Debug, Clone)]
pub struct Selector {
    enabled: Vec<bool>,
    active: Vec<u16>,
}

impl Selector {
    /// `members` members, all active.
    pub fn new(members: usize) -> Self {
        let mut s = Self {
            enabled: vec![true; members],
            active: Vec::new(),
        };
        s.rebuild();
        s
    }

    fn rebuild(&mut self) {
        self.active = (0..self.enabled.len() as u16)
            .filter(|&m| self.enabled[usize::from(m)])
            .collect();
    }

    /// The member for `hash` among the active ones (FAIR: hash modulo the active count);
    /// `None` when none is active.
    pub fn select(&self, hash: u16) -> Option<u16> {
        let n = self.active.len();
        (n > 0).then(|| self.active[usize::from(hash) % n])
    }

    /// Sets a range of members' status.
    pub fn set_range(&mut self, members: std::ops::Range<usize>, on: bool) {
        let end = members.end.min(self.enabled.len());
        for m in members.start.min(end)..end {
            self.enabled[m] = on;
        }
        self.rebuild();
    }

    /// Members active now.
    pub fn active_count(&self) -> usize {
        self.active.len()
    }

    /// Whether member `m` is active.
    pub fn is_active(&self, m: usize) -> bool {
        self.enabled.get(m).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_arc_check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn flows_stick_and_move_only_off_disabled_members() {
        let mut s = Selector::new(8);
        assert_eq!(s.select(13), Some(5));
        s.set_range(4..8, false);
        assert_eq!(s.active_count(), 4);
        for h in 0..100u16 {
            assert!(s.select(h).unwrap() < 4);
        }
        s.set_range(0..4, false);
        assert_eq!(s.select(1), None);
        s.set_range(0..8, true);
        assert_eq!(s.select(13), Some(5));
    }
}
