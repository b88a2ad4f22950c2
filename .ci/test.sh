#!/usr/bin/env bash
# The whole test suite (the README's second command). Installs what it needs, idempotently,
# then runs every part in .ci/parts/ in name order. Any failing part fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export DEBIAN_FRONTEND=noninteractive

bash .ci/setup.sh

failed=()
for part in .ci/parts/*.sh; do
  name=$(basename "$part" .sh)
  echo "=== [$name] start $(date +%T)"
  start=$(date +%s)
  if bash "$part"; then
    echo "=== [$name] ok in $(( $(date +%s) - start ))s"
  else
    echo "=== [$name] FAILED in $(( $(date +%s) - start ))s"
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "failed parts: ${failed[*]}"
  exit 1
fi
echo "all parts passed"
