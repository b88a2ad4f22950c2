//! The parser must never panic, and what it reports must lie inside the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reframer_core::wire::{parse, Parsed};

fuzz_target!(|data: &[u8]| {
    if let Parsed::Flow(i) = parse(data) {
        assert!(usize::from(i.l3_off) < usize::from(i.l4_off));
        assert!(usize::from(i.l4_off) + usize::from(i.payload_len) <= data.len());
        let _ = i.key.hash64();
    }
});
