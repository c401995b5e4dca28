// The acceptance executor (issue 6): the I/O around the pure decision (decide.hpp). It
// hears every fresh team-labeling task state from the engine, decides, records the
// decision in the store's ledger, sends the action, records the result, and tells
// operators through acceptance_decision events and modelarts_acceptance_actions_total.
//
// One worker coroutine handles tasks one at a time (a queue holding each task's latest
// state), so rate limits and the ledger see every decision in order. Per task:
//
//   1. Open ledger entries of the task (intent/sent left by a crash or an unanswered
//      PUT) are resolved first from the fresh state, never by sending again:
//      decide.hpp judge_open_entry(): took effect -> done; certainly not applied ->
//      not_applied (an intent: it may be decided again) or failed (a PUT that got no
//      usable answer: reported already, not retried); otherwise unknown, an
//      acceptance_recovery event at level error, left for a person.
//   2. decide() on the state; a task no rule could act on costs nothing more. Otherwise
//      the ledger facts are read and decide() runs again; a rule with max_conflicts
//      fetches the conflict list (PUT action 3, read-only; cached per checking task
//      while the acceptance figures do not move).
//   3. dry-run: a ledger entry (mode dry-run, state done) so the same checking task is
//      not decided again, then the event (outcome dry_run) and the counter.
//   4. enforce: a fresh GET of the task and decide() again on it; the gate ("may I act
//      now?"); the intent, awaited until durable; the gate again (a kill switch that
//      arrives now marks the intent not_applied and sends nothing); the PUT
//      .../acceptance/status?locale=<cloud.locale> {"action":N,"overwrite_last_result":b};
//      then the result: `{}` -> done, outcome applied; an HTTP 4xx (ModelArts.4623 and
//      the like) -> failed with the error code, never resent; no answer or a 5xx (the
//      action may or may not have happened) -> sent, outcome failed, and the entry is
//      resolved from the task's next poll (step 1). After an action the task is polled
//      soon so the move to syncing/accepted is seen quickly.
//   5. A matching rule held back (guards in decide.hpp, the gate, or an I/O failure on
//      the way: ledger, conflict list or fresh GET unavailable) is reported as outcome
//      skipped once per task, checking task, rule and reason for the life of the
//      process (not on every poll); a restart may report it once more.
//
// At start-up (run()), every unfinished entry in the ledger is resolved by reading its
// task with a fresh GET; entries whose task cannot be read now stay open and block
// further enforce actions on that task until its next successful poll resolves them.
//
// Events (one JSON line each, task fields included):
//   acceptance_decision  rule, action, action_code, mode, outcome (applied | dry_run |
//                        skipped | failed), overwrite_last_result, checking_task_id,
//                        status, pass_rate, checked_samples, sampling_num, accepted/
//                        rejected/unchecked_samples, conflicts, conditions[], and: guard
//                        + reason (skipped), ledger_id (recorded decisions), error_code,
//                        error_msg, http_status, request_id, reason (failed), uncertain
//                        (failed without a usable answer), recovered (applied, found
//                        after a crash). Exactly one per recorded decision.
//   acceptance_recovery  ledger_id, rule, action, mode, checking_task_id, state (done |
//                        not_applied | failed | unknown), reason, observed status.
//
// Test-only fault hook: crash_point_from_env() reads LABELWATCH_TEST_CRASH_POINT once
// (the daemon calls it at start-up). "after_intent" ends the process with _Exit right
// after an intent is durable and before the PUT; "after_send" right after the PUT's
// answer and before it is recorded. Unset (the only production setting) it does
// nothing; an unknown value is reported and ignored.
//
// Threading: everything runs on the executor given to the constructor. The store,
// metrics, event fan-out and the api client must outlive the executor's coroutines.
#pragma once

#include "config/config.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "core/tracker.hpp"
#include "modelarts/types.hpp"
#include "net/asio_fwd.hpp"
#include "rules/decide.hpp"
#include "store/store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace labelwatch::modelarts {
class api_client;
struct api_error;
}  // namespace labelwatch::modelarts
namespace labelwatch::observe {
class metrics;
class event_fanout;
}  // namespace labelwatch::observe

namespace labelwatch::rules {

// The answer of a gate: whether an action may be sent now, and if not, why.
struct gate_answer {
  bool allowed = true;
  std::string reason;  // short, stable: "disabled", "not_leader", ...
  std::string detail;  // one line for people
};

// "May I act now?": asked right before an intent is written to the ledger and again
// right before the PUT. Today the executor's own kill switch ([acceptance] enabled) is
// the only gate; leader election with a fencing check (DESIGN.md "Growing past one
// instance") plugs in here as one more gate. must answer from local knowledge without
// blocking (a lease the gate keeps renewed, not a network round trip).
class action_gate {
 public:
  virtual ~action_gate() = default;
  virtual gate_answer may_act() const = 0;
};

enum class crash_point : std::uint8_t { none, after_intent, after_send };
std::string_view to_string(crash_point p) noexcept;
// LABELWATCH_TEST_CRASH_POINT: "after_intent" | "after_send"; unset or empty: none.
// Anything else is logged as ignored. Tests only; see the file comment.
crash_point crash_point_from_env();

struct executor_options {
  // Asks the engine to poll a task soon (after an action). May be empty.
  std::function<void(const task_key&)> poll_soon;
  crash_point crash = crash_point::none;
};

struct executor_stats {
  std::uint64_t evaluations = 0;  // tasks handled by the worker
  std::uint64_t puts_sent = 0;    // rule actions sent (action 3 not counted)
  std::uint64_t conflict_fetches = 0;
  std::uint64_t open_entries = 0;  // unresolved ledger entries known now
};

class executor {
 public:
  executor(net::asio::any_io_executor ex, store::state_store& store, observe::metrics& metrics,
           observe::event_fanout& events, executor_options options = {});
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  // Applies [acceptance] (first time or reload) and the client to use from now on.
  // Takes effect at once: the kill switch included, for an action that has not written
  // its intent yet. Declares every rule's counter series at 0.
  void configure(const config::acceptance_config& acceptance,
                 std::shared_ptr<modelarts::api_client> api);

  // One more gate every action must pass (besides the kill switch).
  void add_gate(std::shared_ptr<const action_gate> gate);

  // The engine's workforce hook: queues the task when a rule may act on it or it has
  // open ledger entries. Never blocks.
  void on_workforce_state(const tracked_task& state);

  // Resolves the ledger's unfinished entries, then works the queue until stop().
  // Start once, after configure().
  net::awaitable<void> run();

  // Stops taking work (SIGTERM); an action in progress continues, see drain().
  void stop();
  // Waits until the worker is idle or `bound` passed; true when idle.
  net::awaitable<bool> drain(milliseconds bound);

  executor_stats stats() const;

 private:
  struct pending_task {
    modelarts::workforce_task doc;
    std::string name;
    std::string fingerprint;
  };
  struct conflict_cache {
    std::string checking_task_id;
    std::string fingerprint;
    std::int64_t count = 0;
  };
  struct skip_memo {
    std::string checking_task_id;
    std::set<std::string> reported;  // rule + '\n' + reason
  };

  net::awaitable<void> recover_at_start();
  net::awaitable<void> evaluate(const task_key& key, const pending_task& item);
  net::awaitable<void> resolve_open(const task_key& key, const modelarts::workforce_task& doc,
                                    const std::string& task_name);
  net::awaitable<void> mark_unknown_gone(const task_key& key, const std::string& why);
  net::awaitable<std::optional<ledger_facts>> read_facts(const task_key& key,
                                                         const std::string& checking_task_id,
                                                         sys_time now);
  // decide() with facts and (when needed) the conflict list; nullopt when the facts or
  // the list could not be read (already reported as skipped).
  net::awaitable<std::optional<verdict>> full_decision(const task_key& key,
                                                       const modelarts::workforce_task& doc,
                                                       const std::string& task_name,
                                                       const std::string& fingerprint,
                                                       modelarts::api_client& api);
  // `polled`: the verdict on the poll's state (reported if the fresh read fails).
  net::awaitable<void> enforce(const task_key& key, const std::string& task_name,
                               const verdict& polled, modelarts::api_client& api);
  net::awaitable<void> record_dry_run(const task_key& key, const std::string& task_name,
                                      const verdict& v);
  void dispatch_non_action(const task_key& key, const std::string& task_name, const verdict& v);
  void report_skip(const task_key& key, const std::string& task_name, const verdict& v,
                   std::string_view reason_key, const std::string& detail);
  void emit_decision(const task_key& key, const std::string& task_name, const verdict& v,
                     std::string_view outcome, event_level level, boost::json::object extra);
  gate_answer ask_gates() const;
  std::optional<std::int64_t> cached_conflicts(const task_key& key, const std::string& checking,
                                               const std::string& fingerprint) const;
  void crash_if(crash_point p) const;
  sys_time now() const;

  net::asio::any_io_executor ex_;
  store::state_store& store_;
  observe::metrics& metrics_;
  observe::event_fanout& events_;
  executor_options options_;
  config::acceptance_config cfg_;
  std::shared_ptr<modelarts::api_client> api_;
  std::vector<std::shared_ptr<const action_gate>> gates_;

  net::asio::steady_timer wake_;
  std::map<task_key, pending_task> pending_;
  std::deque<task_key> order_;
  std::map<task_key, std::vector<store::ledger_entry>> open_;  // intent/sent entries
  std::map<task_key, conflict_cache> conflicts_;
  std::map<task_key, skip_memo> skips_;
  bool stopping_ = false;
  bool busy_ = false;
  executor_stats stats_;
};

}  // namespace labelwatch::rules
