#!/usr/bin/env bash
# Unit, property, integration and end-to-end tests of every crate (release build: the
# property and end-to-end tests push millions of packets).
set -euo pipefail
cargo nextest run --workspace --release --locked --no-fail-fast
