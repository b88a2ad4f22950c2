//! Shared helpers of the p4-split integration tests.
#![allow(dead_code, unreachable_pub)]

use p4_split::deploy::Deployment;
use p4_split::p4src::SourceFile;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed cluster file, loaded.
pub fn deployment() -> Deployment {
    Deployment::load(&root().join("configs/cluster.toml")).expect("configs/cluster.toml loads")
}

/// The committed P4 sources with `from` replaced by `to` in `path` (which must contain it
/// exactly once, so a mutation test cannot silently mutate nothing).
pub fn mutated(path: &str, from: &str, to: &str) -> Vec<SourceFile> {
    let mut files = p4_split::sources::committed();
    let f = files
        .iter_mut()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no P4 file {path}"));
    assert_eq!(f.text.matches(from).count(), 1, "{from:?} in {path}");
    f.text = f.text.replace(from, to);
    files
}

/// Compares `actual` with the committed file `path`, or rewrites it with UPDATE_GOLDEN=1.
pub fn golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).expect("writing golden file");
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert!(
        want == actual,
        "{} differs from the generator's output; if intended, rerun with UPDATE_GOLDEN=1",
        path.display()
    );
}

#[path = "../../../ribosome/config/tests/support/mod.rs"]
mod support;
#[allow(unused_imports)]
pub use support::{skip_or_fail, with_closed_stdout};
