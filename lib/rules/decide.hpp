// Acceptance decisions (issue 6, DESIGN.md `[[acceptance.rule]]`): pure. From a team
// labeling task's latest document, the configured rules, what the ledger knows and the
// time, which rule (if any) acts on the task, with which action, and why; or why no rule
// applies. The executor (executor.hpp) does the I/O around it.
//
// How a decision is made, in this order (the README's "Acceptance automation" tells
// operators the same):
//
// 1. The task must have a checking task (checking_task_desc.checking_task_id): the
//    ledger keys every decision by it. Without one, nothing applies.
// 2. Rules are tried in file order. A rule *matches* when all of its conditions hold:
//      dataset          the task's dataset is listed, or the rule says "*"
//      when_status      the task's status is listed
//      min_pass_rate    checking_stats.pass_rate >= bound   (inclusive; absent rate fails)
//      max_pass_rate    checking_stats.pass_rate <= bound   (inclusive; absent rate fails)
//      min_checked_samples  checking_stats.checked_sample_count >= bound
//      require_sampling_complete  checked_sample_count == sampling_num (> 0)
//      max_conflicts    the conflict list (acceptance action 3) has <= bound samples
//    A pass rate that is not a finite number in 0..1 fails both bounds. Unset conditions
//    are not checked.
// 3. A matching rule whose mode already decided this checking task (a live ledger entry
//    for (dataset, task, checking task, mode)) is passed over: one decision per checking
//    task and mode, ever. The next rule is tried.
// 4. The first matching rule left decides. Guards may hold it back (outcome `skipped`):
//      disabled      [acceptance] enabled = false (both modes)
//      unresolved    enforce only: an earlier action on this task is still unresolved
//                    in the ledger (intent or sent), so nothing else is sent before it
//                    is resolved
//      cooldown      enforce only: an enforce decision on this task was made less than
//                    task_cooldown ago
//      rate_limited  enforce only: max_actions_per_hour enforce decisions were made in
//                    the hour before now, all rules and tasks together
//    Dry-run decisions are held back only by `disabled`: they send nothing.
// 5. max_conflicts is checked last, after the guards, because it costs a request: when
//    the rule needs the conflict list and it is not known yet, the verdict is
//    `need_conflicts`; the caller fetches it, sets `conflicts` and decides again. A
//    rule held back by a guard never causes that request (the kill switch sends
//    nothing at all). If the list exceeds the bound the rule does not match and the
//    next rule is tried.
//
// Thread safety: plain functions of their arguments.
#pragma once

#include "config/config.hpp"
#include "core/status.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "modelarts/types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::rules {

// The figures a decision reads, taken from the task document (all from
// checking_task_desc.checking_stats except the status).
struct task_figures {
  std::string dataset_id;
  std::string task_id;
  std::string task_name;
  std::int64_t status_code = 0;
  workforce_status status = workforce_status::unknown;
  std::string checking_task_id;  // empty: the task has no checking task
  std::optional<double> pass_rate;
  std::optional<std::int64_t> checked;       // checked_sample_count
  std::optional<std::int64_t> sampling_num;  // sampling_num
  std::optional<std::int64_t> accepted;      // accepted_sample_count (shown only)
  std::optional<std::int64_t> rejected;      // rejected_sample_count (shown only)
  std::optional<std::int64_t> unchecked;     // unchecked_sample_count (shown only)
};

// The figures of `task`, identified by `key` (the document may omit its ids).
task_figures figures_of(const task_key& key, const modelarts::workforce_task& task);

// A live ledger entry, as far as a decision cares.
struct ledger_ref {
  std::int64_t id = 0;
  std::string rule;
  std::string state;  // "intent", "sent", "done", "failed", "unknown"
};

// What the ledger says, read by the caller for this task and its current checking task.
// Default-constructed facts (an empty ledger) never make a decision *less* likely: the
// executor uses that to skip the ledger reads for tasks no rule could act on.
struct ledger_facts {
  std::optional<ledger_ref> dry_run;  // live dry-run entry of this checking task
  std::optional<ledger_ref> enforce;  // live enforce entry of this checking task
  // An enforce entry of this task (any checking task) in intent or sent.
  std::optional<std::int64_t> unresolved_id;
  // Enforce decisions created at or after now - 1h (not counting not_applied ones).
  std::int64_t enforce_actions_last_hour = 0;
  // When the newest enforce decision on this task was created (not counting not_applied).
  std::optional<sys_time> last_enforce_action;
};

inline constexpr milliseconds k_rate_window{std::chrono::hours{1}};

enum class verdict_kind : std::uint8_t {
  none,            // no rule applies; `reason` says why
  need_conflicts,  // fetch the conflict list (action 3), then decide again with it
  act,             // enforce: send the action
  dry_run,         // dry-run: record and report it, send nothing
  skipped,         // a rule matched and a guard holds it back (`guard`, `reason`)
};
std::string_view to_string(verdict_kind k) noexcept;  // "none", "need_conflicts", ...

enum class guard : std::uint8_t { disabled, unresolved, cooldown, rate_limited };
std::string_view to_string(guard g) noexcept;  // "disabled", "unresolved", ...

// One condition of a rule, as checked.
struct condition_check {
  std::string condition;     // "dataset", "when_status", "min_pass_rate", ...
  boost::json::value value;  // what the task showed (null: unknown)
  boost::json::value bound;  // what the rule asks for
  bool held = false;
};

// Why a rule did not decide (for "why nothing applies").
struct rule_miss {
  std::string rule;
  std::string why;  // `pass_rate 0.9 < min_pass_rate 0.98`, `already decided: ...`
};

struct decision {
  std::string rule;
  std::size_t rule_index = 0;  // position in acceptance_config::rules
  config::acceptance_mode mode = config::acceptance_mode::dry_run;
  config::acceptance_action action = config::acceptance_action::pass_all;
  bool overwrite_last_result = false;
  // Every condition the rule sets, in the order above; all held for act and dry_run.
  // For skipped and need_conflicts max_conflicts is absent (not checked yet).
  std::vector<condition_check> conditions;
};

struct verdict {
  verdict_kind kind = verdict_kind::none;
  std::optional<decision> chosen;  // set for need_conflicts, act, dry_run, skipped
  std::optional<guard> held_by;    // set for skipped
  std::string reason;              // none: why nothing applies; skipped: the guard's numbers
  task_figures figures;
  std::optional<std::int64_t> conflicts;  // as given to decide()
  std::vector<rule_miss> misses;          // rules tried before (or instead of) `chosen`
};

// The decision for `task` (see the file comment). `conflicts`: the number of samples
// in the conflict list when the caller fetched it, else nullopt.
verdict decide(const task_key& key, const modelarts::workforce_task& task,
               const config::acceptance_config& acceptance, const ledger_facts& ledger,
               std::optional<std::int64_t> conflicts, sys_time now);

// The explanation recorded in the ledger and carried by the acceptance_decision event:
//   {"rule", "mode", "action", "action_code", "overwrite_last_result",
//    "checking_task_id", "status", "status_code", "pass_rate", "checked_samples",
//    "sampling_num", "accepted_samples", "rejected_samples", "unchecked_samples",
//    "conflicts", "conditions": [{"condition", "value", "bound", "held"}],
//    "guard", "reason", "misses": [{"rule", "why"}]}
// Figures the task did not report are null; rule fields are absent without a chosen
// rule; guard only for skipped; misses only when some rule was passed over.
boost::json::object explain(const verdict& v);

// One line for logs and the CLI: `rule "r" (enforce, pass_all): status accepting,
// pass_rate 0.98 >= 0.98, ...` or `no rule applies: ...`.
std::string describe(const verdict& v);

// The numeric code of a rule action in PUT .../acceptance/status.
constexpr int action_code(config::acceptance_action a) noexcept {
  return static_cast<int>(a);
}

// ---- resolving a ledger entry that a crash or an unanswered request left open ------

enum class resolution : std::uint8_t {
  took_effect,   // the task shows the action took effect: complete the entry (done)
  not_applied,   // it certainly did not: the same checking task is still accepting
  undetermined,  // anything else: mark it unknown and leave it for a person
};
std::string_view to_string(resolution r) noexcept;

struct resolution_verdict {
  resolution outcome = resolution::undetermined;
  std::string reason;  // what the task showed, in words
};

// Judges an open entry for `checking_task_id` from the task's fresh document:
// - took_effect: status syncing, accepted or rejected; or the task's checking task is
//   another one (or none: a cancel, or the acceptance ended)
// - not_applied: the same checking task, status accepting
// - undetermined: the same checking task in any other status (sampling, running, ...)
resolution_verdict judge_open_entry(std::string_view checking_task_id,
                                    const modelarts::workforce_task& task);

}  // namespace labelwatch::rules
