#!/usr/bin/env bash
# Installs the system packages and cargo tools the test suite needs. Safe to run again.
set -euo pipefail
pkgs=(pkg-config clang libclang-dev libdpdk-dev librdmacm-dev libibverbs-dev m4
      iproute2 ethtool iperf3 tcpdump tshark valgrind python3 python3-venv
      prometheus python3-scapy)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
command -v cargo-machete >/dev/null || cargo install cargo-machete --locked
