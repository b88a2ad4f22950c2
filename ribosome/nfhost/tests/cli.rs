//! The `ribosome-nfhost` binary: the demo says `result=ok` only when every packet arrived
//! (one flow included: the generator respects the pipeline's back-pressure), fails with
//! status 1 naming the loss counters otherwise; size-like flags that would not fit in memory
//! are usage errors (status 2) naming the flag; a closed stdout ends it quietly.

#[path = "../../config/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

fn nfhost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ribosome-nfhost"))
        .args(args)
        .current_dir(support::workspace_root())
        .output()
        .expect("running ribosome-nfhost")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn one_line_error(o: &Output, code: i32, needles: &[&str]) {
    let (_, err) = text(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    let err: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("ribosome-nfhost: "))
        .collect();
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].starts_with("ribosome-nfhost: error: "), "{err:?}");
    for n in needles {
        assert!(err[0].contains(n), "{n}: {err:?}");
    }
}

/// One flow maps to one QP: sent at the fixed gap it overran that QP's READ queue and lost
/// 80 % of the packets (read_depth, slot_reused) while printing result=ok.
#[test]
fn one_flow_is_lossless_and_loss_is_never_ok() {
    let o = nfhost(&["demo", "--flows", "1"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("missing=0 "), "{out}");
    assert!(out.contains("read_depth=0 slot_reused=0 "), "{out}");
    assert!(
        out.ends_with("result=ok (every packet delivered byte for byte)\n"),
        "{out}"
    );

    let o = nfhost(&["demo", "--flows", "1", "--unpaced"]);
    let (out, _) = text(&o);
    assert!(!out.contains("result=ok"), "{out}");
    one_line_error(
        &o,
        1,
        &["packets lost", "lost_read_depth=", "lost_slot_reused="],
    );

    // Injected faults: counted losses are accepted only when asked for, and never "ok".
    let fault = ["demo", "--packets", "3000", "--header-slots", "16"];
    let o = nfhost(&fault);
    assert!(!text(&o).0.contains("result=ok"));
    one_line_error(&o, 1, &["lost_slot_reused="]);
    let o = nfhost(&[&fault[..], &["--allow-counted-loss"]].concat());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("result=counted-loss ("), "{out}");
    assert!(!out.contains("result=ok"), "{out}");
}

#[test]
fn sizes_that_do_not_fit_are_usage_errors() {
    one_line_error(
        &nfhost(&["demo", "--flows", "4294967295"]),
        2,
        &["--flows 4294967295"],
    );
    one_line_error(&nfhost(&["demo", "--flows", "0"]), 2, &["--flows 0"]);
    one_line_error(
        &nfhost(&["demo", "--packets", "18446744073709551615", "--flows", "1"]),
        2,
        &["--packets 18446744073709551615", "bytes"],
    );
    one_line_error(
        &nfhost(&["demo", "--header-slots", "0"]),
        2,
        &["header_slots"],
    );
    one_line_error(
        &nfhost(&["bench", "--packets", "18446744073709551615"]),
        2,
        &["--packets", "bytes"],
    );
    one_line_error(
        &nfhost(&["bench", "--sizes", "4294967295"]),
        2,
        &["--sizes 4294967295"],
    );
    one_line_error(&nfhost(&["bench", "--repeats", "0"]), 2, &["--repeats 0"]);
    one_line_error(
        &nfhost(&[
            "probe",
            "--iface",
            "lo",
            "--packets",
            "18446744073709551615",
        ]),
        2,
        &["--packets", "bytes"],
    );
}

#[test]
fn a_closed_stdout_ends_it_quietly() {
    let bin = Path::new(env!("CARGO_BIN_EXE_ribosome-nfhost"));
    for args in [
        &["demo", "--packets", "3000"][..],
        &[
            "bench",
            "--packets",
            "500",
            "--repeats",
            "1",
            "--sizes",
            "64",
        ][..],
    ] {
        let (code, err) = support::with_closed_stdout(bin, args, &support::workspace_root());
        assert!(!err.contains("panic"), "{args:?}: {err}");
        assert_ne!(code, 101, "{args:?}: {err}");
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("ribosome-nfhost"), "{args:?}: {err}");
    }
}
