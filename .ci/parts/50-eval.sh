#!/usr/bin/env bash
# Evaluation suite smoke run: `eval all --quick` into a temporary folder, then both notebooks
# executed headless on that output. Python deps live in a venv, installed only when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --release --locked -p reframer-eval
target=${CARGO_TARGET_DIR:-target}
"$target/release/eval" all --quick --out "$out"
for f in summary.json e1_locality.csv e2_nf_cost.csv e3_in_chain.csv e4_latency.csv cachegrind.csv e5_cluster_load.csv e5_cluster_size.csv e5_cluster_cores.csv e5_cluster_inputs.csv e5_cluster_load.png e5_cluster_size.png e5_cluster_cores.png e5_cluster_latency.png \
         e1_locality.svg e1_locality.png e2_nf_cost.png e3_in_chain.png e3_acl_sweep.png e4_latency.png; do
  [ -s "$out/$f" ] || { echo "eval all --quick did not write $f"; exit 1; }
done

venv=${EVAL_VENV:-$HOME/.cache/reframer-eval-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
if ! "$py" -c "import pandas, matplotlib, nbformat, nbclient, ipykernel" 2>/dev/null; then
  "$py" -m pip install -q --disable-pip-version-check pandas matplotlib nbformat nbclient ipykernel
fi
for nb in eval/notebooks/*.ipynb; do
  echo "executing $nb"
  (cd eval/notebooks && EVAL_OUT="$out" MPLBACKEND=Agg "$py" - "$(basename "$nb")" <<'PY'
import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks with outputs stripped"
nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
print(f"{sys.argv[1]}: {sum(c.cell_type == 'code' for c in nb.cells)} code cells ran")
PY
  )
done
echo "eval quick run and notebooks ok"
