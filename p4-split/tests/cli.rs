//! The built `p4-split` binary: --dry-run prints the golden script and writes nothing,
//! --out writes it, config-header prints the committed header, check passes on the
//! committed sources and fails on a broken copy, errors are one line with status 2 (bad flag
//! or cluster file) or 1 (run time), and a closed stdout ends it quietly.

mod common;

use common::root;
use std::path::PathBuf;
use std::process::{Command, Output};

fn p4_split(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p4-split"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("running p4-split")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("p4-split-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn one_line_error(o: &Output, needle: &str) {
    error_with_status(o, 2, needle);
}

fn error_with_status(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("p4-split: error: ") && err.contains(needle),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn dry_run_prints_the_golden_script_and_writes_nothing() {
    let dir = tmp("dry");
    let out = dir.join("setup.py");
    let o = p4_split(&[
        "setup",
        "--config",
        "configs/cluster.toml",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let golden = std::fs::read(root().join("p4-split/tests/golden/setup.py")).unwrap();
    assert!(
        o.stdout == golden,
        "stdout differs from tests/golden/setup.py"
    );
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
}

#[test]
fn out_writes_the_script() {
    let dir = tmp("out");
    let out = dir.join("setup.py");
    let o = p4_split(&[
        "setup",
        "--config",
        "configs/cluster.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(o.stdout.is_empty());
    let golden = std::fs::read(root().join("p4-split/tests/golden/setup.py")).unwrap();
    assert!(std::fs::read(&out).unwrap() == golden);
}

#[test]
fn config_header_prints_the_committed_header() {
    let o = p4_split(&["config-header", "--config", "configs/cluster.toml"]);
    assert!(o.status.success(), "{o:?}");
    let committed = std::fs::read(root().join("p4-split/p4/include/config.p4")).unwrap();
    assert!(o.stdout == committed);
}

#[test]
fn check_passes_on_the_committed_sources_and_fails_on_a_broken_copy() {
    let o = p4_split(&[
        "check",
        "--config",
        "configs/cluster.toml",
        "--p4-dir",
        "p4-split/p4",
    ]);
    assert!(o.status.success(), "{o:?}");
    let dir = tmp("check");
    for (path, text) in p4_split::sources::FILES {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let text = if *path == "include/headers.p4" {
            text.replace(
                "bit<32> rkey;\n    bit<32> dma_len;",
                "bit<32> rkey;\n    bit<16> dma_len;",
            )
        } else {
            text.to_string()
        };
        std::fs::write(p, text).unwrap();
    }
    let o = p4_split(&[
        "check",
        "--config",
        "configs/cluster.toml",
        "--p4-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("reth_h.dma_len"));
}

#[test]
fn errors_are_one_line_with_status_2() {
    one_line_error(
        &p4_split(&["setup", "--config", "configs/cluster.toml"]),
        "--dry-run",
    );
    one_line_error(
        &p4_split(&["setup", "--config", "no/such.toml", "--dry-run"]),
        "no/such.toml",
    );
    let dir = tmp("err");
    let text = std::fs::read_to_string(root().join("configs/cluster.toml")).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("split_threshold = 64", "split_threshold = 20"),
    )
    .unwrap();
    one_line_error(
        &p4_split(&["config-header", "--config", bad.to_str().unwrap()]),
        "split_threshold >= 40",
    );
    std::fs::write(&bad, "[servers\n").unwrap();
    one_line_error(
        &p4_split(&["setup", "--config", bad.to_str().unwrap(), "--dry-run"]),
        "parsing cluster file",
    );
    let o = p4_split(&[
        "setup",
        "--config",
        "configs/cluster.toml",
        "--out",
        "/nonexistent-dir/x.py",
    ]);
    error_with_status(&o, 1, "writing /nonexistent-dir/x.py");
}

/// Every bad `[servers]` value the agents refuse, and a zero control period, are refused by
/// p4-split too (it reads the file through ribosome-switch), with the same message.
#[test]
fn bad_cluster_values_are_refused_with_the_shared_message() {
    let dir = tmp("servers");
    let text = std::fs::read_to_string(root().join("configs/cluster.toml")).unwrap();
    let bad = dir.join("bad.toml");
    for (from, to, want) in ribosome_config::testcases::bad_cluster() {
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        one_line_error(
            &p4_split(&["setup", "--config", bad.to_str().unwrap(), "--dry-run"]),
            want,
        );
    }
}

/// `p4-split ... | true`: the reader is gone before p4-split writes. No panic, status 0.
#[test]
fn a_closed_stdout_ends_it_quietly() {
    for args in [
        &["setup", "--config", "configs/cluster.toml", "--dry-run"][..],
        &["config-header", "--config", "configs/cluster.toml"][..],
        &["check", "--config", "configs/cluster.toml"][..],
    ] {
        let (code, err) = common::with_closed_stdout(
            std::path::Path::new(env!("CARGO_BIN_EXE_p4-split")),
            args,
            &root(),
        );
        assert!(!err.contains("panic"), "{args:?}: {err}");
        assert_ne!(code, 101, "{args:?}: {err}");
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
    }
}
