#!/usr/bin/env bash
# iperf3 TCP throughput through a client / mid / server veth testbed, in one run:
#   Linux bridge in mid (baseline), then Reframer with window 0 and window 64 µs on each port
#   kind (afpacket TPACKET_V3, afpacket TPACKET_V2, xdp (AF_XDP, native XDP, copy mode on veth),
#   and dpdk net_af_packet if built with the `dpdk` feature). Then offload pass-through: GRO on
#   mid's ports, the bridge again, and Reframer on afpacket with vnet_hdr (super-frames whole). Prints the median of REPS runs and the ratios. Root only.
#
#   reframer/live/scripts/bench-inline.sh [REPS=3] [SECONDS=4]
#
# Uses the shipped binary, target/release/reframer, with the README's flags (built here with
# --features dpdk when libdpdk is present).
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPS=${1:-3}
SECS=${2:-4}
T=${CARGO_TARGET_DIR:-target}
if pkg-config --exists libdpdk 2>/dev/null; then FEAT=(--features dpdk); else FEAT=(); fi
cargo build --release -q -p reframer "${FEAT[@]}"
BIN="$T/release/reframer"

P="rfb$$"
C="$P-c"; M="$P-m"; S="$P-s"
cleanup() {
  [ -n "${RP:-}" ] && kill "$RP" 2>/dev/null || true
  for n in "$C" "$M" "$S"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$WORK"
}
WORK=$(mktemp -d)
trap cleanup EXIT
for n in "$C" "$M" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "${P}c0" netns "$C" type veth peer name "${P}m0" netns "$M"
ip link add "${P}s0" netns "$S" type veth peer name "${P}m1" netns "$M"
ip -n "$C" addr add 10.77.0.1/24 dev "${P}c0"
ip -n "$S" addr add 10.77.0.2/24 dev "${P}s0"
for x in "$C ${P}c0" "$S ${P}s0" "$M ${P}m0" "$M ${P}m1"; do set -- $x; ip -n "$1" link set "$2" up; done
ip netns exec "$C" ethtool -K "${P}c0" tx off >/dev/null
ip netns exec "$S" ethtool -K "${P}s0" tx off >/dev/null

# One iperf3 run; prints Gbit/s received.
iperf() {
  ip netns exec "$S" iperf3 -s -1 -B 10.77.0.2 -p 5201 >/dev/null 2>&1 &
  local sp=$!
  sleep 0.3
  local g
  g=$(ip netns exec "$C" timeout $((SECS + 20)) iperf3 -c 10.77.0.2 -p 5201 -t "$SECS" -J 2>/dev/null |
      python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo 0)
  wait "$sp" 2>/dev/null || true
  echo "$g"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A RES
run_case() { # name, then reframer args ("" = bridge)
  local name=$1; shift
  local v=()
  for _ in $(seq "$REPS"); do
    if [ "$#" -eq 0 ]; then
      v+=("$(iperf)")
    else
      ip netns exec "$M" "$BIN" --quiet-stats "$@" >"$WORK/out" 2>"$WORK/err" &
      RP=$!
      for _ in $(seq 100); do grep -q REFRAMER_READY "$WORK/out" 2>/dev/null && break; sleep 0.05; done
      v+=("$(iperf)")
      kill -TERM "$RP"; wait "$RP" || true; RP=
      grep -q "RESULT-DROPPED 0" "$WORK/out" || echo "  ($name: reframer dropped $(grep RESULT-DROPPED "$WORK/out"))" >&2
      sleep 0.5
    fi
  done
  RES[$name]=$(median "${v[@]}")
  printf '%-34s %6s Gbit/s   (runs: %s)\n' "$name" "${RES[$name]}" "${v[*]}"
}

echo "iperf3 TCP, ${SECS}s x $REPS runs each, 1 worker, MTU 1500, end-host tx offload off"
ip -n "$M" link add br0 type bridge
ip -n "$M" link set "${P}m0" master br0; ip -n "$M" link set "${P}m1" master br0; ip -n "$M" link set br0 up
sleep 1
run_case "linux bridge"
ip -n "$M" link del br0
sleep 0.5
AP=(--port "afpacket:${P}m0" --port "afpacket:${P}m1")
printf '[live.afpacket]\ntpacket_version = 2\n' >"$WORK/v2.toml"
run_case "afpacket v3, window 0" "${AP[@]}" --delay-us 0
run_case "afpacket v3, window 64us" "${AP[@]}" --delay-us 64
run_case "afpacket v2, window 0" "${AP[@]}" --delay-us 0 -c "$WORK/v2.toml"
run_case "afpacket v2, window 64us" "${AP[@]}" --delay-us 64 -c "$WORK/v2.toml"
XP=(--port "xdp:${P}m0" --port "xdp:${P}m1")
run_case "xdp, window 0" "${XP[@]}" --delay-us 0
run_case "xdp, window 64us" "${XP[@]}" --delay-us 64
KINDS=("afpacket v3" "afpacket v2" "xdp")
if [ "${#FEAT[@]}" -gt 0 ]; then
  EAL="--no-huge --no-pci --no-shconf -m 256 -l 0 --no-telemetry --log-level=warning --vdev=net_af_packet0,iface=${P}m0,framecnt=8192 --vdev=net_af_packet1,iface=${P}m1,framecnt=8192"
  DP=(--port dpdk:net_af_packet0 --port dpdk:net_af_packet1 --dpdk-args "$EAL")
  run_case "dpdk net_af_packet, window 0" "${DP[@]}" --delay-us 0
  run_case "dpdk net_af_packet, window 64us" "${DP[@]}" --delay-us 64
  KINDS+=("dpdk net_af_packet")
fi
ip netns exec "$M" ethtool -K "${P}m0" gro on >/dev/null
ip netns exec "$M" ethtool -K "${P}m1" gro on >/dev/null
printf '[live.afpacket]\nvnet_hdr = true\nblock_bytes = 262144\nblocks = 32\n' >"$WORK/vnet.toml"
run_case "afpacket v3 vnet_hdr + GRO, window 0" "${AP[@]}" --delay-us 0 -c "$WORK/vnet.toml"
run_case "afpacket v3 vnet_hdr + GRO, window 64us" "${AP[@]}" --delay-us 64 -c "$WORK/vnet.toml"
ip -n "$M" link add br0 type bridge
ip -n "$M" link set "${P}m0" master br0; ip -n "$M" link set "${P}m1" master br0; ip -n "$M" link set br0 up
sleep 1
run_case "linux bridge + GRO"
ip -n "$M" link del br0
echo
echo "ratios (medians of this run; bridge = offloads off everywhere, as in the cases above it)"
for k in "${KINDS[@]}" "afpacket v3 vnet_hdr + GRO"; do
  python3 - "$k" "${RES[linux bridge]}" "${RES[$k, window 0]}" "${RES[$k, window 64us]}" <<'PY'
import sys
k, br, w0, w64 = sys.argv[1], *map(float, sys.argv[2:])
f = lambda a, b: a / b if b else float("nan")
print(f"{k:27} window 0 / bridge = {f(w0, br):.2f}x   window 64us / window 0 = {f(w64, w0):.2f}x")
PY
done
python3 - "${RES[linux bridge + GRO]}" "${RES[afpacket v3 vnet_hdr + GRO, window 0]}" <<'PY'
import sys
br, w0 = map(float, sys.argv[1:])
print(f"{'with GRO on both sides':27} vnet_hdr window 0 / bridge + GRO = {w0 / br if br else float('nan'):.2f}x")
PY
