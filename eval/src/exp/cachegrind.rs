//! Cache misses per packet for E2 and E3 on reduced runs, counted by `valgrind --tool=cachegrind`
//! (our VMs have no hardware counters). Each configuration runs `eval one-run ...` under
//! cachegrind twice: with the chain and with `--skip-chain` (trace generation and frame building
//! only); the difference divided by the packet count is what the chain (and, for `fused`,
//! Reframer) costs per packet.

use super::{p, round3, Ctx};
use crate::out::csv::Table;
use crate::out::progress::Progress;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::process::Command;

/// Counters from cachegrind's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub i_refs: f64,
    pub d_refs: f64,
    pub d1_misses: f64,
    pub lld_misses: f64,
}

/// Parses cachegrind's stderr summary (`==pid== D1  misses:  1,234 (...)`).
pub fn parse(stderr: &str) -> Result<Counts> {
    let grab = |label: &str| -> Result<f64> {
        let line = stderr
            .lines()
            .find(|l| l.contains(label))
            .with_context(|| format!("cachegrind output lacks {label:?}"))?;
        let rest = &line[line.find(label).unwrap_or(0) + label.len()..];
        let num: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .filter(|c| *c != ',')
            .collect();
        num.parse::<f64>()
            .with_context(|| format!("bad number in {line:?}"))
    };
    Ok(Counts {
        i_refs: grab("I   refs:")?,
        d_refs: grab("D   refs:")?,
        d1_misses: grab("D1  misses:")?,
        lld_misses: grab("LLd misses:")?,
    })
}

fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn measure(args: &[String]) -> Result<Counts> {
    let exe = std::env::current_exe().context("locating the eval binary")?;
    let out = Command::new("valgrind")
        .args([
            "--tool=cachegrind",
            "--cache-sim=yes",
            "--cachegrind-out-file=/dev/null",
        ])
        .arg(&exe)
        .args(args)
        .output()
        .context("running valgrind")?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "cachegrind run {args:?} failed: {}",
            err.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    parse(&err)
}

/// (label, arguments of `eval one-run`, packets) for each configuration.
fn configs(ctx: &Ctx) -> Vec<(String, String, Vec<String>, f64)> {
    let (clients, pkts, ils, dur_ms) = if ctx.quick {
        (1_000u32, 32u32, vec![1u32, 32], 1u64)
    } else {
        (5_000, 32, vec![1, 8, 32], 4)
    };
    let seed = ctx.seed.to_string();
    let mut v = Vec::new();
    for i in ils {
        let a = vec![
            "one-run".into(),
            "e2".into(),
            "--interleave".into(),
            i.to_string(),
            "--clients".into(),
            clients.to_string(),
            "--packets".into(),
            pkts.to_string(),
            "--seed".into(),
            seed.clone(),
        ];
        v.push((
            "e2".to_string(),
            format!("slf={i}"),
            a,
            f64::from(clients * pkts),
        ));
    }
    for (label, extra) in [
        ("chain alone (arrival order)", vec![]),
        ("Reframer T=64us + chain", vec!["--delay-us", "64"]),
        (
            "Reframer T=64us alone",
            vec!["--delay-us", "64", "--reframer-only"],
        ),
    ] {
        let mut a: Vec<String> = vec![
            "one-run".into(),
            "e3".into(),
            "--duration-ms".into(),
            dur_ms.to_string(),
            "--seed".into(),
            seed.clone(),
        ];
        a.extend(extra.into_iter().map(String::from));
        v.push(("e3".to_string(), label.to_string(), a, f64::NAN));
    }
    v
}

pub fn run(ctx: &Ctx) -> Result<Value> {
    let mut t = Table::new("cachegrind", ctx.seed, &["experiment_of", "config"]);
    if !valgrind_available() {
        t.write(&ctx.out)?;
        return Ok(json!({"skipped": "valgrind not found"}));
    }
    let cfgs = configs(ctx);
    let mut prog = Progress::new("cachegrind", cfgs.len() * 2);
    let mut rows = Vec::new();
    for (exp, label, args, pkts) in cfgs {
        let full = measure(&args)?;
        prog.step(&format!("{exp} {label}"));
        let mut skip = args.clone();
        skip.push("--skip-chain".into());
        let base = measure(&skip)?;
        prog.step(&format!("{exp} {label} (skip chain)"));
        let packets = if pkts.is_nan() {
            packets_of_e3(&args)?
        } else {
            pkts
        };
        let k = [p(&exp), p(&label)];
        let per = |a: f64, b: f64| (a - b) / packets;
        t.push(0, &k, "packets", packets, "packets");
        t.push(
            0,
            &k,
            "instructions_per_packet",
            per(full.i_refs, base.i_refs),
            "instructions",
        );
        t.push(
            0,
            &k,
            "data_refs_per_packet",
            per(full.d_refs, base.d_refs),
            "refs",
        );
        t.push(
            0,
            &k,
            "d1_misses_per_packet",
            per(full.d1_misses, base.d1_misses),
            "misses",
        );
        t.push(
            0,
            &k,
            "lld_misses_per_packet",
            per(full.lld_misses, base.lld_misses),
            "misses",
        );
        rows.push(json!({"experiment": exp, "config": label, "d1_misses_pp": round3(per(full.d1_misses, base.d1_misses)),
            "lld_misses_pp": round3(per(full.lld_misses, base.lld_misses)), "instr_pp": round3(per(full.i_refs, base.i_refs))}));
    }
    prog.finish();
    t.write(&ctx.out)?;
    Ok(json!({"runs": rows}))
}

/// The E3 reduced run's packet count (the same trace `one-run` generates), computed natively.
fn packets_of_e3(args: &[String]) -> Result<f64> {
    let exe = std::env::current_exe()?;
    let mut a: Vec<String> = args
        .iter()
        .filter(|x| *x != "--reframer-only")
        .cloned()
        .collect();
    a.push("--count-only".into());
    let out = Command::new(exe).args(&a).output()?;
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim()
        .parse::<f64>()
        .with_context(|| format!("one-run --count-only printed {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cachegrind_summary() {
        let s = "==1== I   refs:      1,234,567\n==1== I1  misses:        1,000\n==1== D   refs:        500,000  (400,000 rd   + 100,000 wr)\n==1== D1  misses:         20,000  (  15,000 rd   +   5,000 wr)\n==1== LLd misses:          3,000  (   2,000 rd   +   1,000 wr)\n";
        let c = parse(s).unwrap();
        assert_eq!(
            c,
            Counts {
                i_refs: 1_234_567.0,
                d_refs: 500_000.0,
                d1_misses: 20_000.0,
                lld_misses: 3_000.0
            }
        );
        assert!(parse("nothing").is_err());
    }
}
