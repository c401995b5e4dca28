// The tracker: a pure function from (a task's previous state, a fresh observation, now)
// to (its new state, the events to emit, the transition to record). It is the only
// place that decides what a change *is*; the app only stores what it returns and
// delivers the events, in that order (commit first, then emit), so a restart never
// re-emits anything.
//
// Rules, per DESIGN.md "Events":
// - task_discovered: the first successful observation of a task, ever (the state is
//   persisted, so a restart does not repeat it). A task observed again after task_gone
//   is announced again with `"reappeared": true`.
// - task_status_changed: the raw status code differs from the previous observation's
//   (so a change between two different unknown codes is a transition too). Fields
//   from, to, from_code, to_code, seconds_in_previous = now - status_since (status_since
//   survives restarts, so the duration includes downtime), and error_code / error_msg
//   when the new status is auto `failed` (falling back to the task's code / message
//   when the error fields are empty).
// - task_progress, throttled: emitted when the task's movement fingerprint differs from
//   the one at the last task_progress and either no task_progress was emitted yet since
//   discovery, or at least `progress_interval` (1 min) has passed since the last one, or
//   the progress figure moved by at least `progress_step` (10) points since the last
//   one. A suppressed update is not queued: a later observation reports the then
//   current figures once the throttle allows. Discovery sets the baseline silently.
// - task_stalled: the status class is active and nothing moved for `stall_after`.
//   "Moved" means the fingerprint changed or the status changed (a status change is
//   activity, and entering the active class must not count idle time as a stall).
//   Emitted once per stall.
// - task_stall_cleared: a stalled task moved (reason "progress"), changed status
//   (reason "status", which covers leaving the active class) or disappeared ("gone").
// - task_gone: `mark_gone`, once until the task is observed again.
//
// Movement fingerprint: auto tasks, the progress percent; workforce tasks, every
// sample count of sample_stats plus the acceptance counts of checking_stats (checked,
// accepted, rejected, sampled, unchecked), so labelling, review and acceptance work all
// count as movement.
//
// Progress figure (percent, 0..100): auto tasks, `progress` as the API reports it;
// workforce tasks, the labelled share 100 * (1 - unannotated / total) from sample_stats
// (absent when either count is missing or total is 0). The 10-point throttle rule and
// the status page use this figure.
//
// Levels: a status change to auto `failed` is error, to workforce `rejected` warning;
// task_stalled and task_gone are warning; everything else info.
//
// Event fields after the common ones (? = only when known):
//   task_discovered      status, status_code, progress?, reappeared?
//   task_status_changed  from, to, from_code, to_code, seconds_in_previous,
//                        error_code + error_msg (to auto failed)
//   task_progress        status, progress?, previous_progress?, samples {state: count}
//                        (auto: total/annotated/unconfirmed; workforce: the sample_stats
//                        counts, named as the metrics' `state` label)
//   task_stalled         status, progress?, stalled_for_seconds, stall_after_seconds
//   task_stall_cleared   reason, status, progress?, stalled_for_seconds (whole quiet time)
//   task_gone            status?, status_code?, last_seen? (RFC 3339 of last_success)
#pragma once

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/event.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "modelarts/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace labelwatch {

struct tracker_settings {
  milliseconds stall_after{std::chrono::minutes{30}};
  milliseconds progress_interval{std::chrono::minutes{1}};
  double progress_step = 10.0;  // percentage points

  // stall_after from [poll]; the throttle keeps its defaults.
  static tracker_settings from(const config::poll_config& poll);
};

// Why the last poll of a task failed (cleared by the next successful observation).
// `since` is when this kind + message was first seen, so a repeating failure does not
// change the state.
struct task_error {
  errc kind = errc::network;
  std::string message;  // already free of secrets (api_error::summary())
  sys_time since{};

  friend bool operator==(const task_error&, const task_error&) = default;
};

// The decoded document of the last successful observation (monostate before the first
// one, or after a load until restore_snapshot()).
using task_snapshot = std::variant<std::monostate, modelarts::auto_task, modelarts::workforce_task>;

// Everything the tracker needs to continue exactly where it stopped, plus what the
// metrics and the status page show. Every member except `snapshot` is persisted by the
// store; the snapshot is persisted as `snapshot_json` (the raw detail body it was
// decoded from) and rebuilt after loading with restore_snapshot(), so the stored form is
// exactly what the API said and the decoder stays the only reader of API documents.
struct tracked_task {
  task_key key;
  std::string name;
  // Unset until the task was observed successfully once: a state can exist before that
  // to remember a poll error or that the task is gone.
  std::optional<sys_time> first_seen;
  std::int64_t status_code = 0;  // raw; status_name(key.kind, status_code) for display
  sys_time status_since{};       // when the current status was first observed
  std::optional<sys_time> last_success;  // last successful observation
  std::optional<double> progress;        // percent, see "Progress figure" above
  std::string fingerprint;               // see "Movement fingerprint" above
  sys_time moved_at{};                   // last fingerprint or status change
  bool stalled = false;
  std::optional<sys_time> stalled_since;  // when task_stalled was emitted
  // Throttle bookkeeping: when the last task_progress was emitted (unset: none since
  // discovery) and the figures it (or discovery) reported.
  std::optional<sys_time> progress_event_at;
  std::optional<double> progress_event_value;
  std::string progress_event_fingerprint;
  bool gone = false;
  std::optional<sys_time> gone_since;
  std::optional<task_error> last_error;
  std::string snapshot_json;
  task_snapshot snapshot;

  bool seen() const noexcept { return first_seen.has_value(); }
  status_class cls() const noexcept { return status_class_of(key.kind, status_code); }

  // Whether the state differs in anything worth a write: every persisted member except
  // last_success and snapshot_json. Those two change on almost every poll; they are
  // written along with the next real change (so after a restart they may be older than
  // the last poll, never newer).
  bool same_persisted_state(const tracked_task& other) const noexcept;
};

// One row of the transition history (transitions table, modelarts_task_transitions_total).
struct status_transition {
  task_key key;
  sys_time at{};
  std::int64_t from_code = 0;
  std::int64_t to_code = 0;
  double seconds_in_previous = 0;
};

struct tracker_output {
  tracked_task state;
  std::vector<event> events;  // in emission order
  std::optional<status_transition> transition;
  bool changed = false;  // !state.same_persisted_state(previous); true for a new state
};

// A successful observation. `previous` is the task's state or nullptr when it has none.
// `snapshot_json` is the raw body `task` was decoded from (kept for restore_snapshot).
// Preconditions: key.kind matches the document type.
tracker_output track(const tracked_task* previous, const task_key& key, modelarts::auto_task task,
                       std::string snapshot_json, sys_time now, const tracker_settings& settings);
tracker_output track(const tracked_task* previous, const task_key& key,
                       modelarts::workforce_task task, std::string snapshot_json, sys_time now,
                       const tracker_settings& settings);

// The task's detail answered "does not exist" (404, or 400 with a gone code). Emits
// task_gone (after task_stall_cleared if it was stalled) unless already gone.
tracker_output mark_gone(const tracked_task* previous, const task_key& key, sys_time now);

// A poll failed for any other reason. Records the error (no events: the app emits
// api_error and counts it); `changed` only when the kind or message differs from the
// recorded one.
tracker_output record_failure(const tracked_task* previous, const task_key& key, errc kind,
                              std::string message, sys_time now);

// The progress figures used above, for display and tests.
std::optional<double> auto_progress_percent(const modelarts::auto_task& t) noexcept;
std::optional<double> workforce_progress_percent(const modelarts::workforce_task& t) noexcept;
std::string movement_fingerprint(const modelarts::auto_task& t);
std::string movement_fingerprint(const modelarts::workforce_task& t);

// Rebuilds `state.snapshot` from `state.snapshot_json` with the tolerant decoder
// (modelarts/decode.hpp), after the state was loaded from the store. Returns the decode
// message when the stored body no longer decodes; the state stays usable without a
// snapshot until the next poll replaces it. An empty snapshot_json is not an error.
// (Defined in tracker_restore.cpp so code that never restores does not link the decoder.)
std::optional<std::string> restore_snapshot(tracked_task& state);

}  // namespace labelwatch
