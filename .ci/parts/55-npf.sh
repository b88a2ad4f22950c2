#!/usr/bin/env bash
# NPF for real: NPF 2.1.1 from PyPI in a cached virtualenv (installed only when missing), then
# both test files run from the repository root by NPF's own comparator on a small variable
# range: eval/npf/reframer.npf (offline sweep; NPF builds the workspace through
# eval/npf/repo/reframer.repo) and eval/npf/reframer-testbed.npf (bridge vs reframer window 0
# vs 64 µs, iperf3 in network namespaces; root). Checks that NPF collected every expected
# result into its CSV and drew a graph per result. In NPF 2.1.1 the comparator's command is
# `npf`: the wheel's `npf-compare` script fails with "cannot import name 'main' from 'npf'".
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${NPF_VENV:-$HOME/.cache/reframer-npf-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/pip" show npf 2>/dev/null | grep -qx 'Version: 2.1.1'; then
  "$venv/bin/pip" install -q --disable-pip-version-check npf==2.1.1
fi
command -v iperf3 >/dev/null || {
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iperf3
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One NPF run; $1 = test name, the rest = extra NPF arguments.
run_npf() {
  local name=$1; shift
  mkdir -p "$out/$name/exp"
  MPLBACKEND=Agg "$venv/bin/npf" reframer:Reframer --test "eval/npf/$name.npf" \
    --result-path "$out/$name/results" --experiment-folder "$out/$name/exp" \
    --single-output "$out/$name/all.csv" --graph-filename "$out/$name/graph/$name.png" \
    "$@" >"$out/$name/log" 2>&1 || { cat "$out/$name/log"; echo "npf failed on $name.npf"; exit 1; }
}

# CSV check: $1 = test name, $2 = rows expected, then COLUMN or COLUMN@VAR=VALUE (only rows
# where VAR is VALUE must have it); every such cell must hold a number. Then one graph each.
check() {
  "$venv/bin/python" - "$out/$1" "$@" <<'PY' || { cat "$out/$1/log"; exit 1; }
import csv, os, sys
d, name, rows, *cols = sys.argv[1:]
data = list(csv.DictReader(open(os.path.join(d, "all.csv"))))
assert len(data) == int(rows), f"{name}: {len(data)} rows in NPF's CSV, expected {rows}"
for c in cols:
    col, _, cond = c.partition("@")
    var, _, val = cond.partition("=")
    for r in data:
        if cond and r[var] != val:
            continue
        v = r.get("y_" + col, "")
        assert v not in ("", None), f"{name}: NPF collected no RESULT-{col} for {r}"
        float(v)
    png = os.path.join(d, "graph", f"{name}-{col}.png")
    assert os.path.getsize(png) > 0, f"{name}: no graph {png}"
print(f"{name}.npf: {len(data)} rows, results {', '.join(cols)} collected; CSV and graphs written")
PY
}

run_npf reframer --variables "DELAY={8,64}" SEGMENTS=4 DURATION_MS=5
check reframer 2 SLF_IN SLF_OUT LAT50 LAT99 MAXHOLD BURSTS PACKETS
if [ "$(id -u)" = 0 ]; then
  run_npf reframer-testbed --no-build --variables TIME=1 --config n_runs=1
  # NPF drops a result that is exactly 0 (drops, window-0 hold times), so those are not required.
  check reframer-testbed 3 THROUGHPUT REFRAMER_SLF_OUT@MIDDLE=reframer-w0 \
    REFRAMER_SLF_OUT@MIDDLE=reframer-w64 REFRAMER_LAT50@MIDDLE=reframer-w64 REFRAMER_LAT99@MIDDLE=reframer-w64
elif [ "${CI:-}" = true ]; then
  echo "CI=true but not root: reframer-testbed.npf needs network namespaces"; exit 1
else
  echo "SKIPPED: reframer-testbed.npf needs root (network namespaces)"
fi
