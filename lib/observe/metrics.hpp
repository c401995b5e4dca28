// labelwatch's Prometheus metrics (DESIGN.md "Metrics"): every family is registered once
// in the constructor; callers feed plain domain values (decoded API documents, status
// codes, error classes) and never see a label map. `serialize()` is the /metrics body.
//
// Conventions the exposition keeps:
// - status is a state set: one series per status name (including `unknown`), 1 for the
//   current status, 0 for the others;
// - ratios are 0..1 (the API's progress percent is divided by 100), timestamps are
//   `*_timestamp_seconds` (Unix seconds), no explicit sample timestamps;
// - a value the API did not send produces no series (never a made-up zero);
// - every series of a task disappears with `remove_task`.
//
// Threading: not thread-safe. Every member, `serialize()` included, must be called from
// one thread (the daemon's event loop): the per-task series and their rendered text are
// plain data owned by this object.
//
// Cost (issue 9): the per-task series (every modelarts_* task family and
// labelwatch_task_last_success_timestamp_seconds) are not prometheus::Family objects but
// compact rows rendered by prometheus-cpp's TextSerializer and cached per row
// (task_series.hpp). Updating a task is a hash lookup plus a compare per value; a scrape
// renders only the rows that changed since the previous one and copies the rest; removing
// a task is O(1). The other families stay in the prometheus::Registry.
#pragma once

#include "core/error.hpp"
#include "core/sample_quality.hpp"
#include "core/status.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "modelarts/types.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
}

namespace labelwatch::observe {

// modelarts_acceptance_actions_total{outcome}.
enum class acceptance_outcome : std::uint8_t {
  applied,  // the PUT succeeded
  dry_run,  // the rule matched in dry-run mode: logged and counted only
  skipped,  // the rule matched but a guard (rate limit, cooldown, leadership) held it back
  failed,   // the PUT failed
};
std::string_view to_string(acceptance_outcome o) noexcept;  // "applied" | "dry_run" | ...

// Label confidence of auto-annotated samples (issue 10); defined with the aggregation in
// core/sample_quality.hpp.
using score_distribution = ::labelwatch::score_distribution;

// One sample-quality round of a dataset, as the exporter takes it (issue 10).
struct sample_quality_view {
  // sample_status as the API sent it (e.g. "__AUTO_ANNOTATION__", "UN_ANNOTATION") ->
  // samples. Names are sanitised for the label ([A-Za-z0-9_], at most 64 characters).
  std::map<std::string, std::int64_t> samples_by_status;
  // Key "" is all labels together; other keys are configured label names.
  std::map<std::string, score_distribution> scores;
  std::int64_t hard_samples = 0;
  // Reason label value (documented id and short stable name, hard_reason_label(), e.g.
  // "1_low_confidence") -> samples.
  std::map<std::string, std::int64_t> hard_reasons;
  // The list endpoint's sample_count for the dataset (absent: no series).
  std::optional<std::int64_t> dataset_samples;
  // The round stopped at max_samples_per_round before the end of the list.
  bool truncated = false;
};

// The exporter's view of an aggregated round (core/sample_quality.hpp).
sample_quality_view to_view(const ::labelwatch::sample_quality& q);

class metrics {
 public:
  // Registers every family; `labelwatch_build_info{version}` is set to 1.
  // Throws std::invalid_argument only on a programming error (an invalid metric name).
  explicit metrics(std::string_view version);
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // ---- per-task domain series -------------------------------------------------------

  // Sets every series of an auto-labeling task from its latest snapshot. Labels come
  // from `key` (the detail document does not carry the dataset id). `status_since` is
  // when the current status was first seen; `last_success` when this snapshot was read.
  // Sample counts are taken from the top level (list items) or else from `result`.
  // A non-finite progress yields no progress series; finite values are clamped to 0..1.
  void update_auto_task(const task_key& key, const modelarts::auto_task& task,
                        sys_time status_since, sys_time last_success);

  // Same for a team labeling task. pass_rate and check_rate are exported only when they
  // lie in 0..1 (they are documented as ratios; anything else is not trusted); a
  // non-finite score yields no score series. Acceptance figures come from
  // checking_task_desc.checking_stats. Per-worker series exist only while
  // `worker_metrics` is true; calling with false removes any the task had.
  void update_workforce_task(const task_key& key, const modelarts::workforce_task& task,
                             sys_time status_since, sys_time last_success, bool worker_metrics);

  // Removes every series of the task (info, status set, progress, samples, ratios,
  // acceptance, workers, status-since, last-success). Returns false if it had none.
  bool remove_task(const task_key& key);

  // Tasks that currently have series.
  std::size_t task_count() const noexcept;

  // ---- counters and self series -----------------------------------------------------

  // modelarts_task_transitions_total{kind,from,to}; codes map to status names
  // (`unknown` outside the documented set).
  void count_transition(task_kind kind, std::int64_t from_code, std::int64_t to_code);

  // modelarts_acceptance_actions_total{rule,action,outcome}; `action` is the action's
  // config name (config::to_string(acceptance_action), e.g. "pass_all").
  void count_acceptance(std::string_view rule, std::string_view action, acceptance_outcome outcome);

  // Creates the four outcome series of a configured rule at 0, so increase() sees the
  // first decision. Optional; count_acceptance creates series on demand.
  void declare_acceptance_rule(std::string_view rule, std::string_view action);

  // labelwatch_poll_errors_total{kind,reason}: `kind` is "auto", "workforce" or the name
  // of a non-task poll ("discovery", "samples"); `reason` is
  // modelarts::error_kind_name(reason), the same name as the api_error event's `reason`
  // (the nine API classes, or a local failure such as "body_too_large").
  void count_poll_error(std::string_view kind, errc reason);
  void count_poll_error(task_kind kind, errc reason);

  // labelwatch_api_requests_total{operation,code} and
  // labelwatch_api_request_duration_seconds{operation}: one HTTP exchange. `code` is the
  // HTTP status ("200", "429") or, when no response arrived, the error class
  // ("timeout", "network", "tls", ...: modelarts::request_code_label). A negative or
  // non-finite duration is counted but not observed. (api_metrics.hpp feeds this from
  // the API client.)
  void observe_api_request(std::string_view operation, std::string_view code, double seconds);
  // The same with the HTTP status as a number.
  void observe_api_response(std::string_view operation, unsigned http_status, double seconds);
  // No HTTP response: code = modelarts::error_kind_name(reason).
  void observe_api_failure(std::string_view operation, errc reason, double seconds);

  // labelwatch_events_dropped_total{sink}: an event a sink could not deliver (event
  // file on a full disk, stalled stdout reader, webhook queue overflow). Wire it to
  // event_fanout::on_drop.
  void count_event_dropped(std::string_view sink);
  // Creates the sink's series at 0 (idempotent). Call it for every configured sink: a
  // counter that first appears at 1 hides that first increase from increase() and
  // rate(), so an alert on drops would miss a single burst.
  void declare_event_sink(std::string_view sink);

  // labelwatch_scheduler_lag_seconds: due -> started, one observation per job.
  void observe_scheduler_lag(double seconds);
  // labelwatch_state_write_errors_total{reason}: a failed store transaction, reason as
  // store::to_string(error_kind) ("full", "io", ...).
  void count_state_write_error(std::string_view reason);

  void set_tracked_tasks(task_kind kind, std::size_t n);
  void set_config_reload_successful(bool ok);
  // nullopt (AK/SK or no auth) removes the series.
  void set_token_expiry(std::optional<sys_time> expires_at);

  // ---- auto-annotated sample quality (issue 10) -------------------------------------

  // Replaces the dataset's sample-quality series with this round's figures; the score
  // histogram shows this round only (it restarts every round). Series:
  // modelarts_auto_annotation_samples{sample_status}, _label_score{[label_name]},
  // _hard_samples, _hard_reasons{reason}, modelarts_auto_annotation_dataset_samples,
  // labelwatch_sample_round_truncated (0/1) and
  // labelwatch_sample_round_last_success_timestamp_seconds = `finished`.
  void update_sample_quality(const std::string& dataset_id, const sample_quality_view& round,
                             sys_time finished);
  // Removes every sample-quality series of the dataset; false if it had none.
  bool remove_sample_quality(const std::string& dataset_id);

  // ---- exposition -------------------------------------------------------------------

  // Prometheus text format 0.0.4 of every series.
  std::string serialize() const;

  // Every registered family name (histograms without the _bucket/_sum/_count suffixes),
  // whether or not it currently has series. The authoritative list for tests that check
  // alert rules and dashboards.
  std::vector<std::string> family_names() const;

  // The registry of every family except the per-task ones (see "Cost" above).
  prometheus::Registry& registry() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace labelwatch::observe
