#!/usr/bin/env bash
# The Debian package: build it (reframer/cli/pkg/build-deb.sh: dpkg-deb over a staged tree),
# check it with lintian (errors fail the part; warnings are printed), install it with dpkg -i,
# then run `reframer --version`, `man reframer`, the bash completion, the shipped config
# through the unit's own ExecStart line with --check, and `systemd-analyze verify` on
# reframer@.service, and the unit's command line as an unprivileged user with only the unit's
# capabilities in a veth testbed, scraping /metrics. PID 1 on CI machines is not systemd, so `systemctl start reframer@inline`
# cannot run here: the unit is verified offline instead. Purges the package on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
for t in lintian:lintian man:man-db systemd-analyze:systemd dpkg-shlibdeps:dpkg-dev strip:binutils; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
scratch=$(mktemp -d)
trap '$SUDO dpkg --purge reframer >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

deb=$(bash reframer/cli/pkg/build-deb.sh "$scratch" | tail -1)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
echo "lintian says:"
lintian --allow-root --fail-on error --suppress-tags initial-upload-closes-no-bugs "$deb" | sed 's/^/  /'

$SUDO dpkg -i "$deb" >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
got=$(reframer --version)
[ "$got" = "reframer $version" ] || { echo "reframer --version printed '$got'"; exit 1; }
# Debian's container images may exclude /usr/share/man from dpkg; then read the page from the .deb.
if [ -e /usr/share/man/man1/reframer.1.gz ]; then
  page=$(MANPAGER=cat MANWIDTH=100 man reframer 2>/dev/null)
else
  echo "note: /usr/share/man is excluded from dpkg here; reading the page from the .deb"
  dpkg-deb -x "$deb" "$scratch/x"
  page=$(MANPAGER=cat MANWIDTH=100 man -l "$scratch/x/usr/share/man/man1/reframer.1.gz" 2>/dev/null)
fi
for want in "--metrics-listen" "--port" "--input" "demo"; do
  grep -q -- "$want" <<<"$page" || { echo "man reframer does not mention $want"; exit 1; }
done
bash -c 'source /usr/share/bash-completion/completions/reframer && complete -p reframer' >/dev/null
[ -s /usr/share/zsh/vendor-completions/_reframer ] && [ -s /usr/share/fish/vendor_completions.d/reframer.fish ]
for f in inline inline-afpacket inline-xdp inline-dpdk offline-pcap; do
  grep -qx "/etc/reframer/$f.toml" /var/lib/dpkg/info/reframer.conffiles || { echo "/etc/reframer/$f.toml is not a conffile"; exit 1; }
done
# The unit's command line, instance `inline`, must accept the shipped config.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/reframer@.service | sed 's/%i/inline/g')
$exec_start --check 2>&1 | sed 's/^/  /'
verify=$(systemd-analyze verify /lib/systemd/system/reframer@.service 2>&1) \
  || { echo "systemd-analyze verify failed: $verify"; exit 1; }
[ -z "$verify" ] || { echo "systemd-analyze verify complained: $verify"; exit 1; }

# What `systemctl start reframer@inline` would run, without systemd: the installed binary on
# the shipped inline.toml (ports pointed at a veth testbed), as an unprivileged user holding
# only the unit's capabilities (setpriv, util-linux). Then /metrics must answer on loopback
# and its counters move with traffic.
caps=$(sed -n 's/^AmbientCapabilities=//p' /lib/systemd/system/reframer@.service | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
P="rfk$$"; C="$P-c"; M="$P-m"; S="$P-s"
trap '$SUDO dpkg --purge reframer >/dev/null 2>&1 || true; rm -rf "$scratch"; for n in "$C" "$M" "$S"; do $SUDO ip netns del "$n" 2>/dev/null || true; done' EXIT
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v iperf3 >/dev/null; then
  for n in "$C" "$M" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip link add "${P}c0" netns "$C" type veth peer name "${P}m0" netns "$M"
  ip link add "${P}s0" netns "$S" type veth peer name "${P}m1" netns "$M"
  ip -n "$C" addr add 10.78.0.1/24 dev "${P}c0"
  ip -n "$S" addr add 10.78.0.2/24 dev "${P}s0"
  for x in "$C ${P}c0" "$S ${P}s0" "$M ${P}m0" "$M ${P}m1"; do set -- $x; ip -n "$1" link set "$2" up; done
  ip netns exec "$C" ethtool -K "${P}c0" tx off >/dev/null
  ip netns exec "$S" ethtool -K "${P}s0" tx off >/dev/null
  sed "s/^ports = .*/ports = [\"afpacket:${P}m0\", \"afpacket:${P}m1\"]/" /etc/reframer/inline.toml >"$scratch/inline.toml"
  chmod 0644 "$scratch/inline.toml"; chmod 0755 "$scratch"
  ip netns exec "$M" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$caps" \
    --ambient-caps="$caps" --bounding-set="-all,$caps" \
    /usr/bin/reframer --config "$scratch/inline.toml" --quiet-stats >"$scratch/out" 2>"$scratch/err" &
  rp=$!
  for _ in $(seq 100); do grep -q REFRAMER_READY "$scratch/out" && break; sleep 0.05; done
  grep -q REFRAMER_READY "$scratch/out" || { cat "$scratch/err"; echo "reframer did not start with the unit's capabilities ($caps)"; exit 1; }
  scrape() { ip netns exec "$M" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9900; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' |
             awk '/^reframer_port_rx_packets_total/ {s += $NF} END {print s + 0}'; }
  before=$(scrape)
  ip netns exec "$S" iperf3 -s -1 -B 10.78.0.2 -p 5201 >/dev/null 2>&1 &
  sleep 0.3
  ip netns exec "$C" timeout 30 iperf3 -c 10.78.0.2 -p 5201 -t 1 -b 100M >/dev/null
  sleep 0.6
  after=$(scrape)
  kill -TERM "$rp"; wait "$rp"
  [ "$after" -gt "$before" ] || { cat "$scratch/err"; echo "/metrics rx packets did not move: $before -> $after"; exit 1; }
  echo "unit's command as uid 65534 with only $caps: /metrics rx packets $before -> $after"
elif [ "${CI:-}" = true ]; then
  echo "CI=true but no root/iproute2/iperf3 for the service run"; exit 1
else
  echo "SKIPPED: the service run needs root, iproute2 and iperf3"
fi
echo "package ok: installed, --version, man page, completions, conffiles, unit verified, /metrics served"
