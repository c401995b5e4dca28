// The acceptance executor: ledger, PUT, recovery and reporting around decide().
#include "rules/executor.hpp"

#include "core/event.hpp"
#include "core/json_text.hpp"
#include "modelarts/api_client.hpp"
#include "modelarts/api_error.hpp"
#include "observe/events.hpp"
#include "observe/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <cstdio>
#include <cstdlib>

namespace labelwatch::rules {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::acceptance_mode;
using modelarts::api_error;
using store::ledger_state;

constexpr int k_crash_exit_code = 86;

observe::acceptance_outcome outcome_of(std::string_view name) {
  if (name == "applied") return observe::acceptance_outcome::applied;
  if (name == "dry_run") return observe::acceptance_outcome::dry_run;
  if (name == "skipped") return observe::acceptance_outcome::skipped;
  return observe::acceptance_outcome::failed;
}

// A 4xx is the API refusing the request: nothing happened. A request our own settings
// stopped before it left cannot have happened either.
bool certainly_refused(const api_error& e) {
  if (e.http_status >= 400 && e.http_status < 500) return true;
  return e.http_status == 0 && (e.kind == errc::config_invalid || e.kind == errc::invalid_argument);
}

store::ledger_outcome outcome_from(const api_error& e) {
  store::ledger_outcome o;
  if (e.http_status != 0) o.http_status = e.http_status;
  o.error_code = e.error_code;
  o.message = e.summary();
  o.request_id = e.request_id;
  return o;
}

void add_error_fields(json::object& f, const api_error& e) {
  f["reason"] = modelarts::error_kind_name(e.kind);
  if (e.http_status != 0) f["http_status"] = e.http_status;
  if (!e.error_code.empty()) f["error_code"] = e.error_code;
  if (!e.error_msg.empty()) f["error_msg"] = e.error_msg;
  if (!e.detail.empty()) f["detail"] = e.detail;
  if (!e.request_id.empty()) f["request_id"] = e.request_id;
}

task_key workforce_key(const store::ledger_entry& e) {
  return task_key{task_kind::workforce, e.dataset_id, e.task_id};
}

// The ledger row of the decision `v` chose for `key` (no outcome, no time yet).
store::ledger_entry ledger_entry_for(const task_key& key, const verdict& v, acceptance_mode mode,
                                     ledger_state state) {
  const auto& d = *v.chosen;
  store::ledger_entry e;
  e.dataset_id = key.dataset_id;
  e.task_id = key.task_id;
  e.checking_task_id = v.figures.checking_task_id;
  e.mode = mode;
  e.rule = d.rule;
  e.action = d.action;
  e.overwrite_last_result = d.overwrite_last_result;
  e.explanation = json_text(explain(v));
  e.state = state;
  return e;
}

}  // namespace

std::string_view to_string(crash_point p) noexcept {
  switch (p) {
    case crash_point::none:
      return "none";
    case crash_point::after_intent:
      return "after_intent";
    case crash_point::after_send:
      break;
  }
  return "after_send";
}

crash_point crash_point_from_env() {
  const char* v = std::getenv("LABELWATCH_TEST_CRASH_POINT");
  if (v == nullptr || *v == '\0') return crash_point::none;
  const std::string_view s(v);
  if (s == "after_intent") return crash_point::after_intent;
  if (s == "after_send") return crash_point::after_send;
  spdlog::warn(
      "LABELWATCH_TEST_CRASH_POINT={} is not a crash point (after_intent, after_send); "
      "ignored",
      s);
  return crash_point::none;
}

executor::executor(net::asio::any_io_executor ex, store::state_store& store,
                   observe::metrics& metrics, observe::event_fanout& events,
                   executor_options options)
    : ex_(ex),
      store_(store),
      metrics_(metrics),
      events_(events),
      options_(std::move(options)),
      wake_(ex) {
  if (options_.crash != crash_point::none)
    spdlog::warn("test fault hook armed: the process exits at crash point {}",
                 to_string(options_.crash));
}

executor::~executor() = default;

sys_time executor::now() const {
  return std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
}

void executor::configure(const config::acceptance_config& acceptance,
                         std::shared_ptr<modelarts::api_client> api) {
  if (cfg_.enabled != acceptance.enabled)
    spdlog::warn("acceptance actions {}",
                 acceptance.enabled ? "enabled" : "disabled (kill switch)");
  cfg_ = acceptance;
  kill_switch_->set_enabled(acceptance.enabled);
  api_ = std::move(api);
  for (const auto& r : cfg_.rules)
    metrics_.declare_acceptance_rule(r.name, config::to_string(r.action));
  wake_.cancel();
}

void executor::add_gate(std::shared_ptr<const action_gate> gate) {
  if (gate) gates_.push_back(std::move(gate));
}

gate_answer kill_switch::may_act() const {
  if (enabled_) return {};
  return {false, "disabled", "[acceptance] enabled = false"};
}

gate_answer executor::ask_gates() const {
  for (const auto& g : gates_) {
    auto a = g->may_act();
    if (!a.allowed) return a;
  }
  return {};
}

void executor::crash_if(crash_point p) const {
  if (options_.crash != p) return;
  std::fprintf(
      stderr,
      "labelwatchd: LABELWATCH_TEST_CRASH_POINT=%s reached: exiting now (test fault hook)\n",
      std::string(to_string(p)).c_str());
  std::fflush(stderr);
  std::_Exit(k_crash_exit_code);
}

executor_stats executor::stats() const {
  auto s = stats_;
  s.open_entries = 0;
  for (const auto& [key, entries] : open_) s.open_entries += entries.size();
  return s;
}

void executor::on_workforce_state(const tracked_task& state) {
  if (stopping_) return;
  const auto* doc = std::get_if<modelarts::workforce_task>(&state.snapshot);
  if (doc == nullptr) return;
  if (!open_.contains(state.key)) {
    // Empty ledger facts never make a decision less likely, so "none" here is final.
    const std::string checking = doc->checking ? doc->checking->checking_task_id : std::string();
    const auto pre = decide(state.key, *doc, cfg_, ledger_facts{},
                            cached_conflicts(state.key, checking, state.fingerprint), now());
    if (pre.kind == verdict_kind::none) {
      if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("acceptance: {}: {}", to_string(state.key), describe(pre));
      return;
    }
  }
  const bool queued = pending_.contains(state.key);
  pending_[state.key] = pending_task{*doc, state.name, state.fingerprint};
  if (!queued) order_.push_back(state.key);
  wake_.cancel();
}

void executor::stop() {
  stopping_ = true;
  wake_.cancel();
}

net::awaitable<bool> executor::drain(milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  asio::steady_timer timer(ex_);
  while (busy_ && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds{20});
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return !busy_;
}

net::awaitable<void> executor::run() {
  busy_ = true;
  try {
    co_await recover_at_start();
  } catch (const std::exception& e) {
    spdlog::error("acceptance: resolving unfinished ledger entries failed: {}", e.what());
  }
  busy_ = false;
  while (!stopping_) {
    if (order_.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const task_key key = order_.front();
    order_.pop_front();
    auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    const pending_task item = std::move(it->second);
    pending_.erase(it);
    busy_ = true;
    ++stats_.evaluations;
    try {
      co_await evaluate(key, item);
    } catch (const std::exception& e) {
      // A bug must not stop acceptance for every other task.
      spdlog::error("acceptance: evaluating {} failed unexpectedly: {}", to_string(key), e.what());
    }
    busy_ = false;
  }
}

// ---- recovery ---------------------------------------------------------------------

net::awaitable<void> executor::recover_at_start() {
  auto unfinished = co_await store_.ledger_unfinished();
  if (!unfinished) {
    spdlog::error(
        "acceptance: cannot read the ledger's unfinished entries: {}; enforce actions "
        "wait until it can be read",
        unfinished.error().message);
    co_return;
  }
  for (auto& e : *unfinished) {
    if (e.mode != acceptance_mode::enforce) continue;
    spdlog::warn(
        "acceptance: ledger entry {} ({} of {} for checking task {}) is unfinished ({}): "
        "resolving it by reading the task",
        e.id, config::to_string(e.action), e.task_id, e.checking_task_id,
        store::to_string(e.state));
    open_[workforce_key(e)].push_back(std::move(e));
  }
  std::vector<task_key> keys;
  for (const auto& [key, entries] : open_) keys.push_back(key);
  for (const auto& key : keys) {
    if (stopping_) co_return;
    auto api = api_;
    if (!api) co_return;
    auto r = co_await api->get_workforce_task(key.dataset_id, key.task_id, false, nullptr);
    if (r) {
      const std::string name = r->task_name;
      co_await resolve_open(key, *r, name);
    } else if (r.error().kind == errc::not_found) {
      const std::string why = "the task no longer exists (" + r.error().summary() + ")";
      co_await mark_unknown_gone(key, why);
    } else {
      spdlog::warn(
          "acceptance: cannot read {} to resolve its open ledger entries ({}); they "
          "stay open until its next successful poll",
          to_string(key), r.error().summary());
    }
  }
}

net::awaitable<void> executor::resolve_open(const task_key& key,
                                            const modelarts::workforce_task& doc,
                                            const std::string& task_name) {
  auto it = open_.find(key);
  if (it == open_.end()) co_return;
  const std::vector<store::ledger_entry> entries = it->second;
  std::vector<std::int64_t> settled;
  for (const auto& e : entries) {
    const auto judged = judge_open_entry(e.checking_task_id, doc);
    ledger_state next = ledger_state::unknown;
    switch (judged.outcome) {
      case resolution::took_effect:
        next = ledger_state::done;
        break;
      // An intent never answered: the action may be decided again. A PUT that failed
      // without a usable answer was reported as failed; it stays failed.
      case resolution::not_applied:
        next = e.state == ledger_state::intent ? ledger_state::not_applied : ledger_state::failed;
        break;
      case resolution::undetermined:
        next = ledger_state::unknown;
        break;
    }
    auto outcome = e.outcome;
    const std::string how = e.state == ledger_state::intent ? "after an interruption"
                                                            : "after a PUT without a usable answer";
    outcome.message = "resolved " + how + ": " + judged.reason +
                      (outcome.message.empty() ? std::string() : "; earlier: " + outcome.message);
    const auto at = now();
    auto r = co_await store_.ledger_update(e.id, next, outcome, at);
    if (!r && !r.error().retried()) {
      spdlog::error("acceptance: cannot resolve ledger entry {}: {}", e.id, r.error().message);
      if (r.error().kind == store::error_kind::constraint)
        settled.push_back(e.id);  // resolved elsewhere
      continue;
    }
    settled.push_back(e.id);

    const auto level = next == ledger_state::unknown  ? event_level::error
                       : next == ledger_state::failed ? event_level::warning
                                                      : event_level::info;
    auto ev = make_task_event(at, level, "acceptance_recovery", key, task_name);
    ev.fields["ledger_id"] = e.id;
    ev.fields["rule"] = e.rule;
    ev.fields["action"] = config::to_string(e.action);
    ev.fields["mode"] = config::to_string(e.mode);
    ev.fields["checking_task_id"] = e.checking_task_id;
    ev.fields["previous_state"] = store::to_string(e.state);
    ev.fields["state"] = store::to_string(next);
    ev.fields["reason"] = judged.reason;
    ev.fields["status"] = to_string(doc.status());
    ev.fields["status_code"] = doc.status_code;
    if (next == ledger_state::unknown)
      ev.fields["action_needed"] =
          "check the task in the ModelArts console and record what happened";
    events_.publish(ev);
    if (next == ledger_state::unknown) {
      spdlog::error("acceptance: ledger entry {} cannot be resolved ({}); left for a person", e.id,
                    judged.reason);
    } else {
      spdlog::info("acceptance: ledger entry {} resolved as {}: {}", e.id, store::to_string(next),
                   judged.reason);
    }

    // An interrupted action that did take effect was never reported: report it now.
    if (e.state == ledger_state::intent && next == ledger_state::done) {
      auto dv = make_task_event(at, event_level::info, "acceptance_decision", key, task_name);
      dv.fields["rule"] = e.rule;
      dv.fields["action"] = config::to_string(e.action);
      dv.fields["action_code"] = action_code(e.action);
      dv.fields["mode"] = config::to_string(e.mode);
      dv.fields["outcome"] = "applied";
      boost::system::error_code ec;
      auto parsed = json::parse(e.explanation, ec);
      if (!ec && parsed.is_object()) {
        for (const auto& [k, v] : parsed.as_object())
          if (!dv.fields.contains(k)) dv.fields[k] = v;
      }
      dv.fields["ledger_id"] = e.id;
      dv.fields["recovered"] = true;
      events_.publish(dv);
      metrics_.count_acceptance(e.rule, config::to_string(e.action),
                                observe::acceptance_outcome::applied);
    }
  }
  it = open_.find(key);
  if (it != open_.end()) {
    std::erase_if(it->second, [&](const store::ledger_entry& e) {
      return std::find(settled.begin(), settled.end(), e.id) != settled.end();
    });
    if (it->second.empty()) open_.erase(it);
  }
}

net::awaitable<void> executor::mark_unknown_gone(const task_key& key, const std::string& why) {
  auto it = open_.find(key);
  if (it == open_.end()) co_return;
  const std::vector<store::ledger_entry> entries = it->second;
  for (const auto& e : entries) {
    auto outcome = e.outcome;
    outcome.message = "cannot be resolved: " + why;
    const auto at = now();
    auto r = co_await store_.ledger_update(e.id, ledger_state::unknown, outcome, at);
    if (!r && !r.error().retried()) {
      spdlog::error("acceptance: cannot mark ledger entry {} unknown: {}", e.id, r.error().message);
      continue;
    }
    auto ev = make_task_event(at, event_level::error, "acceptance_recovery", key, std::string());
    ev.fields["ledger_id"] = e.id;
    ev.fields["rule"] = e.rule;
    ev.fields["action"] = config::to_string(e.action);
    ev.fields["mode"] = config::to_string(e.mode);
    ev.fields["checking_task_id"] = e.checking_task_id;
    ev.fields["previous_state"] = store::to_string(e.state);
    ev.fields["state"] = "unknown";
    ev.fields["reason"] = why;
    ev.fields["action_needed"] = "check the task in the ModelArts console and record what happened";
    events_.publish(ev);
  }
  open_.erase(key);
}

// ---- deciding ---------------------------------------------------------------------

std::optional<std::int64_t> executor::cached_conflicts(const task_key& key,
                                                       const std::string& checking,
                                                       const std::string& fingerprint) const {
  const auto it = conflicts_.find(key);
  if (it == conflicts_.end() || checking.empty()) return std::nullopt;
  if (it->second.checking_task_id != checking || it->second.fingerprint != fingerprint)
    return std::nullopt;
  return it->second.count;
}

net::awaitable<std::optional<ledger_facts>> executor::read_facts(
    const task_key& key, const std::string& checking_task_id, sys_time at) {
  ledger_facts facts;
  std::optional<std::string> failure;
  const auto dry = co_await store_.ledger_find(key.dataset_id, key.task_id, checking_task_id,
                                               acceptance_mode::dry_run);
  if (dry) {
    if (*dry)
      facts.dry_run =
          ledger_ref{(*dry)->id, (*dry)->rule, std::string(store::to_string((*dry)->state))};
  } else {
    failure = dry.error().message;
  }
  const auto enf = co_await store_.ledger_find(key.dataset_id, key.task_id, checking_task_id,
                                               acceptance_mode::enforce);
  if (enf) {
    if (*enf)
      facts.enforce =
          ledger_ref{(*enf)->id, (*enf)->rule, std::string(store::to_string((*enf)->state))};
  } else {
    failure = enf.error().message;
  }
  const sys_time since = at - k_rate_window;
  const auto count = co_await store_.ledger_count_since(since, acceptance_mode::enforce);
  if (count) {
    facts.enforce_actions_last_hour = *count;
  } else {
    failure = count.error().message;
  }
  const auto last =
      co_await store_.ledger_last_action(key.dataset_id, key.task_id, acceptance_mode::enforce);
  if (last) {
    facts.last_enforce_action = *last;
  } else {
    failure = last.error().message;
  }
  if (const auto it = open_.find(key); it != open_.end() && !it->second.empty())
    facts.unresolved_id = it->second.front().id;
  if (failure) {
    spdlog::error("acceptance: cannot read the ledger for {}: {}", to_string(key), *failure);
    co_return std::nullopt;
  }
  co_return facts;
}

net::awaitable<std::optional<verdict>> executor::full_decision(const task_key& key,
                                                               const modelarts::workforce_task& doc,
                                                               const std::string& task_name,
                                                               const std::string& fingerprint,
                                                               modelarts::api_client& api) {
  const std::string checking = doc.checking ? doc.checking->checking_task_id : std::string();
  auto conflicts = cached_conflicts(key, checking, fingerprint);
  // Facts only matter when some rule may act; the cheap check first.
  auto pre = decide(key, doc, cfg_, ledger_facts{}, conflicts, now());
  if (pre.kind == verdict_kind::none) co_return pre;

  const auto at = now();
  auto facts = co_await read_facts(key, checking, at);
  if (!facts) {
    report_skip(key, task_name, pre, "ledger_unavailable", "the ledger cannot be read");
    co_return std::nullopt;
  }
  auto v = decide(key, doc, cfg_, *facts, conflicts, at);
  if (v.kind != verdict_kind::need_conflicts) co_return v;

  ++stats_.conflict_fetches;
  auto r = co_await api.update_acceptance_status(
      key.dataset_id, key.task_id, modelarts::acceptance_action_code::conflict_list, false);
  if (!r) {
    spdlog::warn("acceptance: conflict list of {} unavailable: {}", to_string(key),
                 r.error().summary());
    report_skip(key, task_name, v, "conflicts_unavailable",
                "the conflict list (action 3) could not be read: " + r.error().summary());
    co_return std::nullopt;
  }
  const auto count = r->sample_count.value_or(static_cast<std::int64_t>(r->samples.size()));
  conflicts_[key] = conflict_cache{checking, fingerprint, count};
  co_return decide(key, doc, cfg_, *facts, count, now());
}

net::awaitable<void> executor::evaluate(const task_key& key, const pending_task& item) {
  if (open_.contains(key)) co_await resolve_open(key, item.doc, item.name);
  auto api = api_;
  if (!api) co_return;

  // Forget what was reported for an earlier checking task.
  const std::string checking =
      item.doc.checking ? item.doc.checking->checking_task_id : std::string();
  if (auto s = skips_.find(key); s != skips_.end() && s->second.checking_task_id != checking)
    skips_.erase(s);

  auto v = co_await full_decision(key, item.doc, item.name, item.fingerprint, *api);
  if (!v) co_return;
  if (v->kind == verdict_kind::act) {
    co_await enforce(key, item.name, *v, *api);
  } else if (v->kind == verdict_kind::dry_run) {
    co_await record_dry_run(key, item.name, *v);
  } else {
    dispatch_non_action(key, item.name, *v);
  }
}

void executor::dispatch_non_action(const task_key& key, const std::string& task_name,
                                   const verdict& v) {
  if (v.kind == verdict_kind::skipped) {
    report_skip(key, task_name, v, to_string(*v.held_by), v.reason);
  } else if (v.kind == verdict_kind::none) {
    spdlog::debug("acceptance: {}: {}", to_string(key), describe(v));
  }
}

net::awaitable<void> executor::record_dry_run(const task_key& key, const std::string& task_name,
                                              const verdict& v) {
  auto e = ledger_entry_for(key, v, acceptance_mode::dry_run, ledger_state::done);
  e.outcome.message = "dry-run: nothing was sent";
  e.created_at = now();
  auto r = co_await store_.ledger_begin(std::move(e));
  if (!r) {
    spdlog::error("acceptance: cannot record the dry-run decision for {}: {}", to_string(key),
                  r.error().message);
    report_skip(key, task_name, v, "ledger_unavailable",
                "the ledger cannot be written: " + r.error().message);
    co_return;
  }
  if (!r->created) co_return;  // decided meanwhile
  spdlog::info("acceptance (dry-run): {} {}", to_string(key), describe(v));
  json::object extra;
  extra["ledger_id"] = r->entry.id;
  emit_decision(key, task_name, v, "dry_run", event_level::info, std::move(extra));
}

net::awaitable<void> executor::enforce(const task_key& key, const std::string& task_name,
                                       const verdict& polled, modelarts::api_client& api) {
  // Decide again on a fresh read: the poll's state may be seconds old.
  std::string body;
  auto fresh = co_await api.get_workforce_task(key.dataset_id, key.task_id, false, &body);
  if (!fresh) {
    spdlog::warn("acceptance: fresh read of {} before acting failed: {}", to_string(key),
                 fresh.error().summary());
    report_skip(key, task_name, polled, "task_unreadable",
                "the fresh read before acting failed: " + fresh.error().summary());
    co_return;
  }
  const std::string fingerprint = movement_fingerprint(*fresh);
  const std::string name = fresh->task_name.empty() ? task_name : fresh->task_name;
  auto decided = co_await full_decision(key, *fresh, name, fingerprint, api);
  if (!decided) co_return;
  const verdict v = std::move(*decided);
  if (v.kind == verdict_kind::dry_run) {
    co_await record_dry_run(key, name, v);
    co_return;
  }
  if (v.kind != verdict_kind::act) {
    dispatch_non_action(key, name, v);
    co_return;
  }
  const auto& d = *v.chosen;

  if (auto g = ask_gates(); !g.allowed) {
    report_skip(key, name, v, g.reason, g.detail);
    co_return;
  }

  auto e = ledger_entry_for(key, v, acceptance_mode::enforce, ledger_state::intent);
  e.created_at = now();
  auto begun = co_await store_.ledger_begin(std::move(e));
  if (!begun) {
    spdlog::error("acceptance: cannot write the intent for {}; nothing is sent: {}", to_string(key),
                  begun.error().message);
    report_skip(key, name, v, "ledger_unavailable",
                "the intent could not be written: " + begun.error().message);
    co_return;
  }
  if (!begun->created) co_return;  // another decision for this checking task exists
  store::ledger_entry entry = begun->entry;
  open_[key].push_back(entry);

  crash_if(crash_point::after_intent);

  if (auto g = ask_gates(); !g.allowed) {
    store::ledger_outcome o;
    o.message = "not sent: " + g.detail;
    const auto at = now();
    auto r = co_await store_.ledger_update(entry.id, ledger_state::not_applied, o, at);
    if (r || r.error().retried()) {
      std::erase_if(open_[key], [&](const store::ledger_entry& x) { return x.id == entry.id; });
      if (open_[key].empty()) open_.erase(key);
    } else {
      spdlog::error("acceptance: cannot mark ledger entry {} not applied: {}", entry.id,
                    r.error().message);
    }
    report_skip(key, name, v, g.reason, g.detail);
    co_return;
  }

  spdlog::info("acceptance: sending {} to {} (ledger entry {}): {}", config::to_string(d.action),
               to_string(key), entry.id, describe(v));
  ++stats_.puts_sent;
  const auto code = static_cast<modelarts::acceptance_action_code>(action_code(d.action));
  auto sent = co_await api.update_acceptance_status(key.dataset_id, key.task_id, code,
                                                    d.overwrite_last_result);

  crash_if(crash_point::after_send);

  const auto at = now();
  json::object extra;
  extra["ledger_id"] = entry.id;
  if (sent) {
    store::ledger_outcome o;
    o.message = "accepted by the API";
    auto r = co_await store_.ledger_update(entry.id, ledger_state::done, o, at);
    if (!r && !r.error().retried())
      spdlog::error("acceptance: cannot record ledger entry {} as done: {}", entry.id,
                    r.error().message);
    // Retried errors land with a later transaction; either way this process knows.
    std::erase_if(open_[key], [&](const store::ledger_entry& x) { return x.id == entry.id; });
    if (open_[key].empty()) open_.erase(key);
    emit_decision(key, name, v, "applied", event_level::info, std::move(extra));
    if (options_.poll_soon) options_.poll_soon(key);
    co_return;
  }

  const auto& err = sent.error();
  add_error_fields(extra, err);
  auto o = outcome_from(err);
  if (certainly_refused(err)) {
    auto r = co_await store_.ledger_update(entry.id, ledger_state::failed, o, at);
    if (!r && !r.error().retried())
      spdlog::error("acceptance: cannot record ledger entry {} as failed: {}", entry.id,
                    r.error().message);
    std::erase_if(open_[key], [&](const store::ledger_entry& x) { return x.id == entry.id; });
    if (open_[key].empty()) open_.erase(key);
    spdlog::error("acceptance: {} on {} was refused: {}", config::to_string(d.action),
                  to_string(key), err.summary());
    emit_decision(key, name, v, "failed", event_level::error, std::move(extra));
    co_return;
  }
  // No usable answer: the action may or may not have happened. The task's next poll
  // tells (resolve_open); nothing is sent again for this checking task.
  auto r = co_await store_.ledger_update(entry.id, ledger_state::sent, o, at);
  if (!r && !r.error().retried())
    spdlog::error("acceptance: cannot record ledger entry {} as sent: {}", entry.id,
                  r.error().message);
  for (auto& x : open_[key]) {
    if (x.id != entry.id) continue;
    x.state = ledger_state::sent;
    x.outcome = o;
  }
  spdlog::error(
      "acceptance: {} on {} got no usable answer ({}); the task's next poll shows whether "
      "it took effect",
      config::to_string(d.action), to_string(key), err.summary());
  extra["uncertain"] = true;
  emit_decision(key, name, v, "failed", event_level::error, std::move(extra));
  if (options_.poll_soon) options_.poll_soon(key);
}

// ---- reporting --------------------------------------------------------------------

void executor::report_skip(const task_key& key, const std::string& task_name, const verdict& v,
                           std::string_view reason_key, const std::string& detail) {
  if (!v.chosen) return;
  auto& memo = skips_[key];
  if (memo.checking_task_id != v.figures.checking_task_id) {
    memo.checking_task_id = v.figures.checking_task_id;
    memo.reported.clear();
  }
  if (!memo.reported.insert(v.chosen->rule + "\n" + std::string(reason_key)).second) return;
  verdict shown = v;
  shown.kind = verdict_kind::skipped;
  shown.reason = detail;
  json::object extra;
  extra["guard"] = reason_key;
  extra["reason"] = detail;
  spdlog::info("acceptance: {} held back ({}): {}", to_string(key), reason_key, detail);
  emit_decision(key, task_name, shown, "skipped", event_level::info, std::move(extra));
}

void executor::emit_decision(const task_key& key, const std::string& task_name, const verdict& v,
                             std::string_view outcome, event_level level, json::object extra) {
  const auto& d = *v.chosen;
  auto ev = make_task_event(now(), level, "acceptance_decision", key, task_name);
  ev.fields["rule"] = d.rule;
  ev.fields["action"] = config::to_string(d.action);
  ev.fields["action_code"] = action_code(d.action);
  ev.fields["mode"] = config::to_string(d.mode);
  ev.fields["outcome"] = outcome;
  for (auto& [k, val] : explain(v))
    if (!ev.fields.contains(k) && k != "guard" && k != "reason" && k != "misses")
      ev.fields[k] = val;
  for (auto& [k, val] : extra) ev.fields[k] = val;
  events_.publish(ev);
  metrics_.count_acceptance(d.rule, config::to_string(d.action), outcome_of(outcome));
}

}  // namespace labelwatch::rules
