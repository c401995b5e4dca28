#!/usr/bin/env bash
# Runs labelwatch's libFuzzer targets, one at a time, at low priority.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60) per target; TARGETs are names from tests/fuzz/CMakeLists.txt
# (default: all). Builds in build-fuzz (clang, ASan+UBSan, libFuzzer, optimised: several
# times the executions of the Debug build-asan), configuring it if needed. Set
# LABELWATCH_FUZZ_BUILD_DIR=build-asan to reuse the CI sanitizer build instead.
#
# Each target fuzzes its own work corpus tests/fuzz/corpus-work/<target>/corpus (seeded
# from the committed tests/fuzz/corpus/<target>/, never written back) and leaves findings
# in tests/fuzz/corpus-work/<target>/artifacts/. Prints executions, coverage and findings
# per target; exits 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
if [[ $# -gt 0 && $1 == -* ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

configured_for_fuzz() { grep -qs '^LABELWATCH_FUZZ:BOOL=ON' "$1/CMakeCache.txt"; }

build=${LABELWATCH_FUZZ_BUILD_DIR:-build-fuzz}
if ! configured_for_fuzz "$build"; then
  echo "== configuring $build (clang, ASan+UBSan, libFuzzer)"
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLABELWATCH_SANITIZE=ON -DLABELWATCH_FUZZ=ON -DLABELWATCH_BUILD_BENCH=OFF >/dev/null
fi
manifest=$build/tests/fuzz/targets.tsv
[[ -f $manifest ]] || cmake -S . -B "$build" >/dev/null

declare -A exe dict corpus max_len
all=()
while IFS=$'\t' read -r name e d c m; do
  [[ -z $name || $name == \#* ]] && continue
  all+=("$name"); exe[$name]=$e; dict[$name]=$d; corpus[$name]=$c; max_len[$name]=$m
done <"$manifest"

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ -z ${exe[$t]:-} ]]; then
    echo "fuzz.sh: unknown target '$t'; known: ${all[*]}" >&2
    exit 2
  fi
done

echo "== building ${targets[*]/#/fuzz_} in $build"
nice cmake --build "$build" -j"${LABELWATCH_FUZZ_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
failed=0
for t in "${targets[@]}"; do
  work=tests/fuzz/corpus-work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "${corpus[$t]}"/* "$work/corpus/" 2>/dev/null || true
  marker=$(mktemp)
  args=(-max_total_time="$seconds" -dict="${dict[$t]}" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  [[ -n ${max_len[$t]} ]] && args+=(-max_len="${max_len[$t]}")
  echo "== $t: ${seconds}s (log: $work/last.log)"
  rc=0
  nice -n 10 "${exe[$t]}" "${args[@]}" "$work/corpus" >"$work/last.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/last.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/last.log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$work/last.log" | tail -1 || true)
  mapfile -t found < <(find "$work/artifacts" -type f -newer "$marker")
  rm -f "$marker"
  status=ok
  if ((rc != 0 || ${#found[@]} > 0)); then
    status="FOUND ${#found[@]} (exit $rc)"
    failed=1
    tail -n 60 "$work/last.log"
    printf '  finding: %s\n' "${found[@]}"
  fi
  line=$(printf '%-24s %6ss %12s execs %8s/s  %-32s %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
    "${cov:-cov: ?}" "$status")
  echo "$line"
  summary+=("$line")
done

echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $build)"
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "Findings: turn each into a regression test, see tests/fuzz/README.md." >&2
  exit 1
fi
