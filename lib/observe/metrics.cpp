// Metric families and the per-task series caches behind observe::metrics.
#include "observe/metrics.hpp"

#include "modelarts/api_error.hpp"
#include "observe/task_series.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

namespace labelwatch::observe {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

constexpr std::size_t k_workforce_statuses = 9;  // 8 documented + unknown

// Label values of modelarts_workforce_task_samples{state} and
// modelarts_workforce_worker_samples{state}, in SampleStats field order.
constexpr std::array<std::string_view, 9> k_sample_states{
    "total",    "unannotated", "unreviewed",      "uncheck", "sampled",
    "rejected", "accepted",    "auto_annotation", "deleted"};

constexpr std::array<std::string_view, 3> k_auto_sample_states{"total", "annotated", "unconfirmed"};

constexpr std::array<std::string_view, 5> k_acceptance_states{"sampled", "checked", "accepted",
                                                              "rejected", "unchecked"};

// Upper bounds for API latency: loopback in milliseconds up to the 10 s default timeout.
const std::vector<double> k_api_duration_buckets{0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                 0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

std::array<std::optional<std::int64_t>, 9> sample_values(const modelarts::sample_stats& s) {
  return {s.total_sample_count,    s.unannotated_sample_count,     s.unreviewed_sample_count,
          s.uncheck_sample_count,  s.sampled_sample_count,         s.rejected_sample_count,
          s.accepted_sample_count, s.auto_annotation_sample_count, s.deleted_sample_count};
}

std::optional<double> as_double(std::optional<std::int64_t> v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

// A documented ratio: trusted only inside 0..1.
std::optional<double> ratio(std::optional<double> v) {
  if (!v || !std::isfinite(*v) || *v < 0.0 || *v > 1.0) return std::nullopt;
  return v;
}

std::optional<double> finite(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return v;
}

std::size_t status_index(task_kind kind, std::int64_t code) {
  if (kind == task_kind::auto_labeling) {
    const auto all = all_auto_statuses();
    const auto s = auto_status_from_code(code);
    return static_cast<std::size_t>(std::find(all.begin(), all.end(), s) - all.begin());
  }
  const auto all = all_workforce_statuses();
  const auto s = workforce_status_from_code(code);
  return static_cast<std::size_t>(std::find(all.begin(), all.end(), s) - all.begin());
}

std::string_view status_name_at(task_kind kind, std::size_t i) {
  return kind == task_kind::auto_labeling ? to_string(all_auto_statuses()[i])
                                          : to_string(all_workforce_statuses()[i]);
}

std::string sanitise_label_value(std::string_view raw) {
  std::string out;
  out.reserve(std::min<std::size_t>(raw.size(), 64));
  for (char c : raw.substr(0, 64)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "unknown";
  return out;
}

Labels with(Labels base, std::string_view name, std::string_view value) {
  base.emplace(std::string(name), std::string(value));
  return base;
}

// Sets the cached series to `value`, creating it with `labels()` on first use, or removes
// it when the value is absent.
template <class MakeLabels>
void set_optional(Family<Gauge>& family, Gauge*& slot, std::optional<double> value,
                  MakeLabels&& labels) {
  if (value) {
    if (slot == nullptr) slot = &family.Add(labels());
    slot->Set(*value);
  } else if (slot != nullptr) {
    family.Remove(slot);
    slot = nullptr;
  }
}

template <class T>
void remove(Family<T>& family, T*& slot) {
  if (slot != nullptr) family.Remove(slot);
  slot = nullptr;
}

template <class T, std::size_t N>
void remove_all(Family<T>& family, std::array<T*, N>& slots) {
  for (auto*& s : slots) remove(family, s);
}

// Labels of the per-task families beyond dataset_id and task_id (task_series.hpp). The
// record's strings hold task_name, algorithm_type, then worker ids (metrics::impl).
using label_list = std::vector<prometheus::ClientMetric::Label>;

void label_none(const detail::task_record&, std::uint32_t, label_list&) {}

void label_auto_info(const detail::task_record& t, std::uint32_t, label_list& out) {
  out.push_back({"algorithm_type", t.strings.size() > 1 ? t.strings[1] : std::string{}});
  out.push_back({"task_name", t.strings.empty() ? std::string{} : t.strings[0]});
}

void label_wf_info(const detail::task_record& t, std::uint32_t, label_list& out) {
  out.push_back({"task_name", t.strings.empty() ? std::string{} : t.strings[0]});
}

void label_auto_status(const detail::task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"status", std::string(to_string(all_auto_statuses()[id]))});
}

void label_wf_status(const detail::task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"status", std::string(to_string(all_workforce_statuses()[id]))});
}

void label_auto_samples(const detail::task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"state", std::string(k_auto_sample_states[id])});
}

void label_wf_samples(const detail::task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"state", std::string(k_sample_states[id])});
}

void label_wf_acceptance(const detail::task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"state", std::string(k_acceptance_states[id])});
}

void label_wf_worker(const detail::task_record& t, std::uint32_t id, label_list& out) {
  // id = worker slot * 16 + state (metrics::impl::k_worker_stride).
  const std::size_t worker = 2 + id / 16;
  out.push_back({"state", std::string(k_sample_states[id % 16])});
  out.push_back({"worker_id", worker < t.strings.size() ? t.strings[worker] : std::string{}});
}

void label_last_success(const detail::task_record& t, std::uint32_t, label_list& out) {
  out.push_back({"kind", std::string(to_string(t.key.kind))});
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

struct api_operation {
  Histogram* duration = nullptr;
  string_map<Counter*> by_code;
};

struct dataset_quality {
  std::map<std::string, Gauge*, std::less<>> by_status;
  std::map<std::string, Histogram*, std::less<>> scores;
  Gauge* hard = nullptr;
  std::map<std::string, Gauge*, std::less<>> reasons;
  Gauge* dataset = nullptr;
  Gauge* truncated = nullptr;
  Gauge* last_success = nullptr;
};

}  // namespace

std::string_view to_string(acceptance_outcome o) noexcept {
  switch (o) {
    case acceptance_outcome::applied:
      return "applied";
    case acceptance_outcome::dry_run:
      return "dry_run";
    case acceptance_outcome::skipped:
      return "skipped";
    case acceptance_outcome::failed:
      break;
  }
  return "failed";
}

sample_quality_view to_view(const ::labelwatch::sample_quality& q) {
  sample_quality_view v;
  v.samples_by_status = q.by_status;
  v.scores[""] = q.scores;
  for (const auto& [name, d] : q.scores_by_label) v.scores[name] = d;
  v.hard_samples = q.hard_samples;
  v.hard_reasons = q.hard_reasons_by_label();
  v.dataset_samples = q.dataset_samples;
  v.truncated = q.truncated;
  return v;
}

struct metrics::impl {
  prometheus::Registry registry{prometheus::Registry::InsertBehavior::Throw};
  std::vector<std::string> names;

  template <class T>
  Family<T>& add(prometheus::detail::Builder<T> builder, const std::string& name,
                 const std::string& help) {
    names.push_back(name);
    return builder.Name(name).Help(help).Register(registry);
  }
  Family<Gauge>& gauge(const std::string& name, const std::string& help) {
    return add(prometheus::BuildGauge(), name, help);
  }
  Family<Counter>& counter(const std::string& name, const std::string& help) {
    return add(prometheus::BuildCounter(), name, help);
  }
  Family<Histogram>& histogram(const std::string& name, const std::string& help) {
    return add(prometheus::BuildHistogram(), name, help);
  }
  // A family of per-task series: kept by `tasks` below, not by the registry.
  std::vector<detail::task_family> task_specs;
  std::uint8_t task_gauge(const std::string& name, const std::string& help,
                          detail::labeller labels) {
    names.push_back(name);
    task_specs.push_back({name, help, labels});
    return static_cast<std::uint8_t>(task_specs.size() - 1);
  }

  // Domain: auto-labeling tasks.
  const std::uint8_t auto_info =
      task_gauge("modelarts_auto_task_info",
            "Auto-labeling task metadata; always 1. Labels: task_name, algorithm_type.", label_auto_info);
  const std::uint8_t auto_status = task_gauge(
      "modelarts_auto_task_status",
      "Auto-labeling task status as a state set: 1 for the current status, 0 for the others.", label_auto_status);
  const std::uint8_t auto_progress =
      task_gauge("modelarts_auto_task_progress_ratio",
            "Auto-labeling task progress as reported by ModelArts, 0 to 1.", label_none);
  const std::uint8_t auto_samples =
      task_gauge("modelarts_auto_task_samples",
            "Samples of an auto-labeling task by state (total, annotated, unconfirmed).", label_auto_samples);
  const std::uint8_t auto_since =
      task_gauge("modelarts_auto_task_status_since_timestamp_seconds",
            "Unix time when labelwatch first saw the auto-labeling task in its current status.", label_none);

  // Domain: team labeling (workforce) tasks.
  const std::uint8_t wf_info = task_gauge("modelarts_workforce_task_info",
                                 "Team labeling task metadata; always 1. Label: task_name.", label_wf_info);
  const std::uint8_t wf_status = task_gauge(
      "modelarts_workforce_task_status",
      "Team labeling task status as a state set: 1 for the current status, 0 for the others.", label_wf_status);
  const std::uint8_t wf_samples =
      task_gauge("modelarts_workforce_task_samples",
            "Samples of a team labeling task by state, from its sample_stats.", label_wf_samples);
  const std::uint8_t wf_pass = task_gauge("modelarts_workforce_task_pass_ratio",
                                 "Acceptance pass rate of a team labeling task, 0 to 1.", label_none);
  const std::uint8_t wf_score =
      task_gauge("modelarts_workforce_task_score", "Average acceptance score of a team labeling task.", label_none);
  const std::uint8_t wf_check = task_gauge("modelarts_workforce_task_check_ratio",
                                  "Acceptance (check) ratio of a team labeling task, 0 to 1.", label_none);
  const std::uint8_t wf_acceptance = task_gauge(
      "modelarts_workforce_acceptance_samples",
      "Samples of the current acceptance check by state, from checking_task_desc.checking_stats.", label_wf_acceptance);
  const std::uint8_t wf_worker =
      task_gauge("modelarts_workforce_worker_samples",
            "Samples of one team member's share of a team labeling task by state "
            "(only with worker_metrics = true).", label_wf_worker);
  const std::uint8_t wf_since =
      task_gauge("modelarts_workforce_task_status_since_timestamp_seconds",
            "Unix time when labelwatch first saw the team labeling task in its current status.", label_none);

  Family<Counter>& transitions =
      counter("modelarts_task_transitions_total",
              "Status transitions seen, by task kind and from/to status name.");
  Family<Counter>& acceptance_actions = counter(
      "modelarts_acceptance_actions_total",
      "Acceptance decisions by rule, action and outcome (applied, dry_run, skipped, failed).");

  // Domain: auto-annotated sample quality (issue 10).
  Family<Gauge>& aa_samples =
      gauge("modelarts_auto_annotation_samples",
            "Auto-annotated samples of a dataset by sample_status, as of the last sample round.");
  Family<Histogram>& aa_score = histogram(
      "modelarts_auto_annotation_label_score",
      "Confidence of auto-annotated labels in the last sample round (restarts every round).");
  Family<Gauge>& aa_hard =
      gauge("modelarts_auto_annotation_hard_samples",
            "Auto-annotated samples flagged as hard examples in the last sample round.");
  Family<Gauge>& aa_reasons =
      gauge("modelarts_auto_annotation_hard_reasons",
            "Hard-example samples by documented reason in the last sample round.");
  Family<Gauge>& aa_dataset =
      gauge("modelarts_auto_annotation_dataset_samples",
            "Auto-annotated samples of a dataset as the list endpoint counts them (sample_count), "
            "including any beyond max_samples_per_round.");
  Family<Gauge>& aa_truncated =
      gauge("labelwatch_sample_round_truncated",
            "1 when the last sample-quality round stopped at max_samples_per_round before the "
            "end of the dataset's list, else 0.");
  Family<Gauge>& aa_last =
      gauge("labelwatch_sample_round_last_success_timestamp_seconds",
            "Unix time when the last sample-quality round of a dataset completed.");

  // Self.
  Family<Gauge>& build =
      gauge("labelwatch_build_info", "labelwatch build metadata; always 1. Label: version.");
  Family<Counter>& api_requests =
      counter("labelwatch_api_requests_total",
              "ModelArts and IAM API requests by operation and HTTP status code (or error class "
              "when no response arrived).");
  Family<Histogram>& api_duration = histogram(
      "labelwatch_api_request_duration_seconds",
      "Duration of ModelArts and IAM API requests, including retries' individual attempts.");
  Family<Counter>& poll_errors =
      counter("labelwatch_poll_errors_total", "Failed polls by kind and error class.");
  Family<Counter>& events_dropped = counter(
      "labelwatch_events_dropped_total",
      "Events a sink could not deliver (write failure, stalled reader, full queue), by sink.");
  Family<Gauge>& tracked =
      gauge("labelwatch_tracked_tasks", "Tasks labelwatch currently watches, by kind.");
  const std::uint8_t last_success = task_gauge("labelwatch_task_last_success_timestamp_seconds",
                                      "Unix time of the last successful read of a task.", label_last_success);
  Family<Gauge>& reload_ok =
      gauge("labelwatch_config_last_reload_successful",
            "1 if the last configuration load or reload succeeded, 0 if it was rejected.");
  Family<Gauge>& token_expiry =
      gauge("labelwatch_auth_token_expiry_timestamp_seconds",
            "Unix time when the current IAM token expires (token authentication only).");
  Family<Histogram>& scheduler_lag = histogram(
      "labelwatch_scheduler_lag_seconds",
      "Delay between when a poll was due and when it was started.");
  Histogram* scheduler_lag_series = nullptr;
  Family<Counter>& state_write_errors = counter(
      "labelwatch_state_write_errors_total",
      "State store transactions that failed (their writes are kept and retried), by reason.");

  // After every task_gauge() above: built from task_specs.
  detail::task_series tasks{std::move(task_specs)};
  std::array<Counter*, 2 * k_workforce_statuses * k_workforce_statuses> transition_slots{};
  string_map<api_operation> api_ops;
  string_map<std::array<Counter*, 16>> poll_error_slots;  // by errc class 0..9, rest "other"
  std::array<Gauge*, 2> tracked_slots{};
  Gauge* reload_slot = nullptr;
  Gauge* token_slot = nullptr;
  std::map<std::string, dataset_quality, std::less<>> quality;

  // ---- helpers ----

  // The task's labels beyond dataset_id and task_id live in task_record::strings.
  static constexpr std::size_t k_name = 0, k_algorithm = 1, k_first_worker = 2;
  // Worker series ids: worker slot * k_worker_stride + state index.
  static constexpr std::uint32_t k_worker_stride = 16;

  void set_info(detail::task_record& t, std::uint8_t family, const std::string& name,
                const std::string& algorithm) {
    if (t.strings.size() < k_first_worker) t.strings.resize(k_first_worker);
    if (t.strings[k_name] != name || t.strings[k_algorithm] != algorithm) {
      t.strings[k_name] = name;
      t.strings[k_algorithm] = algorithm;
      detail::task_series::touch(t, auto_info);
      detail::task_series::touch(t, wf_info);
    }
    detail::task_series::set(t, family, 0, 1.0);
  }

  // A state set: every status of the kind, 1 for the current one, 0 for the others.
  static void set_state_set(detail::task_record& t, std::uint8_t family, std::size_t statuses,
                            std::size_t index) {
    for (std::size_t i = 0; i < statuses; ++i)
      detail::task_series::set(t, family, static_cast<std::uint32_t>(i), i == index ? 1.0 : 0.0);
  }

  void remove_workers(detail::task_record& t) {
    detail::task_series::erase_if(t, wf_worker, [](std::uint32_t) { return true; });
    if (t.strings.size() > k_first_worker) t.strings.resize(k_first_worker);
  }

  void update_workers(detail::task_record& t, const std::vector<modelarts::worker_task>& workers) {
    // Worker ids in first-seen order; a repeated id updates the same series.
    std::vector<std::string_view> ids;
    for (const auto& w : workers)
      if (!w.worker_id.empty() && std::find(ids.begin(), ids.end(), w.worker_id) == ids.end())
        ids.push_back(w.worker_id);
    const bool same = t.strings.size() == k_first_worker + ids.size() &&
                      std::equal(ids.begin(), ids.end(), t.strings.begin() + k_first_worker);
    if (!same) {
      // Members joined or left: the ids behind the slots moved, so start over.
      remove_workers(t);
      t.strings.resize(k_first_worker);
      for (auto id : ids) t.strings.emplace_back(id);
      detail::task_series::touch(t, wf_worker);
    }
    for (const auto& w : workers) {
      if (w.worker_id.empty()) continue;
      const auto slot = static_cast<std::uint32_t>(
          std::find(ids.begin(), ids.end(), w.worker_id) - ids.begin());
      const auto values =
          w.stats ? sample_values(*w.stats) : std::array<std::optional<std::int64_t>, 9>{};
      for (std::size_t i = 0; i < k_sample_states.size(); ++i) {
        detail::task_series::set(t, wf_worker,
                                 slot * k_worker_stride + static_cast<std::uint32_t>(i),
                                 as_double(values[i]));
      }
    }
  }

  Counter& api_counter(api_operation& op, std::string_view operation, std::string_view code) {
    auto it = op.by_code.find(code);
    if (it == op.by_code.end()) {
      auto& c =
          api_requests.Add({{"operation", std::string(operation)}, {"code", std::string(code)}});
      it = op.by_code.emplace(std::string(code), &c).first;
    }
    return *it->second;
  }

  api_operation& api_op(std::string_view operation) {
    auto it = api_ops.find(operation);
    if (it == api_ops.end()) {
      api_operation op;
      op.duration =
          &api_duration.Add({{"operation", std::string(operation)}}, k_api_duration_buckets);
      it = api_ops.emplace(std::string(operation), std::move(op)).first;
    }
    return it->second;
  }

  void observe_api(std::string_view operation, std::string_view code, double seconds) {
    auto& op = api_op(operation);
    api_counter(op, operation, code).Increment();
    if (std::isfinite(seconds) && seconds >= 0.0) op.duration->Observe(seconds);
  }
};

metrics::metrics(std::string_view version) : impl_(std::make_unique<impl>()) {
  impl_->build.Add({{"version", std::string(version)}}).Set(1.0);
}

metrics::~metrics() = default;

prometheus::Registry& metrics::registry() noexcept {
  return impl_->registry;
}

std::size_t metrics::task_count() const noexcept {
  return impl_->tasks.size();
}

void metrics::update_auto_task(const task_key& key, const modelarts::auto_task& task,
                               sys_time status_since, sys_time last_success) {
  using detail::task_series;
  auto& m = *impl_;
  auto& t = m.tasks.record(key);

  m.set_info(t, m.auto_info, task.task_name, task.config.algorithm_type);
  impl::set_state_set(t, m.auto_status, all_auto_statuses().size(),
                      status_index(task_kind::auto_labeling, task.status_code));

  std::optional<double> progress;
  if (auto p = finite(task.progress)) progress = std::clamp(*p / 100.0, 0.0, 1.0);
  task_series::set(t, m.auto_progress, 0, progress);

  const auto* r = task.result ? &*task.result : nullptr;
  const std::array<std::optional<std::int64_t>, 3> counts{
      task.total_sample_count ? task.total_sample_count
                              : (r ? r->total_sample_count : std::nullopt),
      task.annotated_sample_count ? task.annotated_sample_count
                                  : (r ? r->annotated_sample_count : std::nullopt),
      task.unconfirmed_sample_count ? task.unconfirmed_sample_count
                                    : (r ? r->unconfirmed_sample_count : std::nullopt)};
  for (std::size_t i = 0; i < counts.size(); ++i)
    task_series::set(t, m.auto_samples, static_cast<std::uint32_t>(i), as_double(counts[i]));

  task_series::set(t, m.auto_since, 0, to_unix_seconds(status_since));
  task_series::set(t, m.last_success, 0, to_unix_seconds(last_success));
}

void metrics::update_workforce_task(const task_key& key, const modelarts::workforce_task& task,
                                    sys_time status_since, sys_time last_success,
                                    bool worker_metrics) {
  using detail::task_series;
  auto& m = *impl_;
  auto& t = m.tasks.record(key);

  m.set_info(t, m.wf_info, task.task_name, {});
  impl::set_state_set(t, m.wf_status, all_workforce_statuses().size(),
                      status_index(task_kind::workforce, task.status_code));

  const auto values =
      task.stats ? sample_values(*task.stats) : std::array<std::optional<std::int64_t>, 9>{};
  for (std::size_t i = 0; i < k_sample_states.size(); ++i)
    task_series::set(t, m.wf_samples, static_cast<std::uint32_t>(i), as_double(values[i]));

  task_series::set(t, m.wf_pass, 0, ratio(task.pass_rate));
  task_series::set(t, m.wf_score, 0, finite(task.score));
  task_series::set(t, m.wf_check, 0, ratio(task.check_rate));

  const modelarts::check_task_stats* cs = nullptr;
  if (task.checking && task.checking->checking_stats) cs = &*task.checking->checking_stats;
  const std::array<std::optional<std::int64_t>, 5> acceptance{
      cs ? cs->sampled_sample_count : std::nullopt, cs ? cs->checked_sample_count : std::nullopt,
      cs ? cs->accepted_sample_count : std::nullopt, cs ? cs->rejected_sample_count : std::nullopt,
      cs ? cs->unchecked_sample_count : std::nullopt};
  for (std::size_t i = 0; i < acceptance.size(); ++i)
    task_series::set(t, m.wf_acceptance, static_cast<std::uint32_t>(i), as_double(acceptance[i]));

  if (worker_metrics) {
    m.update_workers(t, task.workers);
  } else {
    m.remove_workers(t);
  }

  task_series::set(t, m.wf_since, 0, to_unix_seconds(status_since));
  task_series::set(t, m.last_success, 0, to_unix_seconds(last_success));
}

bool metrics::remove_task(const task_key& key) {
  return impl_->tasks.remove(key);
}

void metrics::count_transition(task_kind kind, std::int64_t from_code, std::int64_t to_code) {
  auto& m = *impl_;
  const std::size_t from = status_index(kind, from_code);
  const std::size_t to = status_index(kind, to_code);
  const std::size_t slot =
      (static_cast<std::size_t>(kind) * k_workforce_statuses + from) * k_workforce_statuses + to;
  auto*& c = m.transition_slots[slot];
  if (c == nullptr) {
    c = &m.transitions.Add({{"kind", std::string(to_string(kind))},
                            {"from", std::string(status_name_at(kind, from))},
                            {"to", std::string(status_name_at(kind, to))}});
  }
  c->Increment();
}

void metrics::count_acceptance(std::string_view rule, std::string_view action,
                               acceptance_outcome outcome) {
  // Decisions are rare (bounded per hour); no cache needed.
  impl_->acceptance_actions
      .Add({{"rule", std::string(rule)},
            {"action", std::string(action)},
            {"outcome", std::string(to_string(outcome))}})
      .Increment();
}

void metrics::declare_acceptance_rule(std::string_view rule, std::string_view action) {
  for (auto o : {acceptance_outcome::applied, acceptance_outcome::dry_run,
                 acceptance_outcome::skipped, acceptance_outcome::failed}) {
    impl_->acceptance_actions.Add({{"rule", std::string(rule)},
                                   {"action", std::string(action)},
                                   {"outcome", std::string(to_string(o))}});
  }
}

void metrics::count_poll_error(std::string_view kind, errc reason) {
  auto& m = *impl_;
  auto it = m.poll_error_slots.find(kind);
  if (it == m.poll_error_slots.end())
    it = m.poll_error_slots.emplace(std::string(kind), std::array<Counter*, 16>{}).first;
  const auto raw = static_cast<int>(reason);
  // Classes 1..9 and the local failures 100..105 get their own slot; anything else
  // shares "other" in slot 0.
  std::size_t slot = 0;
  if (raw >= 1 && raw <= 9) slot = static_cast<std::size_t>(raw);
  if (raw >= 100 && raw <= 105) slot = static_cast<std::size_t>(raw - 90);
  auto*& c = it->second[slot];
  if (c == nullptr) {
    c = &m.poll_errors.Add(
        {{"kind", std::string(kind)}, {"reason", std::string(modelarts::error_kind_name(reason))}});
  }
  c->Increment();
}

void metrics::count_poll_error(task_kind kind, errc reason) {
  count_poll_error(to_string(kind), reason);
}

void metrics::observe_api_response(std::string_view operation, unsigned http_status,
                                   double seconds) {
  std::array<char, 12> buf{};
  const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), http_status).ptr;
  impl_->observe_api(
      operation, std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())), seconds);
}

void metrics::observe_api_failure(std::string_view operation, errc reason, double seconds) {
  impl_->observe_api(operation, modelarts::error_kind_name(reason), seconds);
}

void metrics::observe_api_request(std::string_view operation, std::string_view code,
                                  double seconds) {
  impl_->observe_api(operation, code, seconds);
}

void metrics::observe_scheduler_lag(double seconds) {
  auto& m = *impl_;
  if (m.scheduler_lag_series == nullptr) {
    m.scheduler_lag_series = &m.scheduler_lag.Add(
        {}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5, 1, 2.5, 5, 10});
  }
  m.scheduler_lag_series->Observe(seconds);
}

void metrics::count_state_write_error(std::string_view reason) {
  impl_->state_write_errors.Add({{"reason", std::string(reason)}}).Increment();
}

void metrics::count_event_dropped(std::string_view sink) {
  // Drops are rare; no cache needed.
  impl_->events_dropped.Add({{"sink", std::string(sink)}}).Increment();
}

void metrics::declare_event_sink(std::string_view sink) {
  impl_->events_dropped.Add({{"sink", std::string(sink)}});
}

void metrics::set_tracked_tasks(task_kind kind, std::size_t n) {
  auto& m = *impl_;
  auto*& g = m.tracked_slots[static_cast<std::size_t>(kind)];
  if (g == nullptr) g = &m.tracked.Add({{"kind", std::string(to_string(kind))}});
  g->Set(static_cast<double>(n));
}

void metrics::set_config_reload_successful(bool ok) {
  auto& m = *impl_;
  if (m.reload_slot == nullptr) m.reload_slot = &m.reload_ok.Add({});
  m.reload_slot->Set(ok ? 1.0 : 0.0);
}

void metrics::set_token_expiry(std::optional<sys_time> expires_at) {
  auto& m = *impl_;
  std::optional<double> v;
  if (expires_at) v = to_unix_seconds(*expires_at);
  set_optional(m.token_expiry, m.token_slot, v, [] { return Labels{}; });
}

void metrics::update_sample_quality(const std::string& dataset_id, const sample_quality_view& round,
                                    sys_time finished) {
  auto& m = *impl_;
  auto& q = m.quality[dataset_id];
  const Labels base{{"dataset_id", dataset_id}};

  // Sanitising can merge two raw names into one label value; add them up.
  std::map<std::string, double, std::less<>> statuses;
  for (const auto& [raw, n] : round.samples_by_status)
    statuses[sanitise_label_value(raw)] += static_cast<double>(n);
  for (auto it = q.by_status.begin(); it != q.by_status.end();) {
    if (statuses.count(it->first) == 0) {
      m.aa_samples.Remove(it->second);
      it = q.by_status.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, n] : statuses) {
    auto& slot = q.by_status[name];
    if (slot == nullptr) slot = &m.aa_samples.Add(with(base, "sample_status", name));
    slot->Set(n);
  }

  // A histogram cannot be reset in prometheus-cpp 1.0: replace it.
  for (auto& [name, h] : q.scores) m.aa_score.Remove(h);
  q.scores.clear();
  const std::vector<double> bounds(score_distribution::upper_bounds.begin(),
                                   score_distribution::upper_bounds.end());
  for (const auto& [label_name, dist] : round.scores) {
    auto& h =
        m.aa_score.Add(label_name.empty() ? base : with(base, "label_name", label_name), bounds);
    std::vector<double> increments(dist.counts.begin(), dist.counts.end());
    h.ObserveMultiple(increments, dist.sum);
    q.scores.emplace(label_name, &h);
  }

  set_optional(m.aa_hard, q.hard, static_cast<double>(round.hard_samples), [&] { return base; });

  std::map<std::string, double, std::less<>> reasons;
  for (const auto& [raw, n] : round.hard_reasons)
    reasons[sanitise_label_value(raw)] += static_cast<double>(n);
  for (auto it = q.reasons.begin(); it != q.reasons.end();) {
    if (reasons.count(it->first) == 0) {
      m.aa_reasons.Remove(it->second);
      it = q.reasons.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, n] : reasons) {
    auto& slot = q.reasons[name];
    if (slot == nullptr) slot = &m.aa_reasons.Add(with(base, "reason", name));
    slot->Set(n);
  }

  std::optional<double> listed;
  if (round.dataset_samples) listed = static_cast<double>(*round.dataset_samples);
  set_optional(m.aa_dataset, q.dataset, listed, [&] { return base; });
  set_optional(m.aa_truncated, q.truncated, round.truncated ? 1.0 : 0.0, [&] { return base; });
  set_optional(m.aa_last, q.last_success, to_unix_seconds(finished), [&] { return base; });
}

bool metrics::remove_sample_quality(const std::string& dataset_id) {
  auto& m = *impl_;
  const auto it = m.quality.find(dataset_id);
  if (it == m.quality.end()) return false;
  auto& q = it->second;
  for (auto& [n, g] : q.by_status) m.aa_samples.Remove(g);
  for (auto& [n, h] : q.scores) m.aa_score.Remove(h);
  for (auto& [n, g] : q.reasons) m.aa_reasons.Remove(g);
  remove(m.aa_hard, q.hard);
  remove(m.aa_dataset, q.dataset);
  remove(m.aa_truncated, q.truncated);
  remove(m.aa_last, q.last_success);
  m.quality.erase(it);
  return true;
}

std::string metrics::serialize() const {
  std::string out;
  impl_->tasks.serialize(out);
  detail::serialize_families(out, impl_->registry.Collect());
  return out;
}

std::vector<std::string> metrics::family_names() const {
  return impl_->names;
}

}  // namespace labelwatch::observe
