// labelwatch-sim scenarios: what the simulated ModelArts project contains and how it
// changes over time. Pure: the reader works on JSON text; files are read by the caller.
//
// ## File format (JSON)
//
//   {
//     "name": "demo",                       informational
//     "project_id": "0123…",                default 0123456789abcdef0123456789abcdef
//     "project_name": "cn-north-4",         IAM scope name accepted with the project id
//     "speed": 1.0,                          scenario seconds per wall-clock second, > 0
//     "pagination": "page",                 "page": offset counts pages (items
//                                           [offset*limit, offset*limit+limit));
//                                           "record": offset counts items
//     "not_found_status": 400,              400 (the documented ModelArts.4612/4619
//                                           answer) or 404 for unknown tasks
//     "workforce_stats_default": false,     true: the workforce-task detail includes
//                                           label/sample/workforce stats without flags
//     "acceptance_sync": "5s",              time a task spends in syncing (5) after an
//                                           acceptance PUT, scenario time
//     "datasets": [ dataset… ],
//     "faults":   [ fault… ]
//   }
//
// dataset:
//   { "dataset_id": "WxCREuCkBSAlQr9xrde",  required, unique
//     "dataset_name": "flowers",            default: the id
//     "dataset_type": 0,                    0 image classification, 1 object detection, …
//     "created": "-30d",                    create_time relative to simulator start
//     "document": {…},                      extra members of the dataset list item
//     "auto_tasks": [ task… ], "workforce_tasks": [ task… ],
//     "samples": [ {…sample document with "sample_id"…} ],
//     "generate_samples": { "count": 200, "seed": 7, "hard": 40,
//                           "statuses": {"UN_ANNOTATION": 150, "__AUTO_ANNOTATION__": 50},
//                           "labels": ["Bees", "Rabbits"], "reasons": [1, 2, 19],
//                           "score_min": 0.05, "score_max": 0.99, "sample_type": 0 } }
//
// task (auto or workforce):
//   { "task_id": "XGrRZuCV1qmMxnsmD5u",     required, unique in the scenario
//     "task_name": "auto-label-flowers",    default: the id
//     "document": {…},                      detail-document members, merged over the
//                                           defaults for the kind
//     "verbatim": false,                    true: `document` is the whole base document
//                                           (no defaults; e.g. a seed page's example)
//     "created": "-2h",                     create_time relative to start (default:
//                                           visible_from); negative = before start
//     "visible_from": "30s",                the task does not exist before (default 0s)
//     "gone_at": "10m",                     the task is deleted then (optional)
//     "timeline": [ keyframe… ],
//     "acceptance_sync": "5s",              workforce only: overrides the default
//     "conflict_samples": ["sample ids"] }  workforce only: the action-3 answer
//
// keyframe: { "at": "30s", "ramp": false, <document members…>, "extra": {…} }
//   At scenario time `at` the document members are applied to the task as a JSON
//   merge patch (null deletes a member; an array of objects merges element by element
//   into one of the same length, see document.hpp). Members are checked against the API page's
//   field list for the kind; put anything else under "extra". With "ramp": true,
//   numbers move linearly from the previous keyframe to this one (status and other
//   enumerations still switch at `at`).
//
// fault: see fault_spec below; "from"/"until" are wall-clock offsets from start.
//
// Durations are strings: "250ms", "30s", "5m", "1h30m", "2d"; "created" also accepts a
// leading "-". Every reader error names the JSON path, e.g.
//   datasets[0].auto_tasks[2].timeline[1].at: expected a duration like "30s", got 12
#pragma once

#include "core/status.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::sim {

namespace json = boost::json;
using std::chrono::milliseconds;

enum class pagination_mode : std::uint8_t { page, record };
std::string_view to_string(pagination_mode m) noexcept;
std::optional<pagination_mode> parse_pagination_mode(std::string_view s) noexcept;

struct keyframe {
  milliseconds at{0};
  bool ramp = false;
  json::object patch;  // merge patch onto the task document
};

struct task_spec {
  task_kind kind = task_kind::auto_labeling;
  std::string task_id;
  std::string task_name;
  std::string dataset_id;
  json::object document;                // base detail document (defaults already merged in)
  std::optional<milliseconds> created;  // relative to start; may be negative
  milliseconds visible_from{0};
  std::optional<milliseconds> gone_at;
  std::vector<keyframe> timeline;  // sorted by `at`
  std::optional<milliseconds> acceptance_sync;
  std::vector<std::string> conflict_samples;
};

// Deterministic sample generation: the counts given are exact; which sample gets which
// property is a seeded shuffle, so the same spec always yields the same documents.
struct sample_generator {
  std::size_t count = 0;
  std::uint64_t seed = 1;
  std::size_t hard = 0;
  std::vector<std::pair<std::string, std::size_t>> statuses;  // exact counts, sum = count
  std::vector<std::string> labels{"Bees"};
  std::vector<int> reasons{1, 2, 19};
  double score_min = 0.05;
  double score_max = 0.99;
  int sample_type = 0;
};

// What a generated (or explicit) sample set contains, for tests that check metrics.
struct sample_summary {
  std::size_t count = 0;
  std::size_t hard = 0;
  std::map<std::string, std::size_t> statuses;
  // Hard: metadata or any label says "@modelarts:hard" true. Reasons of hard samples,
  // from metadata and labels together, each id once per sample.
  std::map<int, std::size_t> reasons;
  // Every label's score (the daemon's label_score histogram, not cumulative): bucket k
  // holds scores in (k/10, (k+1)/10], bucket 0 also everything <= 0.1; above 1.0 is
  // counted in scores_above_one.
  std::array<std::size_t, 10> score_buckets{};
  std::size_t scores_above_one = 0;
  std::size_t labels_scored = 0;
  std::map<std::string, std::array<std::size_t, 10>> label_score_buckets;  // by label name
};

struct dataset_spec {
  std::string dataset_id;
  std::string dataset_name;
  std::int64_t dataset_type = 0;
  std::optional<milliseconds> created;
  json::object document;
  std::vector<json::object> samples;  // explicit samples (the world adds generated ones)
  std::optional<sample_generator> generator;
};

enum class fault_kind : std::uint8_t {
  throttle,            // 429 + Retry-After, ModelArts.4206 or APIG.0308 body
  error,               // `status` (default 503) with a ModelArts error body
  delay,               // answer normally after `delay`
  hang,                // never answer
  close,               // close the connection without a response
  reset,               // header + part of the body, then TCP reset
  truncated_json,      // 200 with the JSON cut in half (Content-Length matches)
  malformed_json,      // 200 with a syntactically broken JSON body
  oversized,           // 200 with a valid JSON body of `bytes` bytes (default 20 MiB)
  invalid_utf8,        // 200 with invalid UTF-8 inside a JSON string
  numbers_as_strings,  // 200, every number in the document sent as a string
  unknown_status,      // 200, `status` replaced by `status_code` (default 42)
  missing_optional,    // 200, optional nested objects removed
  extra_fields,        // 200, unknown members added everywhere
};
std::string_view to_string(fault_kind k) noexcept;
std::optional<fault_kind> parse_fault_kind(std::string_view s) noexcept;

// Which requests a fault applies to.
enum class endpoint : std::uint8_t {
  any,
  auto_task,            // GET …/tasks/{id}
  auto_task_list,       // GET …/tasks
  workforce_task,       // GET …/workforce-tasks/{id}
  workforce_task_list,  // GET …/workforce-tasks
  sample,               // GET …/auto-annotations/samples/{id}
  sample_list,          // GET …/auto-annotations/samples
  dataset_list,         // GET /v2/{pid}/datasets
  acceptance,           // PUT …/workforce-tasks/{id}/acceptance/status
  iam,                  // POST /v3/auth/tokens
  control,              // /_sim/… (never faulted; named for the journal)
  unknown,              // no route
};
std::string_view to_string(endpoint e) noexcept;
std::optional<endpoint> parse_endpoint(std::string_view s) noexcept;

//   { "id": "f1", "kind": "throttle", "endpoint": "workforce_task", "task_id": "…",
//     "dataset_id": "…", "method": "GET", "count": 3, "from": "10s", "until": "40s",
//     "status": 503, "code": "APIG.0308", "retry_after": 2,
//     "retry_after_format": "seconds" | "http_date" | "none", "delay": "15s",
//     "bytes": 20971520, "status_code": 42, "partial_bytes": 64,
//     "error_code": "…", "error_msg": "…" }
// Without `count` a fault applies until cleared (or `until`). Runtime-armed faults may
// give "for": "20s" instead of from/until.
struct fault_spec {
  std::string id;
  fault_kind kind = fault_kind::error;
  endpoint target = endpoint::any;
  std::string task_id;
  std::string dataset_id;
  std::string method;
  std::optional<std::uint64_t> count;
  std::optional<milliseconds> from;  // wall-clock offset from start
  std::optional<milliseconds> until;
  std::optional<milliseconds> for_;         // runtime arming: window from now
  int status = 0;                           // error: default 503
  std::string code;                         // throttle: ModelArts.4206 (default) or APIG.0308
  std::optional<std::int64_t> retry_after;  // seconds; default 2 for throttle
  std::string retry_after_format = "seconds";
  milliseconds delay{0};
  std::size_t bytes = 20u * 1024u * 1024u;
  std::int64_t status_code = 42;
  std::optional<std::size_t> partial_bytes;
  std::string error_code;
  std::string error_msg;
};

struct scenario {
  std::string name;
  std::string project_id = "0123456789abcdef0123456789abcdef";
  std::string project_name = "cn-north-4";
  double speed = 1.0;
  pagination_mode pagination = pagination_mode::page;
  int not_found_status = 400;
  bool workforce_stats_default = false;
  milliseconds acceptance_sync{std::chrono::seconds(5)};
  std::vector<dataset_spec> datasets;
  std::vector<task_spec> tasks;  // every task of every dataset, in file order
  std::vector<fault_spec> faults;
};

struct scenario_error {
  std::string path;     // "datasets[0].auto_tasks[2].timeline[1].at"; "" for the root
  std::string message;  // "expected a duration like \"30s\", got 12"
  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

template <class T>
using scenario_result = boost::system::result<T, scenario_error>;

// Parses a scenario file's text. `source` names it in syntax errors ("demo.json").
scenario_result<scenario> parse_scenario(std::string_view json_text, std::string_view source);
scenario_result<scenario> read_scenario(const json::value& root);

// Pieces of the format on their own, for the control API (same rules, same paths).
scenario_result<task_spec> read_task(const json::value& v, task_kind kind,
                                     const std::string& dataset_id, const std::string& path);
scenario_result<dataset_spec> read_dataset(const json::value& v, const std::string& path);
scenario_result<fault_spec> read_fault(const json::value& v, const std::string& path);

// "builtin:seeds", "builtin:demo", "builtin:scale?auto=10000&workforce=10000&datasets=50&seed=1"
// (the name without the "builtin:" prefix). Unknown names are an error listing the
// known ones.
scenario_result<scenario> builtin_scenario(std::string_view name);
std::vector<std::string> builtin_names();

// A scale scenario: `auto_tasks` auto-labeling and `workforce_tasks` team tasks spread
// round-robin over `datasets` datasets, each with a short lively timeline; ids are
// deterministic in `seed`.
scenario generate_scale_scenario(std::size_t auto_tasks, std::size_t workforce_tasks,
                                 std::size_t datasets, std::uint64_t seed);

// The documents a generator yields and their summary (pure, deterministic).
std::vector<json::object> generate_samples(const sample_generator& g);
sample_summary summarize_samples(const std::vector<json::object>& samples);

// The scenario as JSON in the file format (for --dump-scenario); parse_scenario of
// the result yields the same scenario.
json::object scenario_to_json(const scenario& s);

// Signed durations: "-2h", "30s".
std::optional<milliseconds> parse_signed_duration(std::string_view s) noexcept;

// Lets scenario_result<T>::value() throw std::invalid_argument with the message (found
// by argument-dependent lookup from boost::system::result).
[[noreturn]] void throw_exception_from_error(const scenario_error& e,
                                             const boost::source_location& loc);

}  // namespace labelwatch::sim
