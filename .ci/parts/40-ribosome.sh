#!/usr/bin/env bash
# Ribosome extras. scapy (Debian python3-scapy, GPL, used only as an external test tool) is the
# independent ICRC oracle; install it, then rerun the oracle tests with it required (in the
# workspace run it is optional, since that part runs before this one on a fresh machine).
set -euo pipefail
if ! dpkg-query -W -f='${Status}' python3-scapy 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-scapy
fi
RIBOSOME_REQUIRE_SCAPY=1 cargo nextest run --release --locked -p ribosome-wire --test icrc_oracle

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
