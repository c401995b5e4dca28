#!/usr/bin/env bash
# One command for the performance bench (bench/README.md): installs what the bench
# needs and CI does not (gnuplot-nox for the plot, the peer's npm packages), builds the
# daemon and the simulator, then runs bench/bench.py with the given arguments.
#
#   bench/run.sh                 # N = 1,000 / 3,000 / 10,000, table + bench/results.png
#   bench/run.sh --quick         # seconds; small N
#   bench/run.sh --n 10000 --duration 120
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${LABELWATCH_BUILD_DIR:-$src/build}

if ! command -v gnuplot >/dev/null; then
  echo "bench: installing gnuplot-nox for the plot" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null ||
    echo "bench: gnuplot-nox could not be installed; the table is printed without a plot" >&2
fi

peer=()
if [[ ! -d "$here/peer/node_modules" ]]; then
  if command -v npm >/dev/null && (cd "$here/peer" && npm ci --no-audit --no-fund --loglevel=error); then
    :
  else
    echo "bench: the Node.js peer is unavailable (node/npm or the npm registry missing); running without it" >&2
    peer=(--no-peer)
  fi
fi

if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target labelwatchd labelwatch-sim >/dev/null

plot=()
if [[ " $* " != *" --plot "* && " $* " != *" --quick "* ]]; then
  plot=(--plot "$here/results.png" --json "$here/results.json")
fi
exec python3 "$here/bench.py" --build-dir "$build" "${peer[@]}" "${plot[@]}" "$@"
