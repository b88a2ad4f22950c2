//! The `blacklist` LPM table on the IPv4 destination (1024 entries in the original).

use crate::config::{bail, Result, SwitchError};
use std::net::Ipv4Addr;

/// What a blacklist hit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistAction {
    /// Drop the packet.
    Drop,
    /// Send it whole to this port.
    Send(crate::PortId),
}

/// Longest-prefix match over a few prefixes; entries are kept longest first.
#[derive(Debug, Clone, Default)]
pub struct Blacklist {
    entries: Vec<(u32, u8, BlacklistAction)>,
}

/// Table size of the original.
pub const BLACKLIST_CAPACITY: usize = 1024;

impl Blacklist {
    /// Adds `prefix/len`; host bits are cleared. Fails when the table is full.
    pub fn insert(&mut self, prefix: Ipv4Addr, len: u8, action: BlacklistAction) -> Result<()> {
        if len > 32 {
            bail!("prefix length {len} above 32");
        }
        if self.entries.len() >= BLACKLIST_CAPACITY {
            bail!("blacklist full ({BLACKLIST_CAPACITY} entries)");
        }
        let mask = mask(len);
        let p = u32::from(prefix) & mask;
        self.entries.retain(|&(q, l, _)| !(q == p && l == len));
        let at = self.entries.partition_point(|&(_, l, _)| l >= len);
        self.entries.insert(at, (p, len, action));
        Ok(())
    }

    /// Adds `"a.b.c.d/len"`.
    pub fn insert_str(&mut self, s: &str, action: BlacklistAction) -> Result<()> {
        let (ip, len) = s.split_once('/').unwrap_or((s, "32"));
        let (Ok(ip), Ok(len)) = (ip.trim().parse::<Ipv4Addr>(), len.trim().parse::<u8>()) else {
            bail!("prefix {s:?}: want a.b.c.d/len");
        };
        self.insert(ip, len, action)
    }

    /// The action of the longest matching prefix.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<BlacklistAction> {
        let d = u32::from(dst);
        self.entries
            .iter()
            .find(|&&(p, l, _)| d & mask(l) == p)
            .map(|&(_, _, a)| a)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut b = Blacklist::default();
        b.insert_str("10.0.0.0/8", BlacklistAction::Drop).unwrap();
        b.insert_str("10.0.0.1/32", BlacklistAction::Send(3))
            .unwrap();
        b.insert_str("224.0.0.0/16", BlacklistAction::Drop).unwrap();
        assert_eq!(
            b.lookup(Ipv4Addr::new(10, 0, 0, 1)),
            Some(BlacklistAction::Send(3))
        );
        assert_eq!(
            b.lookup(Ipv4Addr::new(10, 9, 0, 1)),
            Some(BlacklistAction::Drop)
        );
        assert_eq!(
            b.lookup(Ipv4Addr::new(224, 0, 5, 5)),
            Some(BlacklistAction::Drop)
        );
        assert_eq!(b.lookup(Ipv4Addr::new(224, 1, 0, 0)), None);
        assert!(b.insert_str("1.2.3.4/33", BlacklistAction::Drop).is_err());
        assert!(b.insert_str("nonsense", BlacklistAction::Drop).is_err());
    }
}
