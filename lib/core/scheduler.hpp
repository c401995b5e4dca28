// When each job of the poll loop runs next: pure timing arithmetic, driven by a thin
// coroutine in app/ (sans-io). The driver arms one timer at next_due(), takes what is
// due with pop_due(now) (bounded by its in-flight slots and the rate_limiter below),
// runs each job and reports back with completed() or failed(). Nothing here reads a
// clock or draws a random number: both come in as parameters, so tests are exact.
//
// Timing rules:
// - A job's interval comes from its cadence: a status class (poll jobs:
//   active/idle/terminal_interval) or a fixed interval (discovery, sample quality).
// - After a successful run at `now`: due = now + interval * (1 + jitter * (2u - 1)),
//   u a uniform draw in [0, 1), jitter 0.1 by default (±10%). The job remembers its
//   anchor (`now`) and factor so a changed interval can be applied to it later.
// - An interval of 0 (terminal_interval = "0s") parks the job: it stays registered but
//   is never due until its interval becomes non-zero again.
// - After a failed run: failures += 1 and
//     due = now + max(min_retry_delay, retry_after, full_jitter_backoff(failures,
//                                                   interval, cap, u))
//   with cap = max(max_backoff (default: idle_interval), interval). The first failure
//   draws from [0, 2 * interval), i.e. on average the usual cadence, and each further
//   failure doubles the window up to the cap. Only that job moves; no other due time
//   changes. A success resets the count.
// - Configuration changes (set_settings, set_cadence) recompute the due time of every
//   queued job whose interval changed and that is not backing off, as
//   anchor + new interval * its factor: a shorter interval takes effect at once (a job
//   may become due immediately), a longer one postpones. Backing-off jobs keep their
//   retry time; running jobs use the new interval when they complete; parked jobs are
//   queued again if their interval became non-zero.
//
// Complexity: add, remove, set_cadence, reschedule, completed, failed and popping one
// job are O(log n); set_settings is O(n log n).
//
// Thread safety: none; one instance belongs to the loop.
#pragma once

#include "config/config.hpp"
#include "core/task.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace labelwatch {

// The scheduler runs on the monotonic clock so a wall-clock step never bunches or
// delays polls. (The tracker and events use sys_time.)
using mono_time = std::chrono::steady_clock::time_point;

enum class job_type : std::uint8_t {
  poll_task,       // GET one task's detail
  discover,        // list a dataset's tasks of one kind
  sample_quality,  // one sample-quality round of a dataset
};
std::string_view to_string(job_type t) noexcept;  // "poll_task" | "discover" | "sample_quality"

// What a job does. poll_task: `task` is the task. discover: task.kind is the list to
// read, task.dataset_id the dataset, task.task_id empty. sample_quality: dataset_id only
// (kind auto_labeling, task_id empty).
struct job_key {
  job_type type = job_type::poll_task;
  task_key task;

  static job_key poll(task_key key) { return {job_type::poll_task, std::move(key)}; }
  static job_key discover(task_kind kind, std::string dataset_id) {
    return {job_type::discover, task_key{kind, std::move(dataset_id), {}}};
  }
  static job_key sample_quality(std::string dataset_id) {
    return {job_type::sample_quality, task_key{task_kind::auto_labeling, std::move(dataset_id), {}}};
  }

  friend bool operator==(const job_key&, const job_key&) = default;
  friend auto operator<=>(const job_key&, const job_key&) = default;
};

struct job_key_hash {
  std::size_t operator()(const job_key& k) const noexcept {
    return task_key_hash{}(k.task) * 3 + static_cast<std::size_t>(k.type);
  }
};

// A status class (interval from the settings) or a fixed interval.
using cadence = std::variant<status_class, milliseconds>;

struct scheduler_settings {
  milliseconds active_interval{std::chrono::seconds{15}};
  milliseconds idle_interval{std::chrono::minutes{5}};
  milliseconds terminal_interval{std::chrono::hours{1}};  // 0: park terminal jobs
  double jitter = 0.1;                                     // ± fraction of the interval
  milliseconds min_retry_delay{std::chrono::seconds{1}};   // floor of a failure's delay
  milliseconds max_backoff{0};                             // 0: idle_interval

  // The three intervals from [poll]; the rest keeps its defaults.
  static scheduler_settings from(const config::poll_config& poll);
};

// One job handed to the driver. `due` is when it was due (lag = sent - due);
// `failures` the consecutive failures before this run.
struct due_job {
  job_key key;
  mono_time due;
  std::uint32_t failures = 0;
};

class scheduler {
 public:
  explicit scheduler(scheduler_settings settings = {});

  // Registers a job, first due at `due` (see spread_start()). Returns false and changes
  // nothing when the key is already registered.
  bool add(const job_key& key, cadence c, mono_time due);

  // Forgets a job whether queued, running or parked. A later completed()/failed() for
  // it is ignored. Returns whether it was registered.
  bool remove(const job_key& key);

  bool contains(const job_key& key) const noexcept;

  // Changes one job's cadence (rules in the header comment). Returns false for an
  // unknown key.
  bool set_cadence(const job_key& key, cadence c);

  // New intervals / jitter / backoff limits (rules in the header comment).
  void set_settings(const scheduler_settings& settings);
  const scheduler_settings& settings() const noexcept { return settings_; }

  // Takes up to `max` queued jobs with due <= now, earliest first (equal due times in
  // the order they were queued). They are running until completed() or failed().
  std::vector<due_job> pop_due(mono_time now,
                               std::size_t max = std::numeric_limits<std::size_t>::max());

  // The earliest due time among queued jobs; nullopt when none is queued.
  std::optional<mono_time> next_due() const noexcept;

  // The job ran successfully at `now`; `unit` is a uniform draw in [0, 1) for the
  // jitter; `c` replaces its cadence (a poll's new status class). Returns the next due
  // time, or nullopt when the job is parked or not registered (or not running).
  std::optional<mono_time> completed(const job_key& key, mono_time now, double unit,
                                     std::optional<cadence> c = std::nullopt);

  // The job failed at `now`; `unit` is a uniform draw in [0, 1) for the backoff;
  // `retry_after` (a server's Retry-After) is a lower bound of the delay. Returns the
  // next due time, or nullopt when the job is not registered (or not running).
  std::optional<mono_time> failed(const job_key& key, mono_time now, double unit,
                                  std::optional<milliseconds> retry_after = std::nullopt);

  // Makes a queued or parked job due at `due` (e.g. poll a task right away). A running
  // job is left alone. Returns whether the job was moved.
  bool reschedule(const job_key& key, mono_time due);

  // The interval a cadence means under the current settings.
  milliseconds interval_of(const cadence& c) const noexcept;

  // The due time of a queued job; nullopt when running, parked or unknown.
  std::optional<mono_time> due_of(const job_key& key) const noexcept;
  std::uint32_t failures_of(const job_key& key) const noexcept;

  std::size_t size() const noexcept { return jobs_.size(); }  // registered
  std::size_t queued() const noexcept { return queue_.size(); }
  std::size_t running() const noexcept { return running_; }

 private:
  enum class phase : std::uint8_t { queued, running, parked };
  struct job {
    cadence cad;
    phase ph = phase::queued;
    mono_time due{};
    std::uint64_t seq = 0;  // queue tie-breaker, unique while queued
    // The last success and its jitter factor; unset until the first success.
    std::optional<mono_time> anchor;
    double factor = 1.0;
    std::uint32_t failures = 0;
  };
  struct queue_entry {
    mono_time due;
    std::uint64_t seq;
    const job_key* key;  // points into jobs_ (node-based: stable)
    friend bool operator<(const queue_entry& a, const queue_entry& b) noexcept {
      return a.due != b.due ? a.due < b.due : a.seq < b.seq;
    }
  };
  using job_map = std::unordered_map<job_key, job, job_key_hash>;

  void enqueue(job_map::iterator it, mono_time due);
  void dequeue(job_map::iterator it);
  void apply_interval(job_map::iterator it);  // the config-change rule
  milliseconds backoff_cap(milliseconds interval) const noexcept;

  scheduler_settings settings_;
  job_map jobs_;
  std::set<queue_entry> queue_;
  std::uint64_t next_seq_ = 0;
  std::size_t running_ = 0;
};

// First due time of a job added at `now` so that jobs added together spread evenly
// over one interval instead of firing together: now + interval * unit.
mono_time spread_start(mono_time now, milliseconds interval, double unit) noexcept;

// Scheduling lag of one send, in seconds, never negative: the value to observe in a
// latency histogram (due -> sent).
double lag_seconds(mono_time due, mono_time sent) noexcept;

// Token bucket for [poll] max_rate: `rate` tokens per second, at most `burst` stored.
// Starts full.
class rate_limiter {
 public:
  rate_limiter(double rate_per_second, double burst, mono_time now) noexcept;

  // Takes a token if one is available at `now`.
  bool try_acquire(mono_time now) noexcept;
  // When the next token is available (`now` when one is).
  mono_time next_available(mono_time now) const noexcept;
  // New rate and burst (config reload); stored tokens are kept, capped at the burst.
  void set_rate(double rate_per_second, double burst, mono_time now) noexcept;

 private:
  void refill(mono_time now) noexcept;
  double rate_;
  double burst_;
  double tokens_;
  mono_time last_;
};

}  // namespace labelwatch
