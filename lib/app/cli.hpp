// The `labelwatch` one-shot CLI over the same library the daemon uses:
//
//   labelwatch [OPTIONS] get auto-task      --dataset ID --task ID
//   labelwatch [OPTIONS] get workforce-task --dataset ID --task ID [--label-stats]
//   labelwatch [OPTIONS] get sample         --dataset ID --sample ID
//   labelwatch [OPTIONS] list auto-tasks      --dataset ID [--type T]
//   labelwatch [OPTIONS] list workforce-tasks --dataset ID
//   labelwatch [OPTIONS] list samples         --dataset ID [--max N] [filters]
//   labelwatch [OPTIONS] list samples         --dataset ID --summary [--max N] [--by-label L]...
//   labelwatch [OPTIONS] list datasets
//
// `list` follows the pagination to the end unless --offset or --limit asks for one page.
// `get sample` adds the sample's quality figures; `list samples --summary` prints the
// figures labelwatchd's sample-quality round exports for the dataset (app/sample_quality.hpp),
// taking max_samples_per_round and sample_label_names from the dataset's [[watch]] in
// --config unless --max / --by-label are given.
// Connection settings come from `--config PATH` (the daemon's TOML: [cloud], [auth],
// [poll]) and/or flags, flags winning; credentials are read exactly as the daemon reads
// them (auth/credentials.hpp). Output: `--output json|table`; by default a table when
// standard output is a terminal, JSON otherwise. `--help` works on every command.
//
// Exit codes: 0 success; 1 the API (or the network) failed, with a message naming the
// error class, HTTP status, error code and request id; 2 usage or configuration error.
#pragma once

#include <ostream>

namespace labelwatch::app {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_api_error = 1;
inline constexpr int k_exit_usage = 2;

// Runs one CLI invocation; all output goes to `out` and `err`. `stdout_is_tty` picks the
// default output format.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            bool stdout_is_tty);

}  // namespace labelwatch::app
