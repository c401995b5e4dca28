#!/usr/bin/env bash
# Installs the labelwatch .deb on a freshly bootstrapped Debian 12 the way an operator
# would (`apt install ./labelwatch_*.deb`) and checks the result: dependencies resolved
# from the Debian archive, nothing started or enabled, the programs run, the demo serves
# /metrics, remove and purge behave. Slow (debootstrap fetches ~40 MB) and needs root,
# debootstrap and a Debian mirror, so it is opt-in:
#
#   tests/package/fresh_install.sh [BUILD_DIR [RESULT_FILE]]
#       BUILD_DIR    a build configured with -DCMAKE_INSTALL_PREFIX=/usr (default: build);
#                    the package is made from it with cpack, nothing is compiled
#       RESULT_FILE  where to write the summary (default:
#                    tests/package/fresh_install_result.txt)
#   DEBIAN_MIRROR    default http://deb.debian.org/debian
#
# Under ctest (package.fresh_install) it runs only with LABELWATCH_FRESH_INSTALL=1 and
# reports "skipped" (exit 77) otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
source_dir=$PWD

if [[ -n "${LABELWATCH_UNDER_CTEST:-}" && "${LABELWATCH_FRESH_INSTALL:-0}" != "1" ]]; then
  echo "fresh_install: set LABELWATCH_FRESH_INSTALL=1 to run (slow, needs a Debian mirror)"
  exit 77
fi
[[ $(id -u) -eq 0 ]] || { echo "fresh_install: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh_install: apt-get install debootstrap" >&2; exit 2; }

build=$(realpath "${1:-build}")
result=${2:-$source_dir/tests/package/fresh_install_result.txt}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /tmp/lw-fresh.XXXXXX)
root=$work/root
log=$work/log.txt
demo_pid=

cleanup() {
  [[ -n "$demo_pid" ]] && kill "$demo_pid" 2>/dev/null || true
  mountpoint -q "$root/proc" && umount "$root/proc" || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "== $*" | tee -a "$log"; }
fail() { echo "FAIL: $*" | tee -a "$log"; exit 1; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

step "package from $build"
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$build/CMakeCache.txt" ||
  fail "$build is not configured with -DCMAKE_INSTALL_PREFIX=/usr"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >>"$log" 2>&1 || fail "cpack"
deb=$(ls "$work"/deb/labelwatch_*.deb)
deb_name=$(basename "$deb")
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)

step "debootstrap --variant=minbase bookworm ($mirror)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$log" 2>&1 || fail "debootstrap"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
EOF
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
in_root apt-get update >>"$log" 2>&1 || fail "apt-get update"
debian_version=$(cat "$root/etc/debian_version")
before=$(in_root dpkg-query -W -f='${Package}\n' | sort)

step "apt install ./$deb_name"
cp "$deb" "$root/root/"
in_root sh -c "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./$deb_name" \
  >"$work/apt.txt" 2>&1 || { cat "$work/apt.txt" >>"$log"; fail "apt install"; }
cat "$work/apt.txt" >>"$log"
after=$(in_root dpkg-query -W -f='${Package}\n' | sort)
added=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
in_root dpkg-query -W -f='${Status}' labelwatch | grep -q "install ok installed" ||
  fail "labelwatch is not installed"

step "checks"
checks=()
for b in labelwatchd labelwatch labelwatch-sim; do
  v=$(in_root "$b" --version) || fail "$b --version"
  checks+=("$b --version: $v")
done
[[ -f "$root/usr/lib/systemd/system/labelwatchd.service" ]] || fail "unit file missing"
[[ -f "$root/usr/lib/systemd/system/labelwatchd@.service" ]] || fail "template unit missing"
if ls "$root"/etc/systemd/system/*.wants/labelwatchd* >/dev/null 2>&1; then
  fail "the service was enabled"
fi
checks+=("service not enabled: no labelwatchd link under /etc/systemd/system/*.wants")
for p in /proc/[0-9]*; do
  if [[ "$(readlink "$p/root" 2>/dev/null)" == "$root" ]]; then
    fail "a process runs inside the new system after install: $(cat "$p/comm")"
  fi
done
checks+=("nothing started: no process runs inside the new system after apt install")
[[ "$(stat -c %a "$root/etc/labelwatch/credentials")" == 700 ]] || fail "credentials dir mode"
checks+=("/etc/labelwatch/credentials exists with mode 0700")
in_root labelwatchd --check-config /usr/share/doc/labelwatch/examples/labelwatch.toml \
  >"$work/check.txt" 2>&1 || { cat "$work/check.txt"; fail "--check-config of the example"; }
checks+=("labelwatchd --check-config (shipped example): $(tail -1 "$work/check.txt")")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root TMPDIR=/tmp \
  labelwatchd --demo --demo-listen "127.0.0.1:$port" >"$work/demo.txt" 2>&1 &
demo_pid=$!
ok=
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^modelarts_auto_task_status{'; then
    ok=1; break
  fi
  sleep 0.2
done
[[ -n "$ok" ]] || { cat "$work/demo.txt"; fail "labelwatchd --demo did not serve task metrics"; }
kill -TERM "$demo_pid"; wait "$demo_pid" || fail "labelwatchd --demo did not exit 0 on SIGTERM"
demo_pid=
checks+=("labelwatchd --demo inside the new system: /metrics served task series; SIGTERM exit 0")

step "remove and purge"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y labelwatch >>"$log" 2>&1 || fail "remove"
[[ -d "$root/etc/labelwatch" ]] || fail "remove deleted /etc/labelwatch"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y labelwatch >>"$log" 2>&1 || fail "purge"
[[ ! -e "$root/etc/labelwatch" ]] || fail "purge left /etc/labelwatch"
checks+=("apt remove keeps /etc/labelwatch; apt purge deletes it")

{
  echo "# tests/package/fresh_install.sh: labelwatch .deb on a fresh Debian 12"
  echo "date:           $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "package:        $deb_name (sha256 $deb_sha)"
  echo "system:         debootstrap --variant=minbase bookworm, Debian $debian_version, $mirror"
  echo "command:        apt install ./$deb_name"
  echo "pulled in:      $added"
  echo "result:         PASS"
  for c in "${checks[@]}"; do echo "  - $c"; done
} >"$result"
cat "$result"
