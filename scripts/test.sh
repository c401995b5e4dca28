#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole suite.
#   1. gcc, warnings as errors: every unit and integration test under ctest
#   2. clang, ASan+UBSan (+ libFuzzer instrumentation): the whole suite again, plus
#      each fuzz target for LABELWATCH_FUZZ_SECONDS (default 30)
# Set LABELWATCH_SKIP_SANITIZE=1 for a quick local run of step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh

jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/labelwatch-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Paths relative to the checkout and no build directory in the hash: a fresh clone
# anywhere reuses what an earlier build compiled (the debug info's directory is the
# only thing that differs).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
start=$(date +%s)

echo "== build (gcc, -Werror)"
# Prefix /usr: the install and package tests lay out and package this build as the .deb
# would (no third compile just for packaging).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLABELWATCH_WERROR=ON \
  -DCMAKE_INSTALL_PREFIX=/usr
cmake --build build -j"$jobs"
echo "== test (gcc)"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

if [[ "${LABELWATCH_SKIP_SANITIZE:-0}" != "1" ]]; then
  echo "== build (clang, ASan+UBSan, fuzz targets)"
  CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DLABELWATCH_WERROR=ON -DLABELWATCH_SANITIZE=ON -DLABELWATCH_FUZZ=ON -DLABELWATCH_BUILD_BENCH=OFF
  cmake --build build-asan -j"$jobs"
  echo "== test (ASan+UBSan, fuzz ${LABELWATCH_FUZZ_SECONDS:-30}s per target)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900
fi

echo "== all green in $(( $(date +%s) - start ))s"
