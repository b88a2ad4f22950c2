//! Ethernet II with stacked 802.1Q / 802.1ad tags.

use super::be16;

/// IPv4 EtherType.
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
/// IPv6 EtherType.
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_8021Q: u16 = 0x8100;
const ETHERTYPE_8021AD: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// Sentinel returned when more tags are stacked than we walk (never a real EtherType here).
pub(crate) const ETHERTYPE_VLAN_OVERFLOW: u16 = 0xFFFF;
/// Bound on stacked VLAN tags: QinQ is 2; more is treated as malformed.
pub(crate) const MAX_VLAN_TAGS: usize = 4;
const HEADER_LEN: usize = 14;

/// Returns the inner EtherType and the offset of the L3 header.
#[inline]
pub(crate) fn payload(frame: &[u8]) -> Option<(u16, usize)> {
    if frame.len() < HEADER_LEN {
        return None;
    }
    let mut ethertype = be16(frame, 12)?;
    let mut off = HEADER_LEN;
    let mut tags = 0;
    while matches!(
        ethertype,
        ETHERTYPE_8021Q | ETHERTYPE_8021AD | ETHERTYPE_QINQ_OLD
    ) {
        if tags == MAX_VLAN_TAGS {
            return Some((ETHERTYPE_VLAN_OVERFLOW, off));
        }
        ethertype = be16(frame, off + 2)?;
        off += 4;
        tags += 1;
    }
    Some((ethertype, off))
}
