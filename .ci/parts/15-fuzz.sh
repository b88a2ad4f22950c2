#!/usr/bin/env bash
# Fuzz smoke run of the parser and the scheduler (cargo fuzz needs nightly). The committed
# corpus is also replayed on stable by reframer/core/tests/fuzz_corpus.rs in the main tests.
set -euo pipefail
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz smoke: no nightly toolchain on this machine; corpus replay runs in the main tests"
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd reframer/core
for target in parse scheduler; do
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time=20 -rss_limit_mb=2048
done
