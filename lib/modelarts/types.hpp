// Typed models of the ModelArts v2 data-management documents labelwatch reads
// (reference/seeds 000-004 and the fact sheet §4). Plain values; decoding lives in
// decode.hpp.
//
// Conventions:
// - A field the document may omit is std::optional (numbers, bools, nested objects) or
//   an empty string. Absent is never conflated with zero.
// - Status fields keep the raw code; the enum is derived (core/status.hpp) so unknown
//   codes survive.
// - Only fields labelwatch uses or shows are modelled; the rest are ignored on purpose.
// - Every type compares with == (member-wise), so snapshots can be diffed and tested.
#pragma once

#include "core/status.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace labelwatch::modelarts {

// ---- auto-labeling ("intelligent") task: seeds 000 and 003, list item §4.1 --------

struct smart_task_config {
  std::string algorithm_type;  // "fast" | "accurate" | ...
  std::string name;
  std::string description;
  std::string model_id, model_name, model_version;
  std::optional<bool> collect_sample;
  std::optional<std::int64_t> worker_server_num;
  friend bool operator==(const smart_task_config&, const smart_task_config&) = default;
};

// One entry of result.events (and its nested sub-events).
struct task_event {
  std::optional<std::int64_t> create_time_ms;
  std::string name;
  std::string description;
  std::string status;  // "waiting" | "running" | "failed" | "success"
  std::string error_code;
  std::string error_message;
  std::optional<std::int64_t> level;
  std::optional<std::int64_t> ordinal;
  std::optional<std::int64_t> elapsed_time;
  std::vector<task_event> events;
  friend bool operator==(const task_event&, const task_event&) = default;
};

struct auto_task_result {
  std::optional<std::int64_t> total_sample_count;
  std::optional<std::int64_t> annotated_sample_count;
  std::optional<std::int64_t> unconfirmed_sample_count;
  std::string dataset_name;
  std::string dataset_type;
  std::string confidence_scope;
  std::string train_job_id, train_job_name;
  std::string service_id, service_name;
  std::string version_id, version_name;
  std::vector<task_event> events;
  friend bool operator==(const auto_task_result&, const auto_task_result&) = default;
};

struct auto_task {
  std::string task_id;
  std::string task_name;
  std::string dataset_id;   // list items carry it; the detail does not
  std::string resource_id;
  std::int64_t status_code = 0;
  auto_status status() const noexcept { return auto_status_from_code(status_code); }
  std::optional<double> progress;  // percent, 0..100 as the API reports it
  // create_time arrives as "2020-11-23 11:08:20" (documented) or as epoch ms.
  std::string create_time_raw;
  std::optional<sys_time> create_time;
  std::optional<std::int64_t> elapsed_time;
  std::optional<std::int64_t> export_type;
  std::optional<std::int64_t> type;  // list only; undocumented integers
  std::string code;                  // informational, e.g. "ModelArts.4902" while healthy
  std::string message;
  std::string error_code, error_msg, error_detail;
  // List items carry the counts at the top level; the detail inside `result`.
  std::optional<std::int64_t> total_sample_count;
  std::optional<std::int64_t> annotated_sample_count;
  std::optional<std::int64_t> unconfirmed_sample_count;
  std::string model_id, model_name, model_version;
  smart_task_config config;
  std::optional<auto_task_result> result;
  friend bool operator==(const auto_task&, const auto_task&) = default;
};

// ---- team labeling (workforce) task: seed 001, list §4.2 ---------------------------

struct sample_stats {
  std::optional<std::int64_t> total_sample_count;
  std::optional<std::int64_t> unannotated_sample_count;
  std::optional<std::int64_t> unreviewed_sample_count;
  std::optional<std::int64_t> uncheck_sample_count;
  std::optional<std::int64_t> sampled_sample_count;
  std::optional<std::int64_t> rejected_sample_count;
  std::optional<std::int64_t> accepted_sample_count;
  std::optional<std::int64_t> auto_annotation_sample_count;
  std::optional<std::int64_t> deleted_sample_count;
  friend bool operator==(const sample_stats&, const sample_stats&) = default;
};

// CheckTaskStats: real-time (checking_stats) or historical (total_stats) acceptance figures.
struct check_task_stats {
  std::optional<std::int64_t> accepted_sample_count;
  std::optional<std::int64_t> checked_sample_count;
  std::optional<double> pass_rate;
  std::optional<std::int64_t> rejected_sample_count;
  std::optional<std::int64_t> sampled_sample_count;
  std::optional<std::int64_t> sampling_num;
  std::optional<double> sampling_rate;
  std::string score;  // letter grade, e.g. "E"
  std::string task_id;
  std::optional<std::int64_t> total_sample_count;
  std::optional<std::int64_t> total_score;
  std::optional<std::int64_t> unchecked_sample_count;
  friend bool operator==(const check_task_stats&, const check_task_stats&) = default;
};

struct checking_task_desc {
  std::string checking_task_id;
  // Read-back action; documented as 0, 1, 4, 5 with a different meaning of 5 than the
  // PUT page. Displayed, never acted on.
  std::optional<std::int64_t> action;
  std::optional<bool> overwrite_last_result;
  std::optional<check_task_stats> checking_stats;
  std::optional<check_task_stats> total_stats;
  friend bool operator==(const checking_task_desc&, const checking_task_desc&) = default;
};

struct worker_ref {
  std::string worker_id;
  std::string email;
  std::optional<std::int64_t> role;
  std::optional<std::int64_t> status;
  friend bool operator==(const worker_ref&, const worker_ref&) = default;
};

struct workforce_config_entry {
  std::string workforce_id;
  std::string workforce_name;
  std::vector<worker_ref> workers;
  friend bool operator==(const workforce_config_entry&, const workforce_config_entry&) = default;
};

struct workforces_config {
  std::string agency;
  std::vector<workforce_config_entry> workforces;
  friend bool operator==(const workforces_config&, const workforces_config&) = default;
};

struct workforce_stats {
  std::optional<std::int64_t> workforce_count;
  std::optional<std::int64_t> labeler_count;
  std::optional<std::int64_t> reviewer_count;
  friend bool operator==(const workforce_stats&, const workforce_stats&) = default;
};

// WorkerTask: one member's progress (detail's worker_stats[]).
struct worker_task {
  std::string worker_id;
  std::string email;
  std::optional<std::int64_t> role;
  std::optional<std::int64_t> task_status;  // worker enum: 6,0,1,2,3,4
  std::optional<std::int64_t> email_status;
  std::optional<double> pass_rate;
  std::optional<double> score;
  std::optional<sample_stats> stats;  // "sample_stats"
  std::optional<std::int64_t> create_time_ms;
  std::optional<std::int64_t> update_time_ms;
  std::optional<std::int64_t> last_notify_time_ms;
  friend bool operator==(const worker_task&, const worker_task&) = default;
};

struct workforce_task {
  std::string task_id;
  std::string task_name;
  std::string dataset_id;
  std::string description;
  std::string version_id;
  std::int64_t status_code = 0;
  workforce_status status() const noexcept { return workforce_status_from_code(status_code); }
  std::optional<sys_time> create_time;  // epoch ms in the API (a string is tolerated)
  std::optional<sys_time> update_time;
  std::optional<double> pass_rate;
  std::optional<double> score;
  std::optional<double> check_rate;
  std::optional<std::int64_t> repetition;
  std::optional<bool> auto_sync_dataset;
  std::optional<bool> synchronize_data;
  std::optional<bool> synchronize_auto_labeling_data;
  std::optional<sample_stats> stats;  // "sample_stats", present with ?sample_stats=true
  std::optional<checking_task_desc> checking;  // "checking_task_desc"
  std::optional<workforce_stats> workforce;    // "workforce_stats"
  std::optional<workforces_config> config;     // "workforces_config"
  std::vector<worker_task> workers;            // "worker_stats"
  friend bool operator==(const workforce_task&, const workforce_task&) = default;
};

// ---- auto-labeling sample: seed 002, list §4.3 ---------------------------------------

struct sample_label {
  std::string id;
  std::string name;
  std::optional<std::int64_t> type;
  std::optional<double> score;      // confidence 0..1
  std::string annotated_by;         // "human" | "auto"
  // From `property`: "@modelarts:hard" is a string ("false", "1") in the examples.
  std::optional<bool> hard;
  std::optional<double> hard_coefficient;
  std::vector<std::int64_t> hard_reasons;  // "3-20-21-19" split
  friend bool operator==(const sample_label&, const sample_label&) = default;
};

struct sample_metadata {
  // "@modelarts:hard" is documented as Double and sent as a JSON boolean.
  std::optional<bool> hard;
  std::optional<double> hard_coefficient;
  std::vector<std::int64_t> hard_reasons;
  std::optional<std::int64_t> import_origin;
  friend bool operator==(const sample_metadata&, const sample_metadata&) = default;
};

struct hard_detail {
  std::optional<std::int64_t> id;
  std::string alo_name;
  std::string reason;
  std::string suggestion;
  friend bool operator==(const hard_detail&, const hard_detail&) = default;
};

struct sample {
  std::string sample_id;
  std::string sample_name;
  std::optional<std::int64_t> sample_type;
  // Documented as __ALL__, __NONE__, ... __AUTO_ANNOTATION__; the examples send
  // "UN_ANNOTATION". Kept verbatim.
  std::string sample_status;
  std::optional<std::int64_t> sample_time_ms;
  std::optional<std::int64_t> sample_size;
  std::string source;  // pre-signed OBS URL: contains credentials, never log it
  std::string worker_id;
  // Team-labeling review and acceptance results (the acceptance conflict list of
  // PUT .../acceptance/status action 3 carries them). Scores are strings in the API.
  std::string score;
  std::optional<bool> review_accept;
  std::string review_comment;
  std::string review_score;
  std::optional<bool> check_accept;
  std::string check_comment;
  std::string check_score;
  std::vector<sample_label> labels;
  std::optional<sample_metadata> metadata;
  std::map<std::string, hard_detail> hard_details;
  friend bool operator==(const sample&, const sample&) = default;
};

// ---- other responses --------------------------------------------------------------

// PUT .../acceptance/status. The documented example body is `{ }`.
struct acceptance_status_response {
  std::optional<std::int64_t> sample_count;
  std::vector<sample> samples;  // filled for action 3 (conflict list)
  friend bool operator==(const acceptance_status_response&, const acceptance_status_response&) = default;
};

struct dataset {
  std::string dataset_id;
  std::string dataset_name;
  std::optional<std::int64_t> dataset_type;
  std::optional<std::int64_t> status;
  std::optional<std::int64_t> total_sample_count;
  std::optional<std::int64_t> annotated_sample_count;
  std::optional<std::int64_t> workforce_task_count;
  friend bool operator==(const dataset&, const dataset&) = default;
};

// One page of a list endpoint. `total` is the documented total key of that endpoint
// (total_count, count, sample_count or total_number), when present.
template <class T>
struct page {
  std::vector<T> items;
  std::optional<std::int64_t> total;
  friend bool operator==(const page&, const page&) = default;
};

// The error body: {error_code, error_msg[, request_id]}, falling back to
// {code, message}, then to nested objects, then to the raw body as the message.
struct error_body {
  std::string error_code;
  std::string error_msg;
  std::string request_id;
  friend bool operator==(const error_body&, const error_body&) = default;
};

}  // namespace labelwatch::modelarts
