#!/usr/bin/env bash
# Installs labelwatch's build and test dependencies from Debian 12 packages.
# Idempotent and quick when everything is present: apt runs only for what is missing.
#   scripts/setup-deps.sh            build + test dependencies
#   scripts/setup-deps.sh --runtime  only what the demo needs to build and run
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev zlib1g-dev libsqlite3-dev libspdlog-dev prometheus-cpp-dev
  libtomlplusplus-dev libcli11-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 openssl
)
test_pkgs=(
  clang libclang-rt-14-dev   # ASan/UBSan and libFuzzer build
  prometheus                 # prometheus + promtool for integration tests
  chromium                   # headless browser test of the status page
  sqlite3 systemd            # integrity checks; systemd-analyze verify/security
  dpkg-dev fakeroot file     # .deb packaging test
  debootstrap                # opt-in fresh Debian 12 install test (tests/package)
  procps iproute2 curl
)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" != "--runtime" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  # dpkg-query is ~10 ms per package; apt-get only runs when something is missing.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# --no-install-recommends keeps chromium and prometheus from pulling in desktop and
# exporter extras; policy-rc.d keeps package scripts from starting services here.
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
