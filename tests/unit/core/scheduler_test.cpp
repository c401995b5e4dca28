#include "core/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace labelwatch;
using namespace std::chrono_literals;

namespace {

const mono_time t0 = mono_time{} + 1000h;

job_key poll(std::string id, task_kind kind = task_kind::auto_labeling) {
  return job_key::poll(task_key{kind, "ds", std::move(id)});
}

scheduler_settings settings() {
  scheduler_settings s;
  s.active_interval = 15s;
  s.idle_interval = 5min;
  s.terminal_interval = 1h;
  return s;
}

}  // namespace

TEST(scheduler, pops_due_jobs_in_due_order_with_their_due_time) {
  scheduler s(settings());
  EXPECT_FALSE(s.next_due());
  EXPECT_TRUE(s.add(poll("c"), status_class::active, t0 + 3s));
  EXPECT_TRUE(s.add(poll("a"), status_class::active, t0 + 1s));
  EXPECT_TRUE(s.add(poll("b"), status_class::active, t0 + 2s));
  EXPECT_TRUE(s.add(poll("b2"), status_class::active, t0 + 2s));  // tie: queue order
  EXPECT_FALSE(s.add(poll("a"), status_class::idle, t0));         // already there
  EXPECT_EQ(s.next_due(), t0 + 1s);
  EXPECT_TRUE(s.pop_due(t0 + 999ms).empty());

  auto due = s.pop_due(t0 + 2s);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].key, poll("a"));
  EXPECT_EQ(due[0].due, t0 + 1s);
  EXPECT_EQ(due[1].key, poll("b"));
  EXPECT_EQ(due[2].key, poll("b2"));
  EXPECT_EQ(due[2].due, t0 + 2s);
  EXPECT_EQ(s.running(), 3u);
  EXPECT_EQ(s.queued(), 1u);
  EXPECT_EQ(s.next_due(), t0 + 3s);
  // Running jobs are not due again until reported.
  EXPECT_EQ(s.pop_due(t0 + 1h).size(), 1u);
  EXPECT_FALSE(s.next_due());
  EXPECT_EQ(lag_seconds(due[0].due, t0 + 2s), 1.0);
  EXPECT_EQ(lag_seconds(t0 + 5s, t0 + 2s), 0.0);
}

TEST(scheduler, pop_due_honours_the_limit) {
  scheduler s(settings());
  for (int i = 0; i < 10; ++i) s.add(poll(std::to_string(i)), status_class::active, t0);
  EXPECT_EQ(s.pop_due(t0, 4).size(), 4u);
  EXPECT_EQ(s.pop_due(t0, 0).size(), 0u);
  EXPECT_EQ(s.pop_due(t0).size(), 6u);
}

TEST(scheduler, interval_follows_the_status_class_with_jitter) {
  scheduler s(settings());
  const auto k = poll("t");
  s.add(k, status_class::active, t0);
  s.pop_due(t0);
  EXPECT_EQ(s.completed(k, t0, 0.5), t0 + 15s);  // u = 0.5: no jitter
  s.pop_due(t0 + 15s);
  EXPECT_EQ(s.completed(k, t0 + 15s, 0.0), t0 + 15s + 13'500ms);  // -10%
  s.pop_due(t0 + 1h);
  EXPECT_EQ(s.completed(k, t0 + 1h, 1.0, status_class::idle), t0 + 1h + 330s);  // +10%
  s.pop_due(t0 + 2h);
  EXPECT_EQ(s.completed(k, t0 + 2h, 0.5, status_class::terminal), t0 + 3h);
  s.pop_due(t0 + 3h);
  EXPECT_EQ(s.completed(k, t0 + 3h, 0.5, 7min), t0 + 3h + 7min);  // a fixed cadence
}

TEST(scheduler, terminal_interval_zero_parks_the_job_until_the_config_changes) {
  auto cfg = settings();
  cfg.terminal_interval = 0s;
  scheduler s(cfg);
  const auto k = poll("t");
  s.add(k, status_class::active, t0);
  s.pop_due(t0);
  EXPECT_EQ(s.completed(k, t0, 0.5, status_class::terminal), std::nullopt);
  EXPECT_TRUE(s.contains(k));
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_EQ(s.running(), 0u);
  EXPECT_TRUE(s.pop_due(t0 + 1000h).empty());
  cfg.terminal_interval = 1h;
  s.set_settings(cfg);
  EXPECT_EQ(s.due_of(k), t0 + 1h);
}

TEST(scheduler, a_failing_job_backs_off_without_moving_the_others) {
  scheduler s(settings());
  const auto bad = poll("bad");
  std::vector<job_key> good;
  for (int i = 0; i < 5; ++i) good.push_back(poll("good" + std::to_string(i)));
  s.add(bad, status_class::active, t0);
  for (const auto& k : good) s.add(k, status_class::active, t0);

  mono_time now = t0;
  std::vector<mono_time> bad_delays;
  for (int round = 0; round < 40; ++round) {
    for (const auto& j : s.pop_due(now)) {
      if (j.key == bad) {
        EXPECT_EQ(j.failures, static_cast<std::uint32_t>(bad_delays.size()));
        const auto next = s.failed(bad, now, 0.999);
        ASSERT_TRUE(next);
        bad_delays.push_back(*next);
      } else {
        EXPECT_EQ(s.completed(j.key, now, 0.5), now + 15s);
      }
    }
    // Every good job is due exactly one interval after its last run, failure or not.
    for (const auto& k : good) EXPECT_EQ(s.due_of(k), now + 15s);
    now += 15s;
  }
  ASSERT_GE(bad_delays.size(), 4u);
  // Windows double: 30s, 60s, 120s, 240s, then the cap (idle interval, 5 min).
  EXPECT_EQ(s.failures_of(bad), bad_delays.size());
}

TEST(scheduler, backoff_windows_double_up_to_the_cap_and_reset_on_success) {
  scheduler s(settings());
  const auto k = poll("t");
  s.add(k, status_class::active, t0);
  const milliseconds expected_ceiling[] = {30s, 60s, 120s, 240s, 300s, 300s, 300s};
  mono_time now = t0;
  for (const auto ceiling : expected_ceiling) {
    ASSERT_EQ(s.pop_due(now + 1h).size(), 1u);
    const auto next = s.failed(k, now, 0.5);  // half the window
    ASSERT_TRUE(next);
    EXPECT_EQ(*next - now, ceiling / 2);
    now = *next;
  }
  // A draw of 0 is floored, a Retry-After is honoured.
  s.pop_due(now + 1h);
  EXPECT_EQ(s.failed(k, now, 0.0), now + 1s);
  s.pop_due(now + 1h);
  EXPECT_EQ(s.failed(k, now, 0.0, 90s), now + 90s);
  s.pop_due(now + 1h);
  EXPECT_EQ(s.completed(k, now, 0.5), now + 15s);
  EXPECT_EQ(s.failures_of(k), 0u);
  s.pop_due(now + 1h);
  EXPECT_EQ(s.failed(k, now, 0.5), now + 15s);  // window back to 2 x 15s
}

TEST(scheduler, backoff_of_a_long_interval_is_capped_by_that_interval) {
  scheduler s(settings());
  const auto k = poll("t");
  s.add(k, status_class::terminal, t0);
  s.pop_due(t0);
  EXPECT_EQ(s.failed(k, t0, 0.999999), t0 + 1h - 4ms);  // cap max(idle, 1h) = 1h
}

TEST(scheduler, jobs_added_with_spread_starts_stay_spread_across_the_interval) {
  // 10,000 tasks added at once, spread over one active interval, then run for ten
  // rounds with jitter: every second of the interval carries close to its fair share.
  scheduler s(settings());
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr int n = 10'000;
  for (int i = 0; i < n; ++i)
    s.add(poll(std::to_string(i)), status_class::active, spread_start(t0, 15s, unit(rng)));
  mono_time now = t0;
  const mono_time end = t0 + 150s;
  std::vector<int> per_second(150, 0);
  while (now < end) {
    for (const auto& j : s.pop_due(now)) {
      ++per_second[static_cast<std::size_t>((j.due - t0) / 1s)];
      s.completed(j.key, now, unit(rng));
    }
    now += 10ms;
  }
  const double fair = n / 15.0;
  // Where the first round meets the second (14s..16s), early jobs that drew a short
  // interval overlap late first runs: a one-off bump of about a third. Everywhere
  // else every second stays within 15% of its fair share.
  for (std::size_t sec = 0; sec < per_second.size(); ++sec) {
    const double tolerance = (sec == 14 || sec == 15) ? 0.4 : 0.15;
    EXPECT_GT(per_second[sec], (1 - tolerance) * fair) << sec;
    EXPECT_LT(per_second[sec], (1 + tolerance) * fair) << sec;
  }
}

TEST(scheduler, jobs_started_together_drift_apart_with_jitter) {
  // Without a spread start, jitter alone still breaks up a burst.
  scheduler s(settings());
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 1000; ++i) s.add(poll(std::to_string(i)), status_class::active, t0);
  auto first = s.pop_due(t0);
  ASSERT_EQ(first.size(), 1000u);
  for (const auto& j : first) s.completed(j.key, t0, unit(rng));
  std::vector<int> per_second(30, 0);
  for (mono_time now = t0; now < t0 + 30s; now += 10ms)
    for (const auto& j : s.pop_due(now)) {
      ++per_second[static_cast<std::size_t>((j.due - t0) / 1s)];
      s.completed(j.key, now, unit(rng));
    }
  // Second round: due between 13.5s and 16.5s, spread over three seconds.
  EXPECT_EQ(per_second[12], 0);
  EXPECT_GT(per_second[13], 100);
  EXPECT_GT(per_second[14], 250);
  EXPECT_GT(per_second[15], 250);
  EXPECT_GT(per_second[16], 100);
  EXPECT_LT(*std::max_element(per_second.begin(), per_second.end()), 400);
}

TEST(scheduler, removing_a_job_drops_it_wherever_it_is) {
  scheduler s(settings());
  s.add(poll("q"), status_class::active, t0 + 1s);
  s.add(poll("r"), status_class::active, t0);
  s.pop_due(t0);
  EXPECT_TRUE(s.remove(poll("q")));
  EXPECT_TRUE(s.remove(poll("r")));
  EXPECT_FALSE(s.remove(poll("r")));
  EXPECT_EQ(s.running(), 0u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(s.next_due());
  // The driver reports the removed job's completion: ignored.
  EXPECT_EQ(s.completed(poll("r"), t0, 0.5), std::nullopt);
  EXPECT_EQ(s.failed(poll("r"), t0, 0.5), std::nullopt);
  EXPECT_FALSE(s.contains(poll("r")));
}

TEST(scheduler, completion_of_a_job_that_is_not_running_is_ignored) {
  scheduler s(settings());
  s.add(poll("q"), status_class::active, t0 + 1s);
  EXPECT_EQ(s.completed(poll("q"), t0, 0.5), std::nullopt);
  EXPECT_EQ(s.due_of(poll("q")), t0 + 1s);
  EXPECT_EQ(s.running(), 0u);
}

TEST(scheduler, shorter_intervals_apply_to_queued_jobs_at_once) {
  scheduler s(settings());
  const auto a = poll("a"), i = poll("i"), f = poll("f"), r = poll("r"), n = poll("n");
  for (const auto& k : {a, i, f, r}) s.add(k, status_class::active, t0);
  s.add(n, status_class::idle, t0 + 1s);  // never ran: its first due time stands
  s.pop_due(t0);
  s.completed(a, t0, 0.5);                        // due t0 + 15s
  s.completed(i, t0, 1.0, status_class::idle);    // due t0 + 330s (factor 1.1)
  s.failed(f, t0, 0.5);                           // retry at t0 + 15s
  // r keeps running through the change.
  auto cfg = settings();
  cfg.active_interval = 10s;
  cfg.idle_interval = 1min;
  s.set_settings(cfg);
  EXPECT_EQ(s.due_of(a), t0 + 10s);
  EXPECT_EQ(s.due_of(i), t0 + 66s);  // anchor + 60s * 1.1
  EXPECT_EQ(s.due_of(f), t0 + 15s);  // backing off: unchanged
  EXPECT_EQ(s.due_of(n), t0 + 1s);
  EXPECT_EQ(s.completed(r, t0 + 5s, 0.5), t0 + 15s);  // the new interval
  // Longer intervals postpone.
  cfg.idle_interval = 10min;
  s.set_settings(cfg);
  EXPECT_EQ(s.due_of(i), t0 + 660s);
  EXPECT_EQ(s.next_due(), t0 + 1s);
}

TEST(scheduler, set_cadence_moves_one_job) {
  scheduler s(settings());
  const auto d = job_key::discover(task_kind::workforce, "ds");
  EXPECT_EQ(d.type, job_type::discover);
  s.add(d, 5min, t0);
  s.pop_due(t0);
  s.completed(d, t0, 0.5);
  EXPECT_EQ(s.due_of(d), t0 + 5min);
  EXPECT_TRUE(s.set_cadence(d, 1min));
  EXPECT_EQ(s.due_of(d), t0 + 1min);
  EXPECT_TRUE(s.set_cadence(d, 0ms));  // interval 0: parked
  EXPECT_EQ(s.due_of(d), std::nullopt);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_TRUE(s.set_cadence(d, 2min));
  EXPECT_EQ(s.due_of(d), t0 + 2min);
  EXPECT_FALSE(s.set_cadence(poll("nope"), 1min));
}

TEST(scheduler, reschedule_makes_a_job_due_now) {
  scheduler s(settings());
  const auto k = poll("k");
  s.add(k, status_class::terminal, t0 + 1h);
  EXPECT_TRUE(s.reschedule(k, t0));
  EXPECT_EQ(s.next_due(), t0);
  ASSERT_EQ(s.pop_due(t0).size(), 1u);
  EXPECT_FALSE(s.reschedule(k, t0));  // running
}

TEST(scheduler, job_keys_of_different_types_are_distinct) {
  scheduler s(settings());
  EXPECT_TRUE(s.add(job_key::discover(task_kind::auto_labeling, "ds"), 5min, t0));
  EXPECT_TRUE(s.add(job_key::discover(task_kind::workforce, "ds"), 5min, t0));
  EXPECT_TRUE(s.add(job_key::sample_quality("ds"), 10min, t0));
  EXPECT_TRUE(s.add(poll("ds"), status_class::active, t0));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(to_string(job_type::sample_quality), "sample_quality");
}

TEST(scheduler, settings_from_the_poll_config) {
  config::poll_config poll;
  poll.active_interval = 7s;
  poll.idle_interval = 70s;
  poll.terminal_interval = 0s;
  const auto s = scheduler_settings::from(poll);
  EXPECT_EQ(s.active_interval, 7s);
  EXPECT_EQ(s.idle_interval, 70s);
  EXPECT_EQ(s.terminal_interval, 0s);
  EXPECT_EQ(s.jitter, 0.1);
}

TEST(scheduler, draws_out_of_range_are_clamped) {
  scheduler s(settings());
  const auto k = poll("k");
  s.add(k, status_class::active, t0);
  s.pop_due(t0);
  EXPECT_EQ(s.completed(k, t0, -3.0), t0 + 13'500ms);
  s.pop_due(t0 + 1h);
  EXPECT_EQ(s.completed(k, t0, std::numeric_limits<double>::quiet_NaN()), t0 + 13'500ms);
  EXPECT_EQ(spread_start(t0, 15s, 7.0), t0 + 15s);
}

// ---- rate limiter ---------------------------------------------------------------------

TEST(rate_limiter, allows_the_burst_then_the_rate) {
  rate_limiter r(20.0, 5.0, t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.try_acquire(t0)) << i;
  EXPECT_FALSE(r.try_acquire(t0));
  const auto next = r.next_available(t0);
  EXPECT_GE(next, t0 + 50ms);
  EXPECT_LE(next, t0 + 51ms);
  EXPECT_FALSE(r.try_acquire(t0 + 49ms));
  EXPECT_TRUE(r.try_acquire(next));
  EXPECT_FALSE(r.try_acquire(next));
  // Over 10 seconds exactly rate * 10 more.
  int granted = 0;
  for (mono_time now = next; now < next + 10s; now += 1ms) granted += r.try_acquire(now);
  EXPECT_NEAR(granted, 200, 1);
}

TEST(rate_limiter, rate_changes_apply_from_now) {
  rate_limiter r(1.0, 1.0, t0);
  EXPECT_TRUE(r.try_acquire(t0));
  r.set_rate(1000.0, 10.0, t0);
  EXPECT_TRUE(r.try_acquire(t0 + 2ms));
  EXPECT_EQ(r.next_available(t0 + 1s), t0 + 1s);  // refilled
  rate_limiter zero(0.0, 1.0, t0);
  EXPECT_TRUE(zero.try_acquire(t0));
  EXPECT_EQ(zero.next_available(t0), mono_time::max());
}
