//! The P4 reader and the checks take any text (`p4-split check --p4-dir DIR` reads whatever is
//! there): corrupted sources give findings or an error, never a panic.

mod common;

use p4_split::consistency::check_all;
use p4_split::p4src::{Program, SourceFile};
use proptest::prelude::*;

/// The committed sources with one file cut, spliced and overwritten at random places.
fn corrupted(file: usize, cuts: &[(usize, usize, String)]) -> Vec<SourceFile> {
    let mut files = p4_split::sources::committed();
    let i = file % files.len();
    let mut text = std::mem::take(&mut files[i].text).into_bytes();
    for (at, len, with) in cuts {
        let at = at % (text.len() + 1);
        let end = (at + len).min(text.len());
        text.splice(at..end, with.bytes());
    }
    files[i].text = String::from_utf8_lossy(&text).into_owned();
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn corrupted_sources_never_panic(
        file in 0usize..64,
        cuts in prop::collection::vec(
            (any::<usize>(), 0usize..40, "[ -~\\n{}<>;:=()\\[\\]]{0,12}"),
            1..6,
        ),
    ) {
        let d = common::deployment();
        let files = corrupted(file, &cuts);
        // Either an error or a list of findings; both are fine, a panic is not.
        let _ = Program::parse(&files);
        let _ = check_all(&files, &d);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let files = [SourceFile { path: "x.p4".into(), text }];
        if let Ok(p) = Program::parse(&files) {
            let _ = p4_split::consistency::check_sources(&p);
        }
    }
}
