// Tolerant decoding of ModelArts documents (Boost.JSON) into modelarts/types.hpp.
//
// Pure and thread-safe: no I/O, no globals; every call parses its own copy. Decoding
// never throws on any input (only std::bad_alloc can escape) and is deterministic.
//
// Tolerant reading (DESIGN.md "Behaviour that must hold"):
// - Unknown fields are ignored; status codes outside the documented enum are kept raw
//   (`status_code`; `status()` is then `unknown`).
// - Absent members and `null` are the same: optional fields stay empty. For a field
//   that is not a string, "" is read as absent too.
// - Integers: JSON integers; doubles without a fraction (10.0); strings holding either
//   ("317", "10.0"). 10.5 or "10.5" for an integer field is an error, as is a value
//   outside int64.
// - Numbers (progress, pass_rate, ...): any finite number or a string holding one
//   ("10.5"). NaN and infinity (e.g. 1e999) are errors.
// - Strings: JSON strings; a number is accepted as its decimal text. Other types are
//   errors.
// - Booleans: true/false, 0/1 (integer or double), and the strings "true"/"false"
//   (any case), "1"/"0" (or any numeric text equal to 0 or 1).
// - Times (create_time, update_time, sample_time, event and worker times): epoch
//   milliseconds as a number or numeric string (0 .. 9999-12-31), or
//   "2020-11-23 11:08:20" (read as UTC, as core/time.hpp does), or RFC 3339; for both
//   task kinds. Auto tasks also keep the text as received in `create_time_raw`.
// - "@modelarts:hard": any boolean form above (label properties send "false", metadata
//   sends false or the documented Double 0/1). "@modelarts:hard_reasons": the
//   hyphen-separated string "3-20-21-19" or an integer array, in label properties and
//   in metadata alike. "@modelarts:hard_coefficient": a number or numeric string.
// - Missing optional objects (sample_stats, checking_task_desc, result, metadata, ...)
//   decode as absent; missing arrays as empty. A list page without its items array is
//   an empty page.
//
// Strict about what remains: a field present with a type that cannot be read is an
// error naming the full JSON path and the problem, never a silently zeroed value:
//   sample_stats.total_sample_count: expected integer, got "abc"
//   tasks[3].status: expected integer, got true
//   worker_stats[0].sample_stats.accepted_sample_count: expected a non-negative count, got -2
// - Sample counts (every *_count field, sampling_num and the list totals) must be >= 0:
//   a negative count from a buggy server is an error, because counts feed metrics and
//   acceptance rules, and acting on a nonsense count is worse than reporting it.
// - Required: `status` for every task, `task_id` for workforce tasks and for list items
//   of both kinds, `sample_id` for samples, `dataset_id` for datasets. The auto-task
//   detail may omit `task_id` (the documented example has none): the caller knows the
//   id it asked for and fills it in. Required strings must not be empty.
// - The body must be one JSON object (an empty body, whitespace, another JSON type, or
//   trailing data is an error); syntax errors give the line, column and byte offset.
//   Nesting deeper than 32 levels is a syntax error.
// Error messages quote at most 64 bytes of an offending string and never include the
// body, so they are safe to log (a sample's `source` is a pre-signed URL).
#pragma once

#include "modelarts/types.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace labelwatch::modelarts {

struct decode_error {
  std::string path;     // "sample_stats.total_sample_count", "tasks[3].status", "" for the root
  std::string problem;  // "expected integer, got \"abc\""
  std::string message() const { return path.empty() ? problem : path + ": " + problem; }
  friend bool operator==(const decode_error&, const decode_error&) = default;
};

template <class T>
using decode_result = boost::system::result<T, decode_error>;

// GET .../tasks/{task_id}. `task_id` may be empty (see above).
decode_result<auto_task> decode_auto_task(std::string_view body);
// GET .../tasks: {"tasks": [...], "total_count": n}.
decode_result<page<auto_task>> decode_auto_task_list(std::string_view body);
// GET .../workforce-tasks/{id}.
decode_result<workforce_task> decode_workforce_task(std::string_view body);
// GET .../workforce-tasks: {"tasks": [...], "count": n}.
decode_result<page<workforce_task>> decode_workforce_task_list(std::string_view body);
// GET .../auto-annotations/samples/{sample_id}.
decode_result<sample> decode_sample(std::string_view body);
// GET .../auto-annotations/samples: {"samples": [...], "sample_count": n}.
decode_result<page<sample>> decode_sample_list(std::string_view body);
// GET /v2/{project_id}/datasets: {"datasets": [...], "total_number": n}.
decode_result<page<dataset>> decode_dataset_list(std::string_view body);
// PUT .../acceptance/status. An empty or all-whitespace body, `{}` and `{ }` are a
// valid empty response; action 3 fills {"sample_count": n, "samples": [...]}.
decode_result<acceptance_status_response> decode_acceptance_status(std::string_view body);

// Never fails, never throws on any input. Looks for, in order: error_code/error_msg at
// the top level, code/message at the top level, the first nested object (depth first,
// document order, through arrays too) holding either pair; a pair counts when one of
// its members is a non-empty string or a number. `request_id` comes from the object
// the pair was found in, else the top level. Otherwise the raw body is the message.
// Every field is made one printable line of valid UTF-8 (control and whitespace runs
// become one space, malformed bytes U+FFFD) and cut at a character boundary:
// error_msg to 512 bytes, error_code and request_id to 128. An empty body gives
// all-empty fields (the caller has the HTTP status).
error_body decode_error_body(std::string_view body);

// Lets result<T, decode_error>::value() throw: boost::system::system_error with
// labelwatch::errc::decode and what() ending in the decode message. Declared in this
// namespace because result<> finds it by argument-dependent lookup on decode_error.
[[noreturn]] void throw_exception_from_error(const decode_error& e, const boost::source_location& loc);

}  // namespace labelwatch::modelarts
