#!/usr/bin/env bash
# The README's first command, exactly as written, must keep working and report its figures.
set -euo pipefail
out=$(cargo run --release --locked -q -p reframer -- demo)
echo "$out"
grep -q "locality (SLF)" <<<"$out"
grep -q "hold time" <<<"$out"
grep -q "Mpps" <<<"$out"
