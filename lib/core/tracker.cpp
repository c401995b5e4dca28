// Snapshot diffing: previous state + observation + now -> new state + events.
#include "core/tracker.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>

namespace labelwatch {
namespace {

namespace json = boost::json;

double seconds_between(sys_time from, sys_time to) noexcept {
  // A clock that stepped backwards across a restart must not produce negative durations.
  const auto ms = std::max<std::int64_t>(0, (to - from).count());
  return static_cast<double>(ms) / 1000.0;
}

void append_number(std::string& out, std::optional<std::int64_t> v) {
  if (!v) {
    out += '-';
    return;
  }
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), *v);
  out.append(buf.data(), r.ptr);
}

void append_number(std::string& out, std::optional<double> v) {
  if (!v) {
    out += '-';
    return;
  }
  std::array<char, 32> buf{};
  // Shortest round-trip form: equal doubles give equal text and vice versa.
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), *v);
  out.append(buf.data(), r.ptr);
}

// Sample counts as in the metric's `state` label, present counts only.
json::object auto_samples(const modelarts::auto_task& t) {
  std::optional<std::int64_t> total = t.total_sample_count, annotated = t.annotated_sample_count,
                              unconfirmed = t.unconfirmed_sample_count;
  if (t.result) {  // the detail carries the counts inside `result`
    if (t.result->total_sample_count) total = t.result->total_sample_count;
    if (t.result->annotated_sample_count) annotated = t.result->annotated_sample_count;
    if (t.result->unconfirmed_sample_count) unconfirmed = t.result->unconfirmed_sample_count;
  }
  json::object o;
  if (total) o["total"] = *total;
  if (annotated) o["annotated"] = *annotated;
  if (unconfirmed) o["unconfirmed"] = *unconfirmed;
  return o;
}

json::object workforce_samples(const modelarts::workforce_task& t) {
  json::object o;
  if (!t.stats) return o;
  const auto& s = *t.stats;
  const std::pair<const char*, std::optional<std::int64_t>> counts[] = {
      {"total", s.total_sample_count},         {"unannotated", s.unannotated_sample_count},
      {"unreviewed", s.unreviewed_sample_count}, {"uncheck", s.uncheck_sample_count},
      {"sampled", s.sampled_sample_count},     {"rejected", s.rejected_sample_count},
      {"accepted", s.accepted_sample_count},   {"auto_annotation", s.auto_annotation_sample_count},
      {"deleted", s.deleted_sample_count},
  };
  for (const auto& [name, v] : counts)
    if (v) o[name] = *v;
  return o;
}

json::object samples_of(const task_snapshot& s) {
  if (const auto* a = std::get_if<modelarts::auto_task>(&s)) return auto_samples(*a);
  if (const auto* w = std::get_if<modelarts::workforce_task>(&s)) return workforce_samples(*w);
  return {};
}

event_level status_change_level(task_kind kind, std::int64_t to_code) noexcept {
  if (kind == task_kind::auto_labeling && auto_status_from_code(to_code) == auto_status::failed)
    return event_level::error;
  if (kind == task_kind::workforce && workforce_status_from_code(to_code) == workforce_status::rejected)
    return event_level::warning;
  return event_level::info;
}

void put_progress(json::object& o, const std::optional<double>& p) {
  if (p) o["progress"] = *p;
}

// A state for a task that has none yet (never observed, nothing remembered).
tracked_task fresh_state(const task_key& key) {
  tracked_task s;
  s.key = key;
  return s;
}

// The common part of both track() overloads; `failure` fills error fields of a
// transition into auto `failed`.
struct observation {
  std::string name;
  std::int64_t status_code = 0;
  std::optional<double> progress;
  std::string fingerprint;
  std::string error_code;
  std::string error_msg;
};

tracker_output apply(const tracked_task* previous, const task_key& key, observation obs,
                     task_snapshot snapshot, std::string snapshot_json, sys_time now,
                     const tracker_settings& settings) {
  tracker_output out;
  tracked_task& s = out.state;
  if (previous) {
    // Copy the bookkeeping; the old snapshot is replaced, so it is not copied.
    s.key = previous->key;
    s.name = previous->name;
    s.first_seen = previous->first_seen;
    s.status_code = previous->status_code;
    s.status_since = previous->status_since;
    s.last_success = previous->last_success;
    s.progress = previous->progress;
    s.fingerprint = previous->fingerprint;
    s.moved_at = previous->moved_at;
    s.stalled = previous->stalled;
    s.stalled_since = previous->stalled_since;
    s.progress_event_at = previous->progress_event_at;
    s.progress_event_value = previous->progress_event_value;
    s.progress_event_fingerprint = previous->progress_event_fingerprint;
    s.gone = previous->gone;
    s.gone_since = previous->gone_since;
    s.last_error = previous->last_error;
  } else {
    s = fresh_state(key);
  }
  s.key = key;
  if (!obs.name.empty()) s.name = std::move(obs.name);  // the detail may omit the name
  s.last_success = now;
  s.last_error.reset();
  s.snapshot = std::move(snapshot);
  s.snapshot_json = std::move(snapshot_json);

  const bool reappeared = s.gone && s.seen();
  if (!s.seen() || reappeared) {
    // (Re)start the bookkeeping: this observation is the baseline, nothing to diff.
    const bool first = !s.seen();
    if (first) s.first_seen = now;
    s.gone = false;
    s.gone_since.reset();
    const bool status_differs = !first && s.status_code != obs.status_code;
    const std::int64_t from_code = s.status_code;
    const sys_time from_since = s.status_since;

    event e = make_task_event(now, event_level::info, "task_discovered", key, s.name);
    e.fields["status"] = status_name(key.kind, obs.status_code);
    e.fields["status_code"] = obs.status_code;
    put_progress(e.fields, obs.progress);
    if (reappeared) e.fields["reappeared"] = true;
    out.events.push_back(std::move(e));

    if (status_differs) {
      // A task that comes back in another status still reports the transition, so the
      // history and the transition counter stay complete.
      event t = make_task_event(now, status_change_level(key.kind, obs.status_code),
                                "task_status_changed", key, s.name);
      t.fields["from"] = status_name(key.kind, from_code);
      t.fields["to"] = status_name(key.kind, obs.status_code);
      t.fields["from_code"] = from_code;
      t.fields["to_code"] = obs.status_code;
      t.fields["seconds_in_previous"] = seconds_between(from_since, now);
      if (key.kind == task_kind::auto_labeling &&
          auto_status_from_code(obs.status_code) == auto_status::failed) {
        t.fields["error_code"] = obs.error_code;
        t.fields["error_msg"] = obs.error_msg;
      }
      out.events.push_back(std::move(t));
      out.transition = status_transition{key, now, from_code, obs.status_code,
                                         seconds_between(from_since, now)};
    }
    if (first || status_differs) s.status_since = now;
    s.status_code = obs.status_code;
    s.progress = obs.progress;
    s.fingerprint = std::move(obs.fingerprint);
    s.moved_at = now;
    s.stalled = false;
    s.stalled_since.reset();
    s.progress_event_at.reset();
    s.progress_event_value = s.progress;
    s.progress_event_fingerprint = s.fingerprint;
    out.changed = previous == nullptr || !s.same_persisted_state(*previous);
    return out;
  }

  // 1. Status.
  const bool status_changed = s.status_code != obs.status_code;
  if (status_changed) {
    const double in_previous = seconds_between(s.status_since, now);
    event e = make_task_event(now, status_change_level(key.kind, obs.status_code),
                              "task_status_changed", key, s.name);
    e.fields["from"] = status_name(key.kind, s.status_code);
    e.fields["to"] = status_name(key.kind, obs.status_code);
    e.fields["from_code"] = s.status_code;
    e.fields["to_code"] = obs.status_code;
    e.fields["seconds_in_previous"] = in_previous;
    if (key.kind == task_kind::auto_labeling &&
        auto_status_from_code(obs.status_code) == auto_status::failed) {
      e.fields["error_code"] = obs.error_code;
      e.fields["error_msg"] = obs.error_msg;
    }
    out.events.push_back(std::move(e));
    out.transition = status_transition{key, now, s.status_code, obs.status_code, in_previous};
    s.status_code = obs.status_code;
    s.status_since = now;
  }

  // 2. Movement.
  const bool progressed = s.fingerprint != obs.fingerprint;
  const sys_time quiet_since = s.moved_at;
  s.progress = obs.progress;
  s.fingerprint = std::move(obs.fingerprint);
  if (status_changed || progressed) s.moved_at = now;

  // 3. A stall ends with any movement (or by leaving the active class, which is a
  //    status change).
  if (s.stalled && (status_changed || progressed)) {
    event e = make_task_event(now, event_level::info, "task_stall_cleared", key, s.name);
    e.fields["reason"] = status_changed ? "status" : "progress";
    e.fields["status"] = status_name(key.kind, s.status_code);
    put_progress(e.fields, s.progress);
    e.fields["stalled_for_seconds"] = seconds_between(quiet_since, now);
    out.events.push_back(std::move(e));
    s.stalled = false;
    s.stalled_since.reset();
  }

  // 4. Throttled progress.
  if (s.fingerprint != s.progress_event_fingerprint) {
    const bool first_since_baseline = !s.progress_event_at.has_value();
    const bool interval_passed =
        s.progress_event_at && now - *s.progress_event_at >= settings.progress_interval;
    const bool big_step = s.progress && s.progress_event_value &&
                          std::fabs(*s.progress - *s.progress_event_value) >= settings.progress_step;
    if (first_since_baseline || interval_passed || big_step) {
      event e = make_task_event(now, event_level::info, "task_progress", key, s.name);
      e.fields["status"] = status_name(key.kind, s.status_code);
      put_progress(e.fields, s.progress);
      if (s.progress_event_value) e.fields["previous_progress"] = *s.progress_event_value;
      e.fields["samples"] = samples_of(s.snapshot);
      out.events.push_back(std::move(e));
      s.progress_event_at = now;
      s.progress_event_value = s.progress;
      s.progress_event_fingerprint = s.fingerprint;
    }
  }

  // 5. Stall detection.
  if (!s.stalled && s.cls() == status_class::active && now - s.moved_at >= settings.stall_after) {
    event e = make_task_event(now, event_level::warning, "task_stalled", key, s.name);
    e.fields["status"] = status_name(key.kind, s.status_code);
    put_progress(e.fields, s.progress);
    e.fields["stalled_for_seconds"] = seconds_between(s.moved_at, now);
    e.fields["stall_after_seconds"] =
        static_cast<double>(settings.stall_after.count()) / 1000.0;
    out.events.push_back(std::move(e));
    s.stalled = true;
    s.stalled_since = now;
  }

  out.changed = !s.same_persisted_state(*previous);
  return out;
}

}  // namespace

tracker_settings tracker_settings::from(const config::poll_config& poll) {
  tracker_settings s;
  s.stall_after = poll.stall_after;
  return s;
}

bool tracked_task::same_persisted_state(const tracked_task& o) const noexcept {
  return key == o.key && name == o.name && first_seen == o.first_seen &&
         status_code == o.status_code && status_since == o.status_since &&
         progress == o.progress && fingerprint == o.fingerprint && moved_at == o.moved_at &&
         stalled == o.stalled && stalled_since == o.stalled_since &&
         progress_event_at == o.progress_event_at &&
         progress_event_value == o.progress_event_value &&
         progress_event_fingerprint == o.progress_event_fingerprint && gone == o.gone &&
         gone_since == o.gone_since && last_error == o.last_error;
}

std::optional<double> auto_progress_percent(const modelarts::auto_task& t) noexcept {
  return t.progress;
}

std::optional<double> workforce_progress_percent(const modelarts::workforce_task& t) noexcept {
  if (!t.stats || !t.stats->total_sample_count || !t.stats->unannotated_sample_count)
    return std::nullopt;
  const auto total = *t.stats->total_sample_count;
  if (total <= 0) return std::nullopt;
  const auto unannotated = std::clamp<std::int64_t>(*t.stats->unannotated_sample_count, 0, total);
  // (total - unannotated) first keeps whole percentages exact.
  return 100.0 * static_cast<double>(total - unannotated) / static_cast<double>(total);
}

std::string movement_fingerprint(const modelarts::auto_task& t) {
  std::string out = "p=";
  append_number(out, t.progress);
  return out;
}

std::string movement_fingerprint(const modelarts::workforce_task& t) {
  std::string out = "s=";
  const modelarts::sample_stats none{};
  const auto& s = t.stats ? *t.stats : none;
  for (const auto& v : {s.total_sample_count, s.unannotated_sample_count, s.unreviewed_sample_count,
                        s.uncheck_sample_count, s.sampled_sample_count, s.rejected_sample_count,
                        s.accepted_sample_count, s.auto_annotation_sample_count,
                        s.deleted_sample_count}) {
    append_number(out, v);
    out += ',';
  }
  out += "c=";
  if (t.checking && t.checking->checking_stats) {
    const auto& c = *t.checking->checking_stats;
    for (const auto& v : {c.checked_sample_count, c.accepted_sample_count, c.rejected_sample_count,
                          c.sampled_sample_count, c.unchecked_sample_count}) {
      append_number(out, v);
      out += ',';
    }
  }
  return out;
}

tracker_output track(const tracked_task* previous, const task_key& key, modelarts::auto_task task,
                       std::string snapshot_json, sys_time now, const tracker_settings& settings) {
  assert(key.kind == task_kind::auto_labeling);
  observation obs;
  obs.name = task.task_name;
  obs.status_code = task.status_code;
  obs.progress = auto_progress_percent(task);
  obs.fingerprint = movement_fingerprint(task);
  obs.error_code = !task.error_code.empty() ? task.error_code : task.code;
  obs.error_msg = !task.error_msg.empty() ? task.error_msg : task.message;
  return apply(previous, key, std::move(obs), std::move(task), std::move(snapshot_json), now,
               settings);
}

tracker_output track(const tracked_task* previous, const task_key& key,
                       modelarts::workforce_task task, std::string snapshot_json, sys_time now,
                       const tracker_settings& settings) {
  assert(key.kind == task_kind::workforce);
  observation obs;
  obs.name = task.task_name;
  obs.status_code = task.status_code;
  obs.progress = workforce_progress_percent(task);
  obs.fingerprint = movement_fingerprint(task);
  return apply(previous, key, std::move(obs), std::move(task), std::move(snapshot_json), now,
               settings);
}

tracker_output mark_gone(const tracked_task* previous, const task_key& key, sys_time now) {
  tracker_output out;
  out.state = previous ? *previous : fresh_state(key);
  tracked_task& s = out.state;
  s.key = key;
  if (previous && previous->gone) return out;  // said once already

  if (s.stalled) {
    event e = make_task_event(now, event_level::info, "task_stall_cleared", key, s.name);
    e.fields["reason"] = "gone";
    e.fields["status"] = status_name(key.kind, s.status_code);
    put_progress(e.fields, s.progress);
    e.fields["stalled_for_seconds"] = seconds_between(s.moved_at, now);
    out.events.push_back(std::move(e));
    s.stalled = false;
    s.stalled_since.reset();
  }
  event e = make_task_event(now, event_level::warning, "task_gone", key, s.name);
  if (s.seen()) {
    e.fields["status"] = status_name(key.kind, s.status_code);
    e.fields["status_code"] = s.status_code;
    if (s.last_success) e.fields["last_seen"] = format_rfc3339_ms(*s.last_success);
  }
  out.events.push_back(std::move(e));
  s.gone = true;
  s.gone_since = now;
  s.last_error.reset();
  out.changed = true;
  return out;
}

tracker_output record_failure(const tracked_task* previous, const task_key& key, errc kind,
                              std::string message, sys_time now) {
  tracker_output out;
  out.state = previous ? *previous : fresh_state(key);
  tracked_task& s = out.state;
  s.key = key;
  if (s.last_error && s.last_error->kind == kind && s.last_error->message == message) {
    out.changed = previous == nullptr;
    return out;
  }
  s.last_error = task_error{kind, std::move(message), now};
  out.changed = true;
  return out;
}

}  // namespace labelwatch
