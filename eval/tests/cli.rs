//! The `eval` binary: size-like flags that would not fit in memory are usage errors (status
//! 2) naming the flags and the bytes; files that cannot be written are run-time errors
//! (status 1); a closed stdout ends it quietly.

#[path = "../../ribosome/config/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eval"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("running eval")
}

fn one_line_error(o: &Output, code: i32, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("eval: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n}: {err}");
    }
    assert!(o.stdout.is_empty());
}

#[test]
fn sizes_that_do_not_fit_are_usage_errors() {
    let pcap = std::env::temp_dir().join(format!("eval-cli-{}.pcap", std::process::id()));
    let pcap = pcap.to_str().unwrap();
    let huge = "4294967295";
    let cases: [(Vec<&str>, &[&str]); 6] = [
        (
            vec!["trace", "campus", "--pcap", pcap, "--segments", huge],
            &["--segments", huge, "bytes"],
        ),
        (
            vec!["trace", "motivation", "--pcap", pcap, "--clients", huge],
            &["--clients x --packets", "bytes"],
        ),
        (
            vec![
                "trace",
                "campus",
                "--pcap",
                pcap,
                "--duration-ms",
                "18446744073709551615",
            ],
            &["--duration-ms"],
        ),
        (
            vec!["trace", "campus", "--pcap", pcap, "--segments", "0"],
            &["--segments 0"],
        ),
        (
            vec!["one-run", "e2", "--clients", huge, "--packets", huge],
            &["--clients x --packets", "bytes"],
        ),
        (vec!["e1", "--reps", "0"], &["--reps 0"]),
    ];
    for (args, names) in cases {
        one_line_error(&eval(&args), 2, names);
    }
    assert!(!Path::new(pcap).exists(), "a refused run wrote {pcap}");
    one_line_error(
        &eval(&[
            "trace",
            "campus",
            "--pcap",
            "/nonexistent-dir/x.pcap",
            "--duration-ms",
            "1",
        ]),
        1,
        &["/nonexistent-dir/x.pcap"],
    );
}

#[test]
fn a_closed_stdout_ends_it_quietly() {
    let args = [
        "one-run",
        "e2",
        "--clients",
        "10",
        "--packets",
        "2",
        "--count-only",
    ];
    let bin = Path::new(env!("CARGO_BIN_EXE_eval"));
    let (code, err) = support::with_closed_stdout(bin, &args, &std::env::temp_dir());
    assert!(!err.contains("panic"), "{err}");
    assert_ne!(code, 101, "{err}");
    assert_eq!((code, err.as_str()), (0, ""));
}
