#![no_main]
//! Every ribosome-wire parser on arbitrary bytes: no panic, and parsed values re-encode.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = ribosome_wire::selfcheck::check_all_parsers(data) {
        panic!("{e}");
    }
});
