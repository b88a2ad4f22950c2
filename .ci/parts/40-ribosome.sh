#!/usr/bin/env bash
# Ribosome extras. The ICRC oracle (scapy, Debian python3-scapy, GPL, used only as an external
# test tool) is installed by .ci/setup.sh, and its tests run (required, under CI=true) in the
# workspace test part.
set -euo pipefail

# Fuzz smoke of every ribosome-wire parser (nightly only; the corpus is replayed on stable by
# ribosome/wire/tests/corpus_replay.rs in the main tests). New inputs go to a temp dir.
if rustup run nightly rustc --version >/dev/null 2>&1; then
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  (cd ribosome/wire/fuzz &&
    cargo +nightly fuzz run parse_any "$scratch" corpus/parse_any -- \
      -max_total_time=20 -max_len=4200 -rss_limit_mb=2048)
else
  echo "ribosome fuzz smoke: no nightly toolchain; corpus replay runs in the main tests"
fi
