#!/usr/bin/env bash
# Formatting and clippy over every crate and target, warnings are errors.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
