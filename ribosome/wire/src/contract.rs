//! The NF contract of a Ribosome NF host: recognise split header frames, swap MACs (the
//! returning destination-MAC flag is what marks "split" for the switch), keep the trailer
//! and every length as they are.
//!
//! Used by every NF host of the project: `reframer --ribosome` (offline and live) and the
//! in-process pipeline of `ribosome-nfhost`. Never panics, never allocates.

use crate::SplitTrailer;

/// Last byte of the source MAC of a header copy ("split" flag); read back as the last byte
/// of the destination MAC once the NF has swapped MACs.
pub const SPLIT_FLAG: u8 = 0x01;

/// What a frame from the switch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A split header: Eth + IPv4 + TCP/UDP header + trailer; the payload is parked remotely.
    Split {
        /// The trailer (where the payload is; the NF must return it unchanged).
        trailer: SplitTrailer,
        /// Offset of the trailer (end of the L4 header).
        trailer_off: usize,
    },
    /// A whole packet (small, not TCP/UDP, or its QP was not usable).
    Whole,
}

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const UDP_LEN: usize = 8;

fn be16(f: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]))
}

/// End of the TCP/UDP header of an Ethernet II / IPv4 (no options, no fragment) frame, with
/// the switch pipeline's parser limits; `None` for anything else.
fn l4_payload_off(f: &[u8]) -> Option<usize> {
    if be16(f, 12)? != crate::eth::ETHERTYPE_IPV4 || *f.get(ETH_LEN)? != 0x45 {
        return None;
    }
    let total = usize::from(be16(f, ETH_LEN + 2)?);
    if total < IPV4_LEN || ETH_LEN + total > f.len() || be16(f, ETH_LEN + 6)? & 0x3fff != 0 {
        return None;
    }
    let l4 = ETH_LEN + IPV4_LEN;
    let l4_hdr_len = match *f.get(ETH_LEN + 9)? {
        crate::ipv4::PROTO_UDP => UDP_LEN,
        crate::ipv4::PROTO_TCP => usize::from(*f.get(l4 + 12)? >> 4) * 4,
        _ => return None,
    };
    (l4_hdr_len >= UDP_LEN && IPV4_LEN + l4_hdr_len <= total).then_some(l4 + l4_hdr_len)
}

/// Classifies a frame as it arrives from the switch (before the MAC swap): the source MAC's
/// last byte is the split flag and a trailer must follow the L4 header.
pub fn classify(frame: &[u8]) -> FrameKind {
    if frame.get(11) != Some(&SPLIT_FLAG) {
        return FrameKind::Whole;
    }
    let Some(off) = l4_payload_off(frame) else {
        return FrameKind::Whole;
    };
    match frame.get(off..).map(SplitTrailer::parse) {
        Some(Ok((trailer, _))) => FrameKind::Split {
            trailer,
            trailer_off: off,
        },
        _ => FrameKind::Whole,
    }
}

/// Swaps destination and source MAC (FastClick `EtherMirror`). Frames shorter than an
/// Ethernet header are left alone.
pub fn swap_macs(frame: &mut [u8]) {
    if let Some(h) = frame.get_mut(..12) {
        let (d, s) = h.split_at_mut(6);
        d.swap_with_slice(s);
    }
}

/// Frames an NF host returned under the contract, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NfCounts {
    /// Split header frames (a trailer behind the L4 header), returned with it intact.
    pub split: u64,
    /// Whole packets.
    pub whole: u64,
}

impl NfCounts {
    /// [`apply_nf_contract`] on `frame`, counted.
    #[inline]
    pub fn apply(&mut self, frame: &mut [u8]) -> FrameKind {
        let kind = apply_nf_contract(frame);
        match kind {
            FrameKind::Split { .. } => self.split += 1,
            FrameKind::Whole => self.whole += 1,
        }
        kind
    }

    /// Adds another host's (or worker's) counts.
    pub fn merge(&mut self, o: &Self) {
        self.split += o.split;
        self.whole += o.whole;
    }
}

/// The one call an NF host needs per frame it returns to the switch: classifies the frame
/// (as received) and applies the contract (MAC swap; trailer and lengths untouched). Header
/// rewrites by NFs must come before it and use incremental checksum updates.
pub fn apply_nf_contract(frame: &mut [u8]) -> FrameKind {
    let kind = classify(frame);
    swap_macs(frame);
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eth + IPv4 + UDP with `payload` bytes (the workspace's frame builder).
    fn udp(payload: usize) -> Vec<u8> {
        reframer_core::frames::FrameSpec::udp(
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            1,
            2,
            payload,
        )
        .build()
    }

    /// A header copy as the switch sends it: the flag, the UDP header, then the trailer.
    fn header_frame() -> Vec<u8> {
        let t = SplitTrailer {
            remote_va: 0x1000,
            length: 108,
            qp_index: 3,
            server_index: 0,
            pad_count: 0,
            header_slot: 9,
            generation: Some(77),
        };
        let mut f = udp(0);
        f[11] = SPLIT_FLAG;
        t.write_to(&mut f);
        let total = (IPV4_LEN + UDP_LEN + t.len()) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        f
    }

    #[test]
    fn header_frames_are_split_and_keep_the_trailer_after_the_contract() {
        let mut f = header_frame();
        let before = f.clone();
        match apply_nf_contract(&mut f) {
            FrameKind::Split {
                trailer,
                trailer_off,
            } => {
                assert_eq!(trailer.generation, Some(77));
                assert_eq!(trailer_off, 42);
            }
            FrameKind::Whole => panic!("not classified as split"),
        }
        assert_eq!(&f[..6], &before[6..12]);
        assert_eq!(&f[6..12], &before[..6]);
        assert_eq!(f[5], SPLIT_FLAG, "the flag the switch reads on return");
        assert_eq!(&f[12..], &before[12..]);
    }

    #[test]
    fn whole_packets_and_junk_are_whole() {
        let mut whole = udp(10);
        assert_eq!(apply_nf_contract(&mut whole), FrameKind::Whole);
        // A split flag without a trailer is not trusted as a header.
        let mut fake = udp(10);
        fake[11] = SPLIT_FLAG;
        assert_eq!(classify(&fake), FrameKind::Whole);
        // Nor one whose IPv4 header is not the pipeline's (options, fragment, other protocol).
        for (at, v) in [(14, 0x46), (20, 0x20), (23, 1)] {
            let mut f = header_frame();
            f[at] = v;
            assert_eq!(classify(&f), FrameKind::Whole, "byte {at} = {v:#x}");
        }
        for n in 0..64 {
            let mut short = header_frame();
            short.truncate(n);
            let before = short.clone();
            assert_eq!(apply_nf_contract(&mut short), FrameKind::Whole);
            if n < 12 {
                assert_eq!(short, before, "shorter than an Ethernet header: untouched");
            }
        }
    }
}
