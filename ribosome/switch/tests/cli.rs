//! The `ribosome-switch` binary's errors: a bad cluster file is a one-line error naming the
//! key with status 2 (the same message the agents print for `[servers]`), a port that cannot
//! be opened is a one-line error naming the interface with status 1.

#[path = "../../config/tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

fn switch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ribosome-switch"))
        .args(args)
        .current_dir(support::workspace_root())
        .output()
        .expect("running ribosome-switch")
}

fn one_line_error(o: &Output, code: i32, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("ribosome-switch: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n}: {err}");
    }
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_cluster_values_are_refused_with_the_shared_message() {
    let root = support::workspace_root();
    let text = std::fs::read_to_string(root.join("configs/cluster.toml")).unwrap();
    let bad = std::env::temp_dir().join(format!("switch-cli-{}.toml", std::process::id()));
    for (from, to, want) in ribosome_config::testcases::bad_cluster() {
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let o = switch(&["--config", bad.to_str().unwrap()]);
        one_line_error(&o, 2, &[want, bad.to_str().unwrap()]);
    }
    let _ = std::fs::remove_file(&bad);
    let o = switch(&["--config", "no/such.toml"]);
    one_line_error(&o, 2, &["reading no/such.toml"]);
    let o = switch(&["--config", "configs/cluster.toml", "--iface", "9=x"]);
    one_line_error(&o, 2, &["--iface", "no port 9"]);
}

#[test]
fn a_port_that_cannot_be_opened_is_named() {
    let o = switch(&["--config", "configs/cluster.toml", "--iface", "0=nosuchif0"]);
    one_line_error(&o, 1, &["port 0", "nosuchif0"]);
}
