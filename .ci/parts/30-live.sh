#!/usr/bin/env bash
# Live mode with the `dpdk` feature: lint, then the DPDK tests (net_pcap / net_ring vdevs, and
# real TCP through net_af_packet in a netns testbed), then a 1 s smoke run of the inline
# benchmark script over every path. The AF_PACKET and xdp testbed tests already run
# in the workspace test part. Needs root for the namespaces; installs what it needs.
set -euo pipefail
need=()
for t in ip:iproute2 ethtool:ethtool iperf3:iperf3 tcpdump:tcpdump python3:python3; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
pkg-config --exists libdpdk 2>/dev/null || need+=(libdpdk-dev pkg-config clang libclang-dev)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
cargo clippy --locked -p dpdk-sys -p reframer-io -p reframer-live -p reframer --all-targets \
  --features reframer/dpdk -- -D warnings
cargo nextest run --release --locked --no-fail-fast -p reframer --features dpdk \
  -E 'binary(live_dpdk_vdev) | test(/dpdk/)'
# The inline benchmark script, once per case for 1 s, so it cannot rot: every path through the
# testbed (bridge, each port kind, offload pass-through) must move TCP data.
out=$(bash reframer/live/scripts/bench-inline.sh 1 1 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -v '^warning\|^ *-->\|^ *|\|^$'
echo "$out" | grep -q '^with GRO on both sides' || { echo "bench-inline.sh printed no ratios"; exit 1; }
if echo "$out" | grep -E 'Gbit/s' | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "Gbit/s" && $i + 0 == 0) bad = 1} END {exit !bad}'; then
  echo "bench-inline.sh: a path moved no data"; exit 1
fi
