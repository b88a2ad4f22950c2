#!/usr/bin/env bash
# The Debian package: build it (reframer/cli/pkg/build-deb.sh: dpkg-deb over a staged tree),
# check it with lintian (errors fail the part; warnings are printed), install it with dpkg -i,
# then run `reframer --version`, `man reframer`, the bash completion, the shipped config
# through the unit's own ExecStart line with --check, and `systemd-analyze verify` on
# reframer@.service. PID 1 on CI machines is not systemd, so `systemctl start reframer@inline`
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
echo "package ok: installed, --version, man page, completions, conffiles, unit verified"
