#!/usr/bin/env bash
# Builds the .deb: a Release build installed under /usr, packaged by CPack.
#   scripts/package.sh [BUILD_DIR]   -> BUILD_DIR/labelwatch_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-package}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DLABELWATCH_BUILD_TESTS=OFF -DLABELWATCH_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/labelwatch_*.deb
