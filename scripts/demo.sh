#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds, and runs labelwatchd --demo
# (the embedded ModelArts simulator on loopback, watched over TLS with AK/SK signing).
# Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh --runtime
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/labelwatch-ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLABELWATCH_BUILD_TESTS=OFF -DLABELWATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j"$(nproc)" --target labelwatchd
exec build-demo/daemon/labelwatchd --demo "$@"
