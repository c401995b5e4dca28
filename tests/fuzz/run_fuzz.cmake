# ctest driver for one libFuzzer target (registered by labelwatch_fuzz_target):
#   cmake -DFUZZER=exe -DNAME=name -DDICT=file -DCORPUS=dir -DWORK_DIR=dir [-DMAX_LEN=n] -P run_fuzz.cmake
# Copies the committed seed corpus into WORK_DIR/corpus (the committed corpus is never
# written), fuzzes the copy for $ENV{LABELWATCH_FUZZ_SECONDS} seconds (default 30), and
# fails when libFuzzer exits non-zero or leaves a finding in WORK_DIR/artifacts.
cmake_minimum_required(VERSION 3.25)

foreach(var FUZZER NAME DICT CORPUS WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzz.cmake: -D${var}=... is required")
  endif()
endforeach()

set(seconds 30)
if(DEFINED ENV{LABELWATCH_FUZZ_SECONDS} AND NOT "$ENV{LABELWATCH_FUZZ_SECONDS}" STREQUAL "")
  if(NOT "$ENV{LABELWATCH_FUZZ_SECONDS}" MATCHES "^[0-9]+$")
    message(FATAL_ERROR "LABELWATCH_FUZZ_SECONDS must be a whole number of seconds, got "
                        "'$ENV{LABELWATCH_FUZZ_SECONDS}'")
  endif()
  set(seconds $ENV{LABELWATCH_FUZZ_SECONDS})
endif()

file(GLOB seeds LIST_DIRECTORIES false ${CORPUS}/*)
if(NOT seeds)
  message(FATAL_ERROR "${NAME}: the seed corpus ${CORPUS} is empty")
endif()
file(REMOVE_RECURSE ${WORK_DIR}/artifacts)
file(MAKE_DIRECTORY ${WORK_DIR}/corpus ${WORK_DIR}/artifacts)
# Inputs found by earlier runs stay in the work copy, so repeated runs build on them.
file(COPY ${seeds} DESTINATION ${WORK_DIR}/corpus)

set(args -max_total_time=${seconds} -dict=${DICT} -timeout=10 -rss_limit_mb=2048
         -print_final_stats=1 -artifact_prefix=${WORK_DIR}/artifacts/)
if(MAX_LEN)
  list(APPEND args -max_len=${MAX_LEN})
endif()
set(log ${WORK_DIR}/last.log)
message(STATUS "${NAME}: fuzzing ${WORK_DIR}/corpus for ${seconds}s (log: ${log})")
execute_process(COMMAND ${FUZZER} ${args} ${WORK_DIR}/corpus
                RESULT_VARIABLE rc OUTPUT_FILE ${log} ERROR_FILE ${log})

file(STRINGS ${log} stats REGEX "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)")
file(STRINGS ${log} last_progress REGEX "^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)")
list(LENGTH last_progress n)
if(n GREATER 0)
  math(EXPR last "${n} - 1")
  list(GET last_progress ${last} final)
  message(STATUS "${NAME}: ${final}")
endif()
foreach(line IN LISTS stats)
  message(STATUS "${NAME}: ${line}")
endforeach()

file(GLOB findings ${WORK_DIR}/artifacts/*)
if(NOT rc EQUAL 0 OR findings)
  file(STRINGS ${log} lines)
  list(LENGTH lines count)
  set(from 0)
  if(count GREATER 120)
    math(EXPR from "${count} - 120")
  endif()
  list(SUBLIST lines ${from} -1 tail)
  list(JOIN tail "\n" tail_text)
  message("${tail_text}")
  message(FATAL_ERROR "${NAME}: libFuzzer exited with ${rc}; findings: ${findings}\n"
                      "Reproduce with: ${FUZZER} <finding>; see tests/fuzz/README.md")
endif()
