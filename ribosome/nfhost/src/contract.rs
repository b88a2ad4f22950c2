//! The NF contract of a Ribosome NF host: recognise split header frames, swap MACs (the
//! returning destination-MAC flag is what marks "split" for the switch), keep the trailer
//! and every length as they are.

use ribosome_switch::consts::SPLIT_FLAG;
use ribosome_switch::packet::{self, Parsed};
use ribosome_wire::SplitTrailer;

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

/// Classifies a frame as it arrives from the switch (before the MAC swap): the source MAC's
/// last byte is the split flag and a trailer must follow the L4 header.
pub fn classify(frame: &[u8]) -> FrameKind {
    if frame.get(11) != Some(&SPLIT_FLAG) {
        return FrameKind::Whole;
    }
    let Parsed::L4(p) = packet::parse(frame) else {
        return FrameKind::Whole;
    };
    match frame.get(p.payload_off()..).map(SplitTrailer::parse) {
        Some(Ok((trailer, _))) => FrameKind::Split {
            trailer,
            trailer_off: p.payload_off(),
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

/// The one call an NF host needs per frame it returns to the switch: classifies the frame
/// (as received) and applies the contract (MAC swap; trailer and lengths untouched). Header
/// rewrites by NFs must come before it and use incremental checksum updates
/// ([`crate::rewrite`]).
pub fn apply_nf_contract(frame: &mut [u8]) -> FrameKind {
    let kind = classify(frame);
    swap_macs(frame);
    kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use reframer_core::frames::FrameSpec;
    use ribosome_switch::{Out, Switch, SwitchConfig};

    fn header_frame() -> Vec<u8> {
        // Build a real header copy with the switch model: register nothing, so craft the
        // trailer by hand in the switch's layout.
        let mut f = FrameSpec::udp([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 1, 2, 0).build();
        f[11] = SPLIT_FLAG;
        SplitTrailer {
            remote_va: 0x1000,
            length: 108,
            qp_index: 3,
            server_index: 0,
            pad_count: 0,
            header_slot: 9,
            generation: Some(77),
        }
        .write_to(&mut f);
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
        let mut sw = Switch::new(SwitchConfig::new(1, vec![0])).unwrap();
        let mut out = Out::new();
        let pkt = FrameSpec::udp([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 1, 2, 10).build();
        sw.process(0, &pkt, 0, &mut out);
        let mut whole = out.pop().unwrap().1;
        assert_eq!(apply_nf_contract(&mut whole), FrameKind::Whole);
        // A split flag without a trailer is not trusted as a header.
        let mut fake = pkt.clone();
        fake[11] = SPLIT_FLAG;
        assert_eq!(classify(&fake), FrameKind::Whole);
        for n in 0..20 {
            let mut short = vec![1u8; n];
            assert_eq!(apply_nf_contract(&mut short), FrameKind::Whole);
        }
    }
}
