// The monitoring engine: the thin coroutine around the pure core. It keeps every watched
// task's tracked state, drives the scheduler (core/scheduler.hpp), polls through the API
// client, feeds observations to the tracker (core/tracker.hpp), commits what changed to
// the store and only then emits the tracker's events and updates the metrics.
//
// Jobs: one poll job per watched task, two discovery jobs (auto, workforce) per
// `[[watch]]` with discover = true, one sample-quality round per `[[watch]]` with
// sample_quality = true. At most `[poll] max_in_flight` poll and discovery jobs run at
// once (sample rounds do not count: one round must never hold a slot polls need); the
// HTTPS client enforces max_in_flight and max_rate again per request, for every
// operation together. A slow or failing task only delays itself: each job is its own
// coroutine and failures back off per job.
//
// Ordering: a job's events are published after the commit that records its state. When
// a commit fails (disk full) the events are held and published after the next successful
// commit, which the store guarantees covers the held writes too (or after a successful
// flush, which the engine tries every 2 s while writes fail, so the held events go out
// even when nothing changes once the disk has room again). So a restart never re-emits
// a transition, and nothing is emitted whose state is not on disk.
//
// Which tasks are watched: the explicit ids of each `[[watch]]`, plus, for watches with
// discover = true, every task the list endpoints return and every task the store
// remembers for that dataset. A task that is gone (404, or 400 with a gone code) is not
// polled until discovery lists it again. A task that leaves the configuration loses its
// metric series; its stored state stays (it continues if it comes back).
//
// Threading: everything runs on the one executor given to the constructor.
#pragma once

#include "app/watchdog.hpp"
#include "config/config.hpp"
#include "core/scheduler.hpp"
#include "core/tracker.hpp"
#include "net/asio_fwd.hpp"
#include "observe/views.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace labelwatch::modelarts {
class api_client;
struct api_error;
}  // namespace labelwatch::modelarts
namespace labelwatch::store {
class state_store;
}
namespace labelwatch::observe {
class metrics;
class event_fanout;
}  // namespace labelwatch::observe

namespace labelwatch::app {

// Called after a workforce task's fresh state was committed (the acceptance executor
// hooks in here). Runs on the engine's executor; must not block.
using workforce_hook = std::function<void(const tracked_task& state)>;

// Runs one sample-quality round of a dataset (issue 10); returns false when the round
// failed (the job backs off). Set before the first configure(): the engine schedules a
// round per `[[watch]]` with sample_quality = true, every sample_quality_interval.
using sample_round = std::function<net::awaitable<bool>(const config::watch_config& watch,
                                                        modelarts::api_client& api)>;

struct engine_status {
  std::size_t watched_auto = 0;
  std::size_t watched_workforce = 0;
  std::size_t in_flight = 0;
  bool first_round_done = false;
  bool auth_ok = false;
  std::string auth_problem;  // why auth is failing (never a secret)
  std::string last_error;    // the latest poll or store failure, for STATUS=
  std::optional<sys_time> last_loop_iteration;
  loop_progress loop;  // what the systemd watchdog judges (app/watchdog.hpp)
};

class engine {
 public:
  engine(net::asio::any_io_executor ex, store::state_store& store, observe::metrics& metrics,
         observe::event_fanout& events);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Takes the states loaded from the store (once, before the first configure()).
  // Snapshots are restored so metrics and views are right before the first poll.
  void load(std::vector<tracked_task> states);

  // Applies a configuration: the first one, or a reload. Watches, intervals and the
  // client take effect as a difference: new tasks are scheduled, removed ones stop and
  // lose their series, changed intervals apply (scheduler rules). `api` is the client
  // for every job started from now on; running jobs finish with the one they have.
  void configure(const config::daemon_config& cfg, std::shared_ptr<modelarts::api_client> api);

  // Runs the driver until stop(). Must be started once, after configure().
  net::awaitable<void> run();

  // Stops starting jobs (SIGTERM). Running jobs continue; see drain().
  void stop();

  // Waits until no job is running or `bound` passed; true when all finished.
  net::awaitable<bool> drain(milliseconds bound);

  void set_workforce_hook(workforce_hook hook) { workforce_hook_ = std::move(hook); }
  void set_sample_round(sample_round round) { sample_round_ = std::move(round); }

  // Polls one task as soon as a slot is free (after an acceptance action, say).
  void poll_soon(const task_key& key);

  std::vector<observe::task_view> views() const;
  engine_status status() const;
  const tracked_task* find(const task_key& key) const;

 private:
  struct watched_task {
    bool explicit_id = false;
    bool discovered = false;
  };

  net::awaitable<void> run_job(due_job job, std::shared_ptr<modelarts::api_client> api);
  net::awaitable<void> poll_task(const due_job& job, modelarts::api_client& api);
  net::awaitable<void> discover(const due_job& job, modelarts::api_client& api);
  net::awaitable<void> sample_quality(const due_job& job, modelarts::api_client& api);
  net::awaitable<void> commit_and_emit(tracker_output out);
  net::awaitable<void> retry_store();
  void store_recovered();
  void handle_poll_failure(const due_job& job, const modelarts::api_error& err);
  void emit(const event& e);
  void note_auth(bool ok, const std::string& problem, sys_time now);
  void watch(const task_key& key, bool explicit_id, bool discovered, mono_time due);
  void unwatch(const task_key& key);
  void refresh_metrics(const tracked_task& t);
  void update_tracked_gauges();
  void finished_first(const job_key& key);
  void wake();
  double draw();
  sys_time wall_now() const;
  mono_time mono_now() const;

  net::asio::any_io_executor ex_;
  store::state_store& store_;
  observe::metrics& metrics_;
  observe::event_fanout& events_;
  std::shared_ptr<modelarts::api_client> api_;
  config::daemon_config cfg_;
  bool configured_ = false;
  tracker_settings tracker_settings_;
  scheduler scheduler_;
  net::asio::steady_timer wake_timer_;
  std::mt19937_64 rng_;

  std::unordered_map<task_key, tracked_task, task_key_hash> states_;
  std::unordered_map<task_key, watched_task, task_key_hash> watched_;
  std::unordered_map<std::string, config::watch_config> watches_;  // by dataset id

  std::size_t in_flight_ = 0;         // poll and discovery jobs (bounded by max_in_flight)
  std::size_t rounds_in_flight_ = 0;  // sample-quality rounds (outside that bound)
  bool stopping_ = false;
  std::vector<event> held_events_;  // waiting for a successful commit
  bool store_failing_ = false;

  std::unordered_set<job_key, job_key_hash> first_round_pending_;
  bool first_round_done_ = false;
  std::optional<bool> auth_ok_;
  std::string auth_problem_;
  std::string last_error_;
  std::optional<sys_time> last_iteration_;
  std::optional<mono_time> last_turn_;          // driver iteration, monotonic
  std::optional<mono_time> last_job_activity_;  // a job started or finished
  workforce_hook workforce_hook_;
  sample_round sample_round_;
};

}  // namespace labelwatch::app
