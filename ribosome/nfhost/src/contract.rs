//! The NF contract of a Ribosome NF host lives in [`ribosome_wire::contract`] (one home for
//! every NF host: `reframer --ribosome` and this crate's in-process pipeline); re-exported
//! here for the crate's modules.

pub use ribosome_wire::contract::{apply_nf_contract, classify, swap_macs, FrameKind};

#[cfg(test)]
mod tests {
    use super::*;
    use reframer_core::frames::FrameSpec;
    use ribosome_switch::{Out, Switch, SwitchConfig};

    #[test]
    fn whole_packets_from_the_switch_model_are_whole() {
        let mut sw = Switch::new(SwitchConfig::new(1, vec![0])).unwrap();
        let mut out = Out::new();
        let pkt = FrameSpec::udp([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 1, 2, 10).build();
        sw.process(0, &pkt, 0, &mut out);
        let mut whole = out.pop().unwrap().1;
        assert_eq!(apply_nf_contract(&mut whole), FrameKind::Whole);
    }
}
