// Plain views of the daemon's state that the HTTP endpoints and the status page render
// from. The app maps tracker state onto them; nothing here knows the tracker, the
// scheduler or the loop, so every rendering is tested with hand-made values.
#pragma once

#include "core/status.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "modelarts/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::observe {

// One watched task as operators see it.
struct task_view {
  task_kind kind = task_kind::auto_labeling;
  std::string dataset_id;
  std::string task_id;
  std::string task_name;
  std::int64_t status_code = 0;  // raw; the name is status_name(kind, status_code)
  // 0..1. Auto tasks: the API's progress percent / 100. Team tasks (no progress in the
  // API): the share of samples that are no longer unannotated.
  std::optional<double> progress_ratio;
  // Sample counts by state in display order: auto "total|annotated|unconfirmed",
  // workforce the nine sample_stats states. Absent counts are left out.
  std::vector<std::pair<std::string, std::int64_t>> samples;
  // Workforce acceptance (checking_stats): "sampled|checked|accepted|rejected|unchecked".
  std::vector<std::pair<std::string, std::int64_t>> acceptance;
  std::optional<double> acceptance_pass_rate;  // checking_stats.pass_rate, 0..1
  std::string acceptance_score;                // checking_stats.score, e.g. "A"
  std::optional<double> pass_rate;             // task pass_rate, 0..1
  std::optional<double> score;                 // task average score
  std::optional<double> check_rate;            // task check_rate, 0..1
  // What the API said about a failure (auto tasks: error_code / error_msg).
  std::string api_error_code;
  std::string api_error_msg;
  std::optional<sys_time> status_since;  // when the current status was first seen
  std::optional<sys_time> last_success;  // last successful read
  std::optional<sys_time> last_error_at;
  std::string last_error;  // the last poll error, for people (never a secret)
  bool stalled = false;

  std::string_view status() const noexcept { return status_name(kind, status_code); }
  bool failed() const noexcept { return kind == task_kind::auto_labeling && status_code == 2; }
};

// The snapshot-derived fields of a task view (identity, status, progress, counts,
// acceptance, API error); the caller adds status_since, last_success, last_error and
// stalled from the tracker. Same derivations as metrics: progress percent / 100
// clamped to 0..1, list-level counts before `result`, ratios outside 0..1 dropped.
task_view make_task_view(const task_key& key, const modelarts::auto_task& t);
task_view make_task_view(const task_key& key, const modelarts::workforce_task& t);

// What /healthz and /readyz decide from.
struct health_view {
  sys_time now{};
  // When the event loop last finished a turn; nullopt before the first one.
  std::optional<sys_time> last_loop_turn;
  milliseconds loop_stall_after{std::chrono::seconds{30}};
  bool config_loaded = false;
  bool auth_ok = false;
  std::string auth_problem;  // why auth is failing, for people (never a secret)
  bool first_poll_done = false;
  std::string version;
  std::optional<sys_time> started;
};

struct check_result {
  bool ok = false;
  std::string reason;  // "ok", "ready" or what is wrong
};

// Alive while the loop turned within loop_stall_after.
check_result evaluate_liveness(const health_view& h);
// Ready once the config is loaded, auth works and the first poll round finished; the
// reason lists every unmet condition.
check_result evaluate_readiness(const health_view& h);

// "45s", "3m 20s", "3h 12m", "2d 4h": two most significant units, for people.
std::string format_age(milliseconds d);

}  // namespace labelwatch::observe
