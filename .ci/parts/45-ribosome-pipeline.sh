#!/usr/bin/env bash
# The user-facing commands of the Ribosome split pipeline, as the README runs them: the
# in-process demo without faults (one flow and the default 64: exits non-zero on any lost
# packet), with every fault injected (--allow-counted-loss: exits non-zero on any corrupted or
# uncounted packet) and a short benchmark (fails if any packet is lost or corrupted). The byte-exact
# and fault assertions themselves are the ribosome-switch/ribosome-nfhost tests of 20-tests.
set -euo pipefail
cargo run --release --locked -q -p ribosome-nfhost -- demo --packets 20000
cargo run --release --locked -q -p ribosome-nfhost -- demo --packets 20000 --flows 1
cargo run --release --locked -q -p ribosome-nfhost -- demo --packets 20000 --kill-server --drop-write 500 --nat 172.16.0.9 --allow-counted-loss
cargo run --release --locked -q -p ribosome-nfhost -- demo --packets 5000 --payload-log 16384 --allow-counted-loss
cargo run --release --locked -q -p ribosome-nfhost -- demo --packets 5000 --header-slots 16 --allow-counted-loss
cargo run --release --locked -q -p ribosome-nfhost -- bench --packets 2000 --repeats 1
