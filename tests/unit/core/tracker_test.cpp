#include "core/tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace labelwatch;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const sys_time t0 = from_unix_ms(1'700'000'000'000);
const task_key auto_key{task_kind::auto_labeling, "ds1", "a1"};
const task_key wf_key{task_kind::workforce, "ds1", "w1"};

modelarts::auto_task auto_doc(std::int64_t status, std::optional<double> progress = 0.0) {
  modelarts::auto_task t;
  t.task_id = "a1";
  t.task_name = "auto-one";
  t.status_code = status;
  t.progress = progress;
  return t;
}

modelarts::workforce_task wf_doc(std::int64_t status, std::int64_t unannotated = 100,
                                 std::int64_t total = 100) {
  modelarts::workforce_task t;
  t.task_id = "w1";
  t.task_name = "team-one";
  t.status_code = status;
  modelarts::sample_stats s;
  s.total_sample_count = total;
  s.unannotated_sample_count = unannotated;
  t.stats = s;
  return t;
}

tracker_settings settings() {
  tracker_settings s;
  s.stall_after = 30min;
  return s;
}

// A small harness that feeds observations in order and keeps the state, like the app.
struct harness {
  std::optional<tracked_task> state;
  tracker_settings cfg = settings();

  tracker_output see(const modelarts::auto_task& t, sys_time now, std::string body = "{}") {
    return keep(track(state ? &*state : nullptr, auto_key, t, std::move(body), now, cfg));
  }
  tracker_output see(const modelarts::workforce_task& t, sys_time now, std::string body = "{}") {
    return keep(track(state ? &*state : nullptr, wf_key, t, std::move(body), now, cfg));
  }
  tracker_output gone(const task_key& k, sys_time now) {
    return keep(mark_gone(state ? &*state : nullptr, k, now));
  }
  tracker_output fail(const task_key& k, errc kind, std::string msg, sys_time now) {
    return keep(record_failure(state ? &*state : nullptr, k, kind, std::move(msg), now));
  }
  tracker_output keep(tracker_output out) {
    state = out.state;
    return out;
  }
};

std::vector<std::string> names(const tracker_output& out) {
  std::vector<std::string> n;
  for (const auto& e : out.events) n.push_back(e.name);
  return n;
}

const event& only(const tracker_output& out, std::string_view name) {
  const auto it = std::find_if(out.events.begin(), out.events.end(),
                               [&](const event& e) { return e.name == name; });
  if (it == out.events.end()) throw std::runtime_error("no event " + std::string(name));
  return *it;
}

// The persisted part of a state, as the store gives it back after a restart: the
// snapshot is not there until restore_snapshot().
tracked_task reloaded(const tracked_task& s) {
  tracked_task r = s;
  r.snapshot = std::monostate{};
  return r;
}

}  // namespace

// ---- discovery ----------------------------------------------------------------------

TEST(tracker, first_observation_is_discovery_only) {
  harness h;
  const auto out = h.see(auto_doc(1, 12.5), t0);
  ASSERT_EQ(names(out), std::vector<std::string>{"task_discovered"});
  EXPECT_TRUE(out.changed);
  EXPECT_FALSE(out.transition);
  const auto& e = out.events[0];
  EXPECT_EQ(e.level, event_level::info);
  EXPECT_EQ(e.ts, t0);
  EXPECT_EQ(e.task, auto_key);
  EXPECT_EQ(e.task_name, "auto-one");
  EXPECT_EQ(e.fields.at("status"), "running");
  EXPECT_EQ(e.fields.at("status_code"), 1);
  EXPECT_EQ(e.fields.at("progress"), 12.5);
  EXPECT_FALSE(e.fields.contains("reappeared"));
  const auto& s = out.state;
  EXPECT_EQ(s.first_seen, t0);
  EXPECT_EQ(s.status_since, t0);
  EXPECT_EQ(s.last_success, t0);
  EXPECT_EQ(s.moved_at, t0);
  EXPECT_EQ(s.name, "auto-one");
  EXPECT_EQ(s.snapshot_json, "{}");
  ASSERT_TRUE(std::holds_alternative<modelarts::auto_task>(s.snapshot));
  EXPECT_EQ(std::get<modelarts::auto_task>(s.snapshot).progress, 12.5);
}

TEST(tracker, discovery_is_not_repeated_after_a_restart) {
  harness h;
  h.see(auto_doc(1, 10), t0);
  h.state = reloaded(*h.state);  // restart
  const auto out = h.see(auto_doc(1, 10), t0 + 15s);
  EXPECT_TRUE(out.events.empty());
}

TEST(tracker, discovery_of_a_workforce_task_reports_the_labelled_share) {
  harness h;
  const auto out = h.see(wf_doc(1, 25, 100), t0);
  ASSERT_EQ(names(out), std::vector<std::string>{"task_discovered"});
  EXPECT_EQ(out.events[0].fields.at("progress"), 75.0);
  EXPECT_EQ(out.events[0].fields.at("status"), "running");
}

// ---- every status transition ----------------------------------------------------------

namespace {

struct kind_case {
  task_kind kind;
  std::vector<std::int64_t> codes;  // every documented code plus two unknown ones
};

}  // namespace

TEST(tracker, every_status_pair_of_both_enums) {
  const kind_case cases[] = {
      {task_kind::auto_labeling, {-1, 0, 1, 2, 3, 4, 5, 6, 42}},
      {task_kind::workforce, {0, 1, 2, 3, 4, 5, 6, 7, -1, 8}},
  };
  int transitions = 0;
  for (const auto& c : cases) {
    for (const auto from : c.codes) {
      for (const auto to : c.codes) {
        SCOPED_TRACE(std::string(to_string(c.kind)) + " " + std::to_string(from) + " -> " +
                     std::to_string(to));
        harness h;
        tracker_output out;
        if (c.kind == task_kind::auto_labeling) {
          auto first = auto_doc(from);
          first.error_code = "ModelArts.0001";
          first.error_msg = "boom";
          h.see(first, t0);
          auto second = auto_doc(to);
          second.error_code = "ModelArts.0001";
          second.error_msg = "boom";
          out = h.see(second, t0 + 90'500ms);
        } else {
          h.see(wf_doc(from), t0);
          out = h.see(wf_doc(to), t0 + 90'500ms);
        }
        if (from == to) {
          EXPECT_TRUE(out.events.empty());
          EXPECT_FALSE(out.transition);
          EXPECT_FALSE(out.changed);
          EXPECT_EQ(out.state.status_since, t0);
          continue;
        }
        ++transitions;
        ASSERT_EQ(names(out), std::vector<std::string>{"task_status_changed"});
        const auto& e = out.events[0];
        EXPECT_EQ(e.fields.at("from"), json::value(status_name(c.kind, from)));
        EXPECT_EQ(e.fields.at("to"), json::value(status_name(c.kind, to)));
        EXPECT_EQ(e.fields.at("from_code"), from);
        EXPECT_EQ(e.fields.at("to_code"), to);
        EXPECT_EQ(e.fields.at("seconds_in_previous"), 90.5);
        const bool auto_failed = c.kind == task_kind::auto_labeling && to == 2;
        const bool wf_rejected = c.kind == task_kind::workforce && to == 4;
        EXPECT_EQ(e.level, auto_failed   ? event_level::error
                           : wf_rejected ? event_level::warning
                                         : event_level::info);
        EXPECT_EQ(e.fields.contains("error_code"), auto_failed);
        EXPECT_EQ(e.fields.contains("error_msg"), auto_failed);
        if (!is_known_status(c.kind, from)) {
          EXPECT_EQ(e.fields.at("from"), "unknown");
        }
        if (!is_known_status(c.kind, to)) {
          EXPECT_EQ(e.fields.at("to"), "unknown");
        }
        ASSERT_TRUE(out.transition);
        EXPECT_EQ(out.transition->key.kind, c.kind);
        EXPECT_EQ(out.transition->from_code, from);
        EXPECT_EQ(out.transition->to_code, to);
        EXPECT_EQ(out.transition->at, t0 + 90'500ms);
        EXPECT_EQ(out.transition->seconds_in_previous, 90.5);
        EXPECT_TRUE(out.changed);
        EXPECT_EQ(out.state.status_code, to);
        EXPECT_EQ(out.state.status_since, t0 + 90'500ms);
      }
    }
  }
  EXPECT_EQ(transitions, 9 * 8 + 10 * 9);
}

TEST(tracker, a_change_between_two_unknown_codes_is_a_transition) {
  harness h;
  h.see(wf_doc(8), t0);
  const auto out = h.see(wf_doc(9), t0 + 1s);
  const auto& e = only(out, "task_status_changed");
  EXPECT_EQ(e.fields.at("from"), "unknown");
  EXPECT_EQ(e.fields.at("to"), "unknown");
  EXPECT_EQ(e.fields.at("from_code"), 8);
  EXPECT_EQ(e.fields.at("to_code"), 9);
}

TEST(tracker, a_sequence_reports_the_time_spent_in_each_status) {
  harness h;
  h.see(auto_doc(-1), t0);
  auto out = h.see(auto_doc(1), t0 + 20s);
  EXPECT_EQ(only(out, "task_status_changed").fields.at("seconds_in_previous"), 20.0);
  h.see(auto_doc(1, 50), t0 + 50s);  // progress only
  out = h.see(auto_doc(3, 100), t0 + 80s);
  EXPECT_EQ(only(out, "task_status_changed").fields.at("seconds_in_previous"), 60.0);
  EXPECT_EQ(only(out, "task_status_changed").fields.at("to"), "succeeded");
}

// ---- failure fields -----------------------------------------------------------------

TEST(tracker, failure_carries_the_tasks_error) {
  harness h;
  h.see(auto_doc(1, 40), t0);
  auto doc = auto_doc(2, 40);
  doc.error_code = "ModelArts.4354";
  doc.error_msg = "Inference failed: no GPU";
  doc.code = "ModelArts.4902";
  doc.message = "informational";
  const auto out = h.see(doc, t0 + 5s);
  const auto& e = only(out, "task_status_changed");
  EXPECT_EQ(e.level, event_level::error);
  EXPECT_EQ(e.fields.at("to"), "failed");
  EXPECT_EQ(e.fields.at("error_code"), "ModelArts.4354");
  EXPECT_EQ(e.fields.at("error_msg"), "Inference failed: no GPU");
  EXPECT_EQ(e.to_json_line(),
            R"({"ts":"2023-11-14T22:13:25.000Z","level":"error","event":"task_status_changed",)"
            R"("kind":"auto","dataset_id":"ds1","task_id":"a1","task_name":"auto-one",)"
            R"("from":"running","to":"failed","from_code":1,"to_code":2,)"
            R"("seconds_in_previous":5.0,"error_code":"ModelArts.4354",)"
            R"("error_msg":"Inference failed: no GPU"})");
}

TEST(tracker, failure_without_error_fields_falls_back_to_code_and_message) {
  harness h;
  h.see(auto_doc(1), t0);
  auto doc = auto_doc(2);
  doc.code = "ModelArts.4999";
  doc.message = "task failed";
  const auto out = h.see(doc, t0 + 1s);
  const auto& e = only(out, "task_status_changed");
  EXPECT_EQ(e.fields.at("error_code"), "ModelArts.4999");
  EXPECT_EQ(e.fields.at("error_msg"), "task failed");
}

TEST(tracker, failure_with_nothing_reported_still_has_the_fields) {
  harness h;
  h.see(auto_doc(1), t0);
  const auto out = h.see(auto_doc(2), t0 + 1s);
  const auto& e = only(out, "task_status_changed");
  EXPECT_EQ(e.fields.at("error_code"), "");
  EXPECT_EQ(e.fields.at("error_msg"), "");
}

// ---- restart continuity ---------------------------------------------------------------

TEST(tracker, restart_continues_durations_and_emits_no_transition_twice) {
  harness h;
  h.see(auto_doc(-1), t0);
  h.see(auto_doc(1, 5), t0 + 100s);  // transition emitted and committed
  const tracked_task before = *h.state;

  // Daemon down for 10 minutes; the state comes back from the store.
  h.state = reloaded(before);
  auto out = h.see(auto_doc(1, 5), t0 + 700s);
  EXPECT_TRUE(out.events.empty()) << names(out).size();
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.state.status_since, t0 + 100s);
  EXPECT_EQ(out.state.first_seen, t0);

  out = h.see(auto_doc(3, 100), t0 + 760s);
  const auto& e = only(out, "task_status_changed");
  EXPECT_EQ(e.fields.at("from"), "running");
  EXPECT_EQ(e.fields.at("seconds_in_previous"), 660.0);  // counted from before the restart
}

TEST(tracker, a_change_during_downtime_is_reported_once_after_the_restart) {
  harness h;
  h.see(wf_doc(1), t0);
  h.state = reloaded(*h.state);
  auto out = h.see(wf_doc(2), t0 + 1h);
  EXPECT_EQ(only(out, "task_status_changed").fields.at("seconds_in_previous"), 3600.0);
  h.state = reloaded(*h.state);
  out = h.see(wf_doc(2), t0 + 1h + 15s);
  EXPECT_TRUE(out.events.empty());
}

TEST(tracker, a_stall_survives_a_restart_without_being_repeated) {
  harness h;
  h.see(auto_doc(1, 30), t0);
  ASSERT_EQ(names(h.see(auto_doc(1, 30), t0 + 31min)), std::vector<std::string>{"task_stalled"});
  h.state = reloaded(*h.state);
  EXPECT_TRUE(h.see(auto_doc(1, 30), t0 + 40min).events.empty());
  const auto out = h.see(auto_doc(1, 31), t0 + 41min);
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("stalled_for_seconds"), 41.0 * 60);
}

// ---- progress throttle ------------------------------------------------------------------

TEST(tracker, first_movement_after_discovery_is_reported_at_once) {
  harness h;
  h.see(auto_doc(1, 10), t0);
  const auto out = h.see(auto_doc(1, 11), t0 + 15s);
  const auto& e = only(out, "task_progress");
  EXPECT_EQ(e.fields.at("progress"), 11.0);
  EXPECT_EQ(e.fields.at("previous_progress"), 10.0);
  EXPECT_EQ(e.fields.at("status"), "running");
  EXPECT_TRUE(out.changed);
}

TEST(tracker, progress_is_throttled_to_one_event_per_minute) {
  harness h;
  h.see(auto_doc(1, 10), t0);
  ASSERT_EQ(names(h.see(auto_doc(1, 11), t0 + 10s)), std::vector<std::string>{"task_progress"});
  // Within the minute and below 10 points: suppressed.
  auto out = h.see(auto_doc(1, 15), t0 + 40s);
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.changed);  // progress itself is state
  out = h.see(auto_doc(1, 20.9), t0 + 70s - 1ms);
  EXPECT_TRUE(out.events.empty());
  // A minute after the last event: the current figure is reported.
  out = h.see(auto_doc(1, 20.9), t0 + 70s);
  const auto& e = only(out, "task_progress");
  EXPECT_EQ(e.fields.at("progress"), 20.9);
  EXPECT_EQ(e.fields.at("previous_progress"), 11.0);
  // No movement, no event, however long.
  EXPECT_TRUE(h.see(auto_doc(1, 20.9), t0 + 10min).events.empty());
}

TEST(tracker, a_ten_point_step_is_reported_within_the_minute) {
  harness h;
  h.see(auto_doc(1, 0), t0);
  h.see(auto_doc(1, 1), t0 + 1s);  // event at 1
  EXPECT_TRUE(h.see(auto_doc(1, 10.99), t0 + 2s).events.empty());  // 9.99 points
  auto out = h.see(auto_doc(1, 11), t0 + 3s);                      // 10 points
  EXPECT_EQ(only(out, "task_progress").fields.at("progress"), 11.0);
  out = h.see(auto_doc(1, 1), t0 + 4s);  // backwards by 10 also counts
  EXPECT_EQ(only(out, "task_progress").fields.at("progress"), 1.0);
}

TEST(tracker, workforce_progress_reports_the_counts) {
  harness h;
  h.see(wf_doc(1, 100, 100), t0);
  auto doc = wf_doc(1, 97, 100);
  doc.stats->unreviewed_sample_count = 3;
  const auto out = h.see(doc, t0 + 15s);
  const auto& e = only(out, "task_progress");
  EXPECT_EQ(e.fields.at("progress"), 3.0);
  EXPECT_EQ(e.fields.at("samples"),
            (json::object{{"total", 100}, {"unannotated", 97}, {"unreviewed", 3}}));
}

TEST(tracker, workforce_acceptance_work_counts_as_movement) {
  harness h;
  auto doc = wf_doc(2, 0, 100);
  doc.checking = modelarts::checking_task_desc{};
  doc.checking->checking_stats = modelarts::check_task_stats{};
  doc.checking->checking_stats->checked_sample_count = 1;
  h.see(doc, t0);
  doc.checking->checking_stats->checked_sample_count = 2;
  const auto out = h.see(doc, t0 + 29min);
  EXPECT_EQ(names(out), std::vector<std::string>{"task_progress"});
  doc.checking->checking_stats->checked_sample_count = 2;
  EXPECT_TRUE(h.see(doc, t0 + 29min + 30min - 1ms).events.empty());
  EXPECT_EQ(names(h.see(doc, t0 + 29min + 30min)), std::vector<std::string>{"task_stalled"});
}

TEST(tracker, auto_progress_event_carries_sample_counts_from_the_result) {
  harness h;
  h.see(auto_doc(1, 10), t0);
  auto doc = auto_doc(1, 60);
  doc.result = modelarts::auto_task_result{};
  doc.result->total_sample_count = 49;
  doc.result->annotated_sample_count = 30;
  const auto out = h.see(doc, t0 + 5s);
  const auto& e = only(out, "task_progress");
  EXPECT_EQ(e.fields.at("samples"), (json::object{{"total", 49}, {"annotated", 30}}));
}

TEST(tracker, progress_figures) {
  EXPECT_EQ(workforce_progress_percent(wf_doc(1, 25, 200)), 87.5);
  EXPECT_EQ(workforce_progress_percent(wf_doc(1, 0, 0)), std::nullopt);
  modelarts::workforce_task no_stats;
  EXPECT_EQ(workforce_progress_percent(no_stats), std::nullopt);
  EXPECT_EQ(workforce_progress_percent(wf_doc(1, 300, 200)), 0.0);  // clamped
  EXPECT_EQ(auto_progress_percent(auto_doc(1, 33.3)), 33.3);
  EXPECT_NE(movement_fingerprint(auto_doc(1, 1.0)), movement_fingerprint(auto_doc(1, 1.0000001)));
  EXPECT_NE(movement_fingerprint(auto_doc(1, 0.0)), movement_fingerprint(auto_doc(1, std::nullopt)));
  EXPECT_NE(movement_fingerprint(wf_doc(1, 1, 2)), movement_fingerprint(wf_doc(1, 2, 1)));
}

// ---- stall --------------------------------------------------------------------------

TEST(tracker, an_active_task_without_progress_stalls_once) {
  harness h;
  h.see(auto_doc(1, 40), t0);
  EXPECT_TRUE(h.see(auto_doc(1, 40), t0 + 30min - 1ms).events.empty());
  auto out = h.see(auto_doc(1, 40), t0 + 30min);
  const auto& e = only(out, "task_stalled");
  EXPECT_EQ(e.level, event_level::warning);
  EXPECT_EQ(e.fields.at("stalled_for_seconds"), 1800.0);
  EXPECT_EQ(e.fields.at("stall_after_seconds"), 1800.0);
  EXPECT_EQ(e.fields.at("progress"), 40.0);
  EXPECT_EQ(e.fields.at("status"), "running");
  EXPECT_TRUE(out.changed);
  EXPECT_TRUE(out.state.stalled);
  EXPECT_EQ(out.state.stalled_since, t0 + 30min);
  EXPECT_TRUE(h.see(auto_doc(1, 40), t0 + 2h).events.empty());
}

TEST(tracker, progress_clears_a_stall) {
  harness h;
  h.see(auto_doc(1, 40), t0);
  h.see(auto_doc(1, 40), t0 + 31min);
  const auto out = h.see(auto_doc(1, 41), t0 + 45min);
  EXPECT_EQ(names(out), (std::vector<std::string>{"task_stall_cleared", "task_progress"}));
  const auto& e = only(out, "task_stall_cleared");
  EXPECT_EQ(e.level, event_level::info);
  EXPECT_EQ(e.fields.at("reason"), "progress");
  EXPECT_EQ(e.fields.at("stalled_for_seconds"), 45.0 * 60);
  EXPECT_FALSE(out.state.stalled);
  EXPECT_FALSE(out.state.stalled_since);
  // The stall clock restarts from the movement.
  EXPECT_TRUE(h.see(auto_doc(1, 41), t0 + 45min + 30min - 1ms).events.empty());
  EXPECT_EQ(names(h.see(auto_doc(1, 41), t0 + 75min)), std::vector<std::string>{"task_stalled"});
}

TEST(tracker, leaving_the_active_class_clears_a_stall) {
  harness h;
  h.see(auto_doc(1, 40), t0);
  h.see(auto_doc(1, 40), t0 + 31min);
  const auto out = h.see(auto_doc(5, 40), t0 + 32min);  // stopped: idle
  EXPECT_EQ(names(out), (std::vector<std::string>{"task_status_changed", "task_stall_cleared"}));
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("reason"), "status");
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("status"), "stopped");
}

TEST(tracker, idle_and_terminal_tasks_never_stall) {
  for (const std::int64_t code : {3, 2, 5}) {  // succeeded, failed, stopped
    harness h;
    h.see(auto_doc(code, 10), t0);
    EXPECT_TRUE(h.see(auto_doc(code, 10), t0 + 10h).events.empty()) << code;
  }
  for (const std::int64_t code : {3, 4, 6}) {  // accepted, rejected, created
    harness h;
    h.see(wf_doc(code), t0);
    EXPECT_TRUE(h.see(wf_doc(code), t0 + 10h).events.empty()) << code;
  }
}

TEST(tracker, unknown_status_counts_as_active_for_stalls) {
  harness h;
  h.see(auto_doc(42, 10), t0);
  EXPECT_EQ(names(h.see(auto_doc(42, 10), t0 + 30min)), std::vector<std::string>{"task_stalled"});
}

TEST(tracker, entering_the_active_class_starts_the_stall_clock) {
  harness h;
  h.see(wf_doc(6), t0);  // created (idle) for a day
  EXPECT_TRUE(names(h.see(wf_doc(0), t0 + 24h)) == std::vector<std::string>{"task_status_changed"});
  EXPECT_TRUE(h.see(wf_doc(0), t0 + 24h + 29min).events.empty());
  EXPECT_EQ(names(h.see(wf_doc(0), t0 + 24h + 30min)), std::vector<std::string>{"task_stalled"});
}

TEST(tracker, a_status_change_within_the_active_class_is_movement) {
  harness h;
  h.see(auto_doc(1, 40), t0);
  h.see(auto_doc(1, 40), t0 + 31min);  // stalled
  const auto out = h.see(auto_doc(4, 40), t0 + 32min);  // stopping: still active
  EXPECT_EQ(names(out), (std::vector<std::string>{"task_status_changed", "task_stall_cleared"}));
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("reason"), "status");
  EXPECT_FALSE(out.state.stalled);
}

TEST(tracker, workforce_stall_uses_sample_count_movement) {
  harness h;
  h.see(wf_doc(1, 50), t0);
  EXPECT_EQ(names(h.see(wf_doc(1, 50), t0 + 30min)), std::vector<std::string>{"task_stalled"});
  const auto out = h.see(wf_doc(1, 49), t0 + 31min);
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("reason"), "progress");
}

TEST(tracker, stall_after_comes_from_the_poll_config) {
  config::poll_config poll;
  poll.stall_after = 5min;
  harness h;
  h.cfg = tracker_settings::from(poll);
  EXPECT_EQ(h.cfg.progress_interval, 1min);
  h.see(auto_doc(1, 1), t0);
  EXPECT_EQ(names(h.see(auto_doc(1, 1), t0 + 5min)), std::vector<std::string>{"task_stalled"});
}

// ---- gone ---------------------------------------------------------------------------

TEST(tracker, gone_is_said_once) {
  harness h;
  h.see(auto_doc(3, 100), t0);
  auto out = h.gone(auto_key, t0 + 1h);
  ASSERT_EQ(names(out), std::vector<std::string>{"task_gone"});
  const auto& e = out.events[0];
  EXPECT_EQ(e.level, event_level::warning);
  EXPECT_EQ(e.task_name, "auto-one");
  EXPECT_EQ(e.fields.at("status"), "succeeded");
  EXPECT_EQ(e.fields.at("last_seen"), json::value(format_rfc3339_ms(t0)));
  EXPECT_TRUE(out.changed);
  EXPECT_TRUE(out.state.gone);
  EXPECT_EQ(out.state.gone_since, t0 + 1h);
  out = h.gone(auto_key, t0 + 2h);
  EXPECT_TRUE(out.events.empty());
  EXPECT_FALSE(out.changed);
  h.state = reloaded(*h.state);
  EXPECT_TRUE(h.gone(auto_key, t0 + 3h).events.empty());
}

TEST(tracker, gone_clears_a_stall_first) {
  harness h;
  h.see(auto_doc(1, 5), t0);
  h.see(auto_doc(1, 5), t0 + 30min);
  const auto out = h.gone(auto_key, t0 + 40min);
  EXPECT_EQ(names(out), (std::vector<std::string>{"task_stall_cleared", "task_gone"}));
  EXPECT_EQ(only(out, "task_stall_cleared").fields.at("reason"), "gone");
  EXPECT_FALSE(out.state.stalled);
}

TEST(tracker, a_task_that_never_existed_is_gone_without_status) {
  harness h;
  const auto out = h.gone(wf_key, t0);
  ASSERT_EQ(names(out), std::vector<std::string>{"task_gone"});
  EXPECT_FALSE(out.events[0].fields.contains("status"));
  EXPECT_FALSE(out.state.seen());
  // If it appears after all, that is its first discovery.
  const auto back = h.see(wf_doc(6), t0 + 1h);
  ASSERT_EQ(names(back), std::vector<std::string>{"task_discovered"});
  EXPECT_FALSE(back.events[0].fields.contains("reappeared"));
  EXPECT_EQ(back.state.first_seen, t0 + 1h);
}

TEST(tracker, a_gone_task_that_reappears_is_announced_again) {
  harness h;
  h.see(auto_doc(1, 20), t0);
  h.gone(auto_key, t0 + 10min);
  auto out = h.see(auto_doc(1, 20), t0 + 20min);
  ASSERT_EQ(names(out), std::vector<std::string>{"task_discovered"});
  EXPECT_EQ(out.events[0].fields.at("reappeared"), true);
  EXPECT_FALSE(out.state.gone);
  EXPECT_FALSE(out.state.gone_since);
  EXPECT_EQ(out.state.first_seen, t0);
  EXPECT_EQ(out.state.status_since, t0);
  // Back in a different status: the transition is reported with its full duration.
  h.gone(auto_key, t0 + 30min);
  out = h.see(auto_doc(3, 100), t0 + 40min);
  EXPECT_EQ(names(out), (std::vector<std::string>{"task_discovered", "task_status_changed"}));
  EXPECT_EQ(only(out, "task_status_changed").fields.at("seconds_in_previous"), 2400.0);
  ASSERT_TRUE(out.transition);
  EXPECT_EQ(out.state.status_since, t0 + 40min);
}

// ---- errors and the change flag -------------------------------------------------------

TEST(tracker, poll_errors_are_recorded_without_events) {
  harness h;
  h.see(auto_doc(1, 5), t0);
  auto out = h.fail(auto_key, errc::timeout, "timed out after 10s", t0 + 15s);
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.changed);
  ASSERT_TRUE(out.state.last_error);
  EXPECT_EQ(out.state.last_error->kind, errc::timeout);
  EXPECT_EQ(out.state.last_error->since, t0 + 15s);
  out = h.fail(auto_key, errc::timeout, "timed out after 10s", t0 + 30s);
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.state.last_error->since, t0 + 15s);
  out = h.fail(auto_key, errc::server_error, "HTTP 503", t0 + 45s);
  EXPECT_TRUE(out.changed);
  out = h.see(auto_doc(1, 5), t0 + 60s);
  EXPECT_TRUE(out.changed);
  EXPECT_FALSE(out.state.last_error);
  EXPECT_EQ(out.state.last_success, t0 + 60s);
}

TEST(tracker, an_error_before_the_first_observation_keeps_discovery_pending) {
  harness h;
  auto out = h.fail(wf_key, errc::auth_failed, "401", t0);
  EXPECT_TRUE(out.changed);
  EXPECT_FALSE(out.state.seen());
  out = h.see(wf_doc(1), t0 + 1min);
  EXPECT_EQ(names(out), std::vector<std::string>{"task_discovered"});
  EXPECT_EQ(out.state.first_seen, t0 + 1min);
}

TEST(tracker, polls_that_change_nothing_need_no_write) {
  harness h;
  h.see(auto_doc(3, 100), t0, R"({"status":3,"elapsed_time":1})");
  const auto out = h.see(auto_doc(3, 100), t0 + 1h, R"({"status":3,"elapsed_time":2})");
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.state.last_success, t0 + 1h);                        // kept in memory
  EXPECT_EQ(out.state.snapshot_json, R"({"status":3,"elapsed_time":2})");  // written later
}

TEST(tracker, a_renamed_task_is_a_change) {
  harness h;
  h.see(auto_doc(3, 100), t0);
  auto doc = auto_doc(3, 100);
  doc.task_name = "renamed";
  const auto out = h.see(doc, t0 + 1h);
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.state.name, "renamed");
  doc.task_name.clear();  // a detail without a name keeps the known one
  EXPECT_EQ(h.see(doc, t0 + 2h).state.name, "renamed");
}
