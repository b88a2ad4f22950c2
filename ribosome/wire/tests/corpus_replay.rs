//! Replays the committed fuzz corpus (`fuzz/corpus/parse_any`) through the fuzz target's
//! checks on stable Rust, so CI exercises the fuzz entry point without nightly.

#[test]
fn committed_corpus_parses_without_panic_and_round_trips() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_any");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = ribosome_wire::selfcheck::check_all_parsers(&data) {
            panic!("{}: {e}", path.display());
        }
        // Every prefix too: truncation is the commonest malformation.
        for cut in 0..data.len() {
            if let Err(e) = ribosome_wire::selfcheck::check_all_parsers(&data[..cut]) {
                panic!("{} cut at {cut}: {e}", path.display());
            }
        }
        n += 1;
    }
    assert!(n >= 30, "corpus has only {n} files");
}
