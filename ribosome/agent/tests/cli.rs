//! The `ribosome-agent` binary's errors: a bad cluster file is a one-line error naming the
//! key with status 2 (the same message as every other reader of the file), a missing
//! interface is a one-line error naming it with status 1.

#[path = "../../config/tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ribosome-agent"))
        .args(args)
        .current_dir(support::workspace_root())
        .output()
        .expect("running ribosome-agent")
}

fn one_line_error(o: &Output, code: i32, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("ribosome-agent: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n}: {err}");
    }
}

#[test]
fn bad_servers_values_are_refused_with_the_shared_message() {
    let root = support::workspace_root();
    let text = std::fs::read_to_string(root.join("configs/cluster.toml")).unwrap();
    let bad = std::env::temp_dir().join(format!("agent-cli-{}.toml", std::process::id()));
    for (from, to, want) in ribosome_config::testcases::BAD_SERVERS {
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let o = agent(&["--config", bad.to_str().unwrap(), "--server-index", "0"]);
        one_line_error(&o, 2, &[want, bad.to_str().unwrap()]);
    }
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn bad_flags_are_usage_errors() {
    let base = ["--server-index", "0", "--iface", "lo", "--ip", "127.0.0.1"];
    let o = agent(&[&base[..], &["--insecure-no-auth", "--memory", "lots"]].concat());
    one_line_error(&o, 2, &["--memory", "lots"]);
    let o = agent(&[&base[..], &["--insecure-no-auth", "--enable-timer", "5-1"]].concat());
    one_line_error(&o, 2, &["--enable-timer", "min above max"]);
    let o = agent(&[&base[..], &["--insecure-no-auth", "--memory", "1024GiB"]].concat());
    one_line_error(&o, 2, &["--memory", "bytes"]);
    let o = agent(&base);
    one_line_error(&o, 2, &["no control key"]);
}

#[test]
fn a_missing_interface_is_named() {
    let o = agent(&[
        "--server-index",
        "0",
        "--iface",
        "nosuchif0",
        "--ip",
        "127.0.0.1",
        "--memory",
        "4KiB",
        "--insecure-no-auth",
    ]);
    one_line_error(&o, 1, &["interface nosuchif0", "MAC address"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
