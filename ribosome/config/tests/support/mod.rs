//! Test helpers shared by the tests of every Ribosome crate (and p4-split, eval), included
//! with `#[path = ".../ribosome/config/tests/support/mod.rs"] mod support;`: one copy, and no
//! published API.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The test cannot set up its environment (`why`). Under CI (`CI=true`) that fails the
/// test; on a developer's run it prints `SKIPPED: <why>` and the caller returns.
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true, so this test must run, but {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// Whether this process can create network namespaces and veths (root, iproute2, and a
/// kernel and container that allow it); if not, [`skip_or_fail`] with the reason.
pub fn can_use_netns() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let why = if !root {
        "it needs root".to_string()
    } else if Command::new("ip").arg("-V").output().is_err() {
        "it needs iproute2 (`ip`)".to_string()
    } else {
        let probe = format!("rbsprobe{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &probe])
            .output()
            .is_ok_and(|o| o.status.success());
        let _ = Command::new("ip").args(["netns", "del", &probe]).output();
        if ok {
            return true;
        }
        "`ip netns add` fails here (no CAP_SYS_ADMIN or no netns support)".to_string()
    };
    skip_or_fail(&why);
    false
}

/// Runs `bin args` in `dir` with its stdout a pipe whose reader has already exited (`bin |
/// true`, with `bin` started 0.3 s after); returns its exit status and its stderr.
pub fn with_closed_stdout(bin: &Path, args: &[&str], dir: &Path) -> (i32, String) {
    let err_file = std::env::temp_dir().join(format!(
        "closed-stdout-{}-{:?}.err",
        std::process::id(),
        std::thread::current().id()
    ));
    let o = Command::new("bash")
        .arg("-c")
        .arg(r#"{ sleep 0.3; "$@" 2>"$ERR_FILE"; } | true; echo "${PIPESTATUS[0]}""#)
        .arg("bash")
        .arg(bin)
        .args(args)
        .env("ERR_FILE", &err_file)
        .current_dir(dir)
        .output()
        .expect("running bash");
    let code = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(-1);
    let err = std::fs::read_to_string(&err_file).unwrap_or_default();
    let _ = std::fs::remove_file(&err_file);
    (code, err)
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("configs/cluster.toml").exists())
        .expect("the workspace root holds configs/cluster.toml")
        .to_path_buf()
}
