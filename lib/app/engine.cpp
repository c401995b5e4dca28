#include "app/engine.hpp"

#include "modelarts/api_client.hpp"
#include "modelarts/api_error.hpp"
#include "observe/events.hpp"
#include "observe/metrics.hpp"
#include "store/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace labelwatch::app {
namespace {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// The driver wakes at least this often, so stop() and the watchdog's notion of loop
// progress never wait on a long poll interval.
constexpr milliseconds k_max_driver_sleep{1000};

// While state writes fail, how often the engine asks the store to retry them when no
// new write comes along.
constexpr milliseconds k_store_retry{2000};

// What makes two failures of a task "the same failure" for the api_error event: the
// class, HTTP status and error code. Not the message: a detail can vary from poll to
// poll (where a cut-off document ends, which connect attempt failed) without saying
// anything new, and one event per poll would drown the log.
std::string failure_headline(const modelarts::api_error& e) {
  std::string out(modelarts::error_kind_name(e.kind));
  if (e.http_status != 0) out += " (HTTP " + std::to_string(e.http_status) + ")";
  if (!e.error_code.empty()) out += " " + e.error_code;
  return out;
}

// The message recorded for a failed poll: the headline, then the server's message and
// the local detail; no request id, so it is stable across attempts.
std::string stable_message(const modelarts::api_error& e) {
  std::string out = failure_headline(e);
  if (!e.error_msg.empty()) out += ": " + e.error_msg;
  if (!e.detail.empty()) out += (e.error_msg.empty() ? ": " : "; ") + e.detail;
  return out;
}

// The headline part of a message made by stable_message (kind names and error codes
// hold no ": ").
std::string_view headline_of(std::string_view message) {
  return message.substr(0, message.find(": "));
}

void add_error_fields(event& ev, const modelarts::api_error& e) {
  ev.fields["reason"] = modelarts::error_kind_name(e.kind);
  if (e.http_status != 0) ev.fields["http_status"] = e.http_status;
  if (!e.error_code.empty()) ev.fields["error_code"] = e.error_code;
  if (!e.error_msg.empty()) ev.fields["error_msg"] = e.error_msg;
  if (!e.detail.empty()) ev.fields["detail"] = e.detail;
  if (!e.request_id.empty()) ev.fields["request_id"] = e.request_id;
}

}  // namespace

engine::engine(net::asio::any_io_executor ex, store::state_store& store, observe::metrics& metrics,
               observe::event_fanout& events)
    : ex_(ex),
      store_(store),
      metrics_(metrics),
      events_(events),
      wake_timer_(ex),
      rng_(std::random_device{}()) {}

engine::~engine() = default;

sys_time engine::wall_now() const {
  return std::chrono::floor<milliseconds>(system_clock::now());
}

mono_time engine::mono_now() const { return steady_clock::now(); }

double engine::draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void engine::wake() { wake_timer_.cancel(); }

void engine::load(std::vector<tracked_task> states) {
  for (auto& s : states) {
    if (auto problem = restore_snapshot(s)) {
      spdlog::warn("state of {}: stored snapshot no longer decodes ({}); it is replaced at "
                   "the next poll",
                   to_string(s.key), *problem);
    }
    auto key = s.key;
    states_.emplace(std::move(key), std::move(s));
  }
}

void engine::configure(const config::daemon_config& cfg,
                       std::shared_ptr<modelarts::api_client> api) {
  const bool first = !configured_;
  api_ = std::move(api);
  tracker_settings_ = tracker_settings::from(cfg.poll);
  scheduler_.set_settings(scheduler_settings::from(cfg.poll));

  std::unordered_map<std::string, config::watch_config> watches;
  for (const auto& w : cfg.watches) watches.emplace(w.dataset_id, w);

  // The tasks that should be watched under the new configuration.
  std::unordered_map<task_key, watched_task, task_key_hash> wanted;
  for (const auto& w : cfg.watches) {
    for (const auto& id : w.auto_tasks)
      wanted[task_key{task_kind::auto_labeling, w.dataset_id, id}].explicit_id = true;
    for (const auto& id : w.workforce_tasks)
      wanted[task_key{task_kind::workforce, w.dataset_id, id}].explicit_id = true;
  }
  for (const auto& [key, state] : states_) {
    const auto it = watches.find(key.dataset_id);
    if (it != watches.end() && it->second.discover) wanted[key].discovered = true;
  }
  for (const auto& [key, w] : watched_) {
    const auto it = watches.find(key.dataset_id);
    if (w.discovered && it != watches.end() && it->second.discover) wanted[key].discovered = true;
  }

  // Stop what is no longer wanted.
  std::vector<task_key> leaving;
  for (const auto& [key, w] : watched_)
    if (!wanted.contains(key)) leaving.push_back(key);
  for (const auto& key : leaving) unwatch(key);

  // Discovery and sample-quality jobs follow the watches.
  for (const auto& [dataset, w] : watches_) {
    const auto it = watches.find(dataset);
    if (it == watches.end() || !it->second.discover) {
      scheduler_.remove(job_key::discover(task_kind::auto_labeling, dataset));
      scheduler_.remove(job_key::discover(task_kind::workforce, dataset));
    }
    if (it == watches.end() || !it->second.sample_quality)
      scheduler_.remove(job_key::sample_quality(dataset));
  }
  const auto now_m = mono_now();
  for (const auto& [dataset, w] : watches) {
    if (!w.sample_quality || !sample_round_) continue;
    const auto key = job_key::sample_quality(dataset);
    if (scheduler_.contains(key)) {
      scheduler_.set_cadence(key, w.sample_quality_interval);
    } else {
      scheduler_.add(key, w.sample_quality_interval, now_m);
    }
  }
  for (const auto& [dataset, w] : watches) {
    if (!w.discover) continue;
    for (auto kind : {task_kind::auto_labeling, task_kind::workforce}) {
      const auto key = job_key::discover(kind, dataset);
      if (scheduler_.contains(key)) {
        scheduler_.set_cadence(key, w.discover_interval);
      } else {
        scheduler_.add(key, w.discover_interval, now_m);
        if (first) first_round_pending_.insert(key);
      }
    }
  }

  // Start what is new. Tasks are spread over one active interval so a large fleet
  // does not fire at once; gone tasks wait for discovery.
  const auto spread = std::max(cfg.poll.active_interval / 4, milliseconds{1});
  for (const auto& [key, w] : wanted) {
    auto it = watched_.find(key);
    if (it != watched_.end()) {
      it->second = w;
      continue;
    }
    const auto st = states_.find(key);
    if (st != states_.end() && st->second.gone) continue;
    const bool known = st != states_.end() && st->second.seen();
    const auto due = known ? spread_start(now_m, spread, draw()) : now_m;
    watch(key, w.explicit_id, w.discovered, due);
    if (first) first_round_pending_.insert(job_key::poll(key));
  }

  watches_ = std::move(watches);
  cfg_ = cfg;
  configured_ = true;
  if (first_round_pending_.empty()) first_round_done_ = true;
  update_tracked_gauges();
  wake();
}

void engine::watch(const task_key& key, bool explicit_id, bool discovered, mono_time due) {
  watched_[key] = watched_task{explicit_id, discovered};
  const auto st = states_.find(key);
  const status_class cls = st != states_.end() && st->second.seen() ? st->second.cls()
                                                                    : status_class::active;
  scheduler_.add(job_key::poll(key), cls, due);
  if (st != states_.end() && st->second.seen()) refresh_metrics(st->second);
}

void engine::unwatch(const task_key& key) {
  watched_.erase(key);
  scheduler_.remove(job_key::poll(key));
  first_round_pending_.erase(job_key::poll(key));
  metrics_.remove_task(key);
}

void engine::refresh_metrics(const tracked_task& t) {
  const auto last_success = t.last_success.value_or(t.status_since);
  if (const auto* a = std::get_if<modelarts::auto_task>(&t.snapshot)) {
    metrics_.update_auto_task(t.key, *a, t.status_since, last_success);
  } else if (const auto* w = std::get_if<modelarts::workforce_task>(&t.snapshot)) {
    const auto it = watches_.find(t.key.dataset_id);
    const bool workers = it != watches_.end() && it->second.worker_metrics;
    metrics_.update_workforce_task(t.key, *w, t.status_since, last_success, workers);
  }
}

void engine::update_tracked_gauges() {
  std::size_t autos = 0, workforce = 0;
  for (const auto& [key, w] : watched_) (key.kind == task_kind::auto_labeling ? autos : workforce)++;
  metrics_.set_tracked_tasks(task_kind::auto_labeling, autos);
  metrics_.set_tracked_tasks(task_kind::workforce, workforce);
}

void engine::stop() {
  stopping_ = true;
  wake();
}

void engine::poll_soon(const task_key& key) {
  if (scheduler_.reschedule(job_key::poll(key), mono_now())) wake();
}

net::awaitable<void> engine::run() {
  while (!stopping_) {
    last_iteration_ = wall_now();
    const auto now_m = mono_now();
    last_turn_ = now_m;
    const std::size_t limit = std::max<std::uint32_t>(cfg_.poll.max_in_flight, 1);
    if (in_flight_ < limit) {
      for (auto& job : scheduler_.pop_due(now_m, limit - in_flight_)) {
        metrics_.observe_scheduler_lag(lag_seconds(job.due, now_m));
        // A sample round takes no job slot: its requests still go through the client's
        // max_in_flight/max_rate, one at a time, but a long round must not hold a slot
        // that task polls need.
        ++(job.key.type == job_type::sample_quality ? rounds_in_flight_ : in_flight_);
        last_job_activity_ = now_m;
        asio::co_spawn(ex_, run_job(std::move(job), api_), asio::detached);
      }
    }
    auto deadline = now_m + k_max_driver_sleep;
    if (in_flight_ < limit) {
      if (const auto next = scheduler_.next_due(); next && *next < deadline) deadline = *next;
    }
    wake_timer_.expires_at(deadline);
    co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

net::awaitable<bool> engine::drain(milliseconds bound) {
  const auto deadline = mono_now() + bound;
  asio::steady_timer timer(ex_);
  while (in_flight_ + rounds_in_flight_ > 0 && mono_now() < deadline) {
    // Jobs finish on this executor; look again soon rather than keeping a waiter list.
    timer.expires_after(std::chrono::milliseconds{20});
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return in_flight_ + rounds_in_flight_ == 0;
}

net::awaitable<void> engine::run_job(due_job job, std::shared_ptr<modelarts::api_client> api) {
  try {
    if (!api) {
      scheduler_.failed(job.key, mono_now(), draw());
    } else if (job.key.type == job_type::poll_task) {
      co_await poll_task(job, *api);
    } else if (job.key.type == job_type::discover) {
      co_await discover(job, *api);
    } else {
      co_await sample_quality(job, *api);
    }
  } catch (const std::exception& e) {
    // A bug in one job must not stop the others; the job backs off like a failure.
    spdlog::error("job {} {} failed unexpectedly: {}", to_string(job.key.type),
                  to_string(job.key.task), e.what());
    last_error_ = e.what();
    scheduler_.failed(job.key, mono_now(), draw());
  }
  finished_first(job.key);
  --(job.key.type == job_type::sample_quality ? rounds_in_flight_ : in_flight_);
  last_job_activity_ = mono_now();
  wake();
}

void engine::finished_first(const job_key& key) {
  if (first_round_done_) return;
  first_round_pending_.erase(key);
  if (first_round_pending_.empty()) {
    first_round_done_ = true;
    spdlog::info("first poll round done: {} tasks watched", watched_.size());
  }
}

net::awaitable<void> engine::poll_task(const due_job& job, modelarts::api_client& api) {
  const task_key key = job.key.task;
  std::string body;
  tracker_output out;
  std::optional<modelarts::api_error> failure;
  if (key.kind == task_kind::auto_labeling) {
    auto r = co_await api.get_auto_task(key.dataset_id, key.task_id, &body);
    if (!r) {
      failure = r.error();
    } else {
      const auto it = states_.find(key);
      out = track(it == states_.end() ? nullptr : &it->second, key, std::move(*r),
                    std::move(body), wall_now(), tracker_settings_);
    }
  } else {
    auto r = co_await api.get_workforce_task(key.dataset_id, key.task_id, false, &body);
    if (!r) {
      failure = r.error();
    } else {
      const auto it = states_.find(key);
      out = track(it == states_.end() ? nullptr : &it->second, key, std::move(*r),
                    std::move(body), wall_now(), tracker_settings_);
    }
  }
  if (!watched_.contains(key)) co_return;  // left the configuration while in flight

  if (failure) {
    handle_poll_failure(job, *failure);
    if (failure->kind == errc::not_found) {
      const auto it = states_.find(key);
      auto gone = mark_gone(it == states_.end() ? nullptr : &it->second, key, wall_now());
      watched_.erase(key);
      scheduler_.remove(job.key);
      metrics_.remove_task(key);
      update_tracked_gauges();
      co_await commit_and_emit(std::move(gone));
    } else {
      const auto it = states_.find(key);
      auto rec = record_failure(it == states_.end() ? nullptr : &it->second, key, failure->kind,
                                stable_message(*failure), wall_now());
      co_await commit_and_emit(std::move(rec));
    }
    co_return;
  }

  note_auth(true, {}, wall_now());
  const status_class cls = out.state.cls();
  if (out.transition) {
    metrics_.count_transition(key.kind, out.transition->from_code, out.transition->to_code);
  }
  co_await commit_and_emit(std::move(out));
  const auto it = states_.find(key);
  if (it != states_.end() && watched_.contains(key)) {
    refresh_metrics(it->second);
    if (key.kind == task_kind::workforce && workforce_hook_) workforce_hook_(it->second);
  }
  scheduler_.completed(job.key, mono_now(), draw(), cadence{cls});
}

void engine::handle_poll_failure(const due_job& job, const modelarts::api_error& err) {
  const auto& key = job.key.task;
  const auto now = wall_now();
  metrics_.count_poll_error(key.kind, err.kind);
  last_error_ = to_string(key) + ": " + err.summary();
  if (err.kind == errc::not_found) return;  // the caller marks it gone
  if (err.kind == errc::auth_failed) {
    note_auth(false, stable_message(err), now);
  } else {
    // api_error once per distinct failure of a task, not on every retry of the same one.
    const auto it = states_.find(key);
    const bool repeated = it != states_.end() && it->second.last_error &&
                          it->second.last_error->kind == err.kind &&
                          headline_of(it->second.last_error->message) == failure_headline(err);
    if (!repeated) {
      const std::string name = it != states_.end() ? it->second.name : std::string{};
      auto ev = make_task_event(now, event_level::warning, "api_error", key, name);
      ev.fields["operation"] =
          key.kind == task_kind::auto_labeling ? "get_auto_task" : "get_workforce_task";
      add_error_fields(ev, err);
      emit(ev);
    }
  }
  scheduler_.failed(job.key, mono_now(), draw(), err.retry_after);
}

void engine::note_auth(bool ok, const std::string& problem, sys_time now) {
  const bool was_failing = auth_ok_.has_value() && !*auth_ok_;
  if (ok) {
    if (was_failing) {
      event ev;
      ev.ts = now;
      ev.level = event_level::info;
      ev.name = "auth_recovered";
      emit(ev);
    }
    auth_ok_ = true;
    auth_problem_.clear();
    return;
  }
  if (!was_failing || auth_problem_ != problem) {
    event ev;
    ev.ts = now;
    ev.level = event_level::error;
    ev.name = "auth_failed";
    ev.fields["message"] = problem;
    emit(ev);
  }
  auth_ok_ = false;
  auth_problem_ = problem;
}

net::awaitable<void> engine::discover(const due_job& job, modelarts::api_client& api) {
  const auto kind = job.key.task.kind;
  const auto& dataset = job.key.task.dataset_id;
  std::vector<std::string> ids;
  std::optional<modelarts::api_error> failure;
  if (kind == task_kind::auto_labeling) {
    // Named arguments: gcc 12 mishandles class prvalues (defaults included) in co_await.
    const std::string type;
    auto r = co_await api.list_all_auto_tasks(dataset, type, 0);
    if (r) {
      for (const auto& t : *r) ids.push_back(t.task_id);
    } else {
      failure = r.error();
    }
  } else {
    auto r = co_await api.list_all_workforce_tasks(dataset, 0);
    if (r) {
      for (const auto& t : *r) ids.push_back(t.task_id);
    } else {
      failure = r.error();
    }
  }
  const auto w = watches_.find(dataset);
  if (w == watches_.end() || !w->second.discover) co_return;  // reconfigured meanwhile

  if (failure) {
    metrics_.count_poll_error("discovery", failure->kind);
    last_error_ = "discovery of " + dataset + ": " + failure->summary();
    if (failure->kind == errc::auth_failed) {
      note_auth(false, stable_message(*failure), wall_now());
    } else {
      event ev;
      ev.ts = wall_now();
      ev.level = event_level::warning;
      ev.name = "api_error";
      ev.fields["operation"] =
          kind == task_kind::auto_labeling ? "list_auto_tasks" : "list_workforce_tasks";
      ev.fields["dataset_id"] = dataset;
      add_error_fields(ev, *failure);
      emit(ev);
    }
    scheduler_.failed(job.key, mono_now(), draw(), failure->retry_after);
    co_return;
  }

  note_auth(true, {}, wall_now());
  const auto now_m = mono_now();
  std::size_t added = 0;
  for (auto& id : ids) {
    if (id.empty()) continue;
    task_key key{kind, dataset, std::move(id)};
    auto it = watched_.find(key);
    if (it != watched_.end()) {
      it->second.discovered = true;
      continue;
    }
    // New, or gone and listed again: poll it now.
    watch(key, false, true, now_m);
    // What the first discovery finds belongs to the first round: /readyz means every
    // task known at start-up has been polled (and its series exported) once.
    if (!first_round_done_ && first_round_pending_.contains(job.key))
      first_round_pending_.insert(job_key::poll(key));
    ++added;
  }
  if (added > 0) {
    spdlog::info("discovery of {} {} tasks in {}: {} new", ids.size(), to_string(kind), dataset,
                 added);
    update_tracked_gauges();
  }
  scheduler_.completed(job.key, now_m, draw());
}

net::awaitable<void> engine::sample_quality(const due_job& job, modelarts::api_client& api) {
  const auto w = watches_.find(job.key.task.dataset_id);
  if (w == watches_.end() || !sample_round_) {
    scheduler_.completed(job.key, mono_now(), draw());
    co_return;
  }
  const config::watch_config watch = w->second;  // a reload may replace watches_ meanwhile
  const bool ok = co_await sample_round_(watch, api);
  if (ok) {
    scheduler_.completed(job.key, mono_now(), draw());
  } else {
    scheduler_.failed(job.key, mono_now(), draw());
  }
}

net::awaitable<void> engine::commit_and_emit(tracker_output out) {
  const bool write = out.changed || out.transition.has_value();
  auto key = out.state.key;
  std::vector<event> events = std::move(out.events);
  if (write) {
    store::write_batch batch;
    batch.put(out.state);
    if (out.transition) batch.add(*out.transition);
    states_.insert_or_assign(key, std::move(out.state));
    auto r = co_await store_.commit(std::move(batch));
    if (!r) {
      metrics_.count_state_write_error(store::to_string(r.error().kind));
      last_error_ = "state store: " + r.error().message;
      if (!store_failing_) {
        store_failing_ = true;
        event ev;
        ev.ts = wall_now();
        ev.level = event_level::error;
        ev.name = "state_write_failed";
        ev.fields["reason"] = store::to_string(r.error().kind);
        ev.fields["message"] = r.error().message;
        ev.fields["retried"] = r.error().retried();
        emit(ev);
        asio::co_spawn(ex_, retry_store(), asio::detached);
      }
      for (auto& e : events) held_events_.push_back(std::move(e));
      co_return;
    }
    store_recovered();
  } else {
    // Nothing persistent changed (last_success and the snapshot ride along with the
    // next real change): keep the fresh snapshot in memory for metrics and views.
    states_.insert_or_assign(key, std::move(out.state));
  }
  for (const auto& e : events) emit(e);
}

void engine::store_recovered() {
  if (store_failing_) {
    store_failing_ = false;
    event ev;
    ev.ts = wall_now();
    ev.level = event_level::info;
    ev.name = "state_write_recovered";
    ev.fields["held_events"] = held_events_.size();
    emit(ev);
  }
  // Everything submitted earlier is durable now, including the held writes.
  auto held = std::move(held_events_);
  held_events_.clear();
  for (const auto& e : held) emit(e);
}

net::awaitable<void> engine::retry_store() {
  // Held events wait for a successful commit, but when nothing changes after the disk
  // has room again no commit comes: flush now and then, so the kept writes land and
  // the held events go out.
  asio::steady_timer timer(ex_);
  while (store_failing_ && !stopping_) {
    timer.expires_after(k_store_retry);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!store_failing_ || stopping_) break;
    auto r = co_await store_.flush();
    if (r) store_recovered();
  }
}

void engine::emit(const event& e) { events_.publish(e); }

std::vector<observe::task_view> engine::views() const {
  std::vector<observe::task_view> out;
  out.reserve(watched_.size());
  for (const auto& [key, w] : watched_) {
    const auto it = states_.find(key);
    observe::task_view v;
    if (it != states_.end()) {
      const auto& s = it->second;
      if (const auto* a = std::get_if<modelarts::auto_task>(&s.snapshot)) {
        v = observe::make_task_view(key, *a);
      } else if (const auto* wf = std::get_if<modelarts::workforce_task>(&s.snapshot)) {
        v = observe::make_task_view(key, *wf);
      }
      v.kind = key.kind;
      v.dataset_id = key.dataset_id;
      v.task_id = key.task_id;
      if (v.task_name.empty()) v.task_name = s.name;
      v.status_code = s.status_code;
      if (s.seen()) v.status_since = s.status_since;
      v.last_success = s.last_success;
      v.stalled = s.stalled;
      if (s.last_error) {
        v.last_error = s.last_error->message;
        v.last_error_at = s.last_error->since;
      }
    } else {
      v.kind = key.kind;
      v.dataset_id = key.dataset_id;
      v.task_id = key.task_id;
      v.status_code = 100;  // not observed yet: outside both enums, shown as "unknown"
    }
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.dataset_id, a.kind, a.task_name, a.task_id) <
           std::tie(b.dataset_id, b.kind, b.task_name, b.task_id);
  });
  return out;
}

engine_status engine::status() const {
  engine_status s;
  for (const auto& [key, w] : watched_)
    (key.kind == task_kind::auto_labeling ? s.watched_auto : s.watched_workforce)++;
  s.in_flight = in_flight_ + rounds_in_flight_;
  s.first_round_done = first_round_done_;
  s.auth_ok = auth_ok_.value_or(false);
  s.auth_problem = auth_ok_.has_value() ? auth_problem_ : "no API response yet";
  s.last_error = last_error_;
  s.last_loop_iteration = last_iteration_;
  s.loop.driver_turn = last_turn_;
  s.loop.job_activity = last_job_activity_;
  s.loop.in_flight = in_flight_;
  s.loop.slots = std::max<std::uint32_t>(cfg_.poll.max_in_flight, 1);
  return s;
}

const tracked_task* engine::find(const task_key& key) const {
  const auto it = states_.find(key);
  return it == states_.end() ? nullptr : &it->second;
}

}  // namespace labelwatch::app
