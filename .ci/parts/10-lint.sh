#!/usr/bin/env bash
# Formatting and clippy over every crate and target, warnings are errors; no unused
# dependency in any crate (cargo machete).
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo machete
