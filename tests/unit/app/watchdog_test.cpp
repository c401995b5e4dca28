#include "app/watchdog.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::app;
using namespace std::chrono_literals;

namespace {

const mono_time t0{std::chrono::hours{100}};

loop_progress healthy() {
  loop_progress p;
  p.driver_turn = t0;
  p.job_activity = t0 - 30s;
  p.in_flight = 2;
  p.slots = 16;
  return p;
}

}  // namespace

TEST(watchdog, a_turning_driver_with_free_slots_progresses) {
  const auto h = judge_poll_loop(healthy(), t0 + 900ms, watchdog_limits{});
  EXPECT_TRUE(h.progressing());
  EXPECT_EQ(h.state, loop_state::progressing);
  EXPECT_EQ(h.problem, "");
}

TEST(watchdog, no_ping_before_the_driver_first_turns) {
  loop_progress p;
  const auto h = judge_poll_loop(p, t0, watchdog_limits{});
  EXPECT_EQ(h.state, loop_state::not_started);
  EXPECT_FALSE(h.progressing());
}

TEST(watchdog, a_quiet_driver_stops_the_pings) {
  watchdog_limits limits;  // driver_quiet 5 s
  auto p = healthy();
  EXPECT_TRUE(judge_poll_loop(p, t0 + 5s, limits).progressing());  // exactly at the limit
  const auto h = judge_poll_loop(p, t0 + 5001ms, limits);
  EXPECT_EQ(h.state, loop_state::driver_quiet);
  EXPECT_EQ(h.problem, "poll loop driver quiet for 5s");
  EXPECT_EQ(judge_poll_loop(p, t0 + 2min, limits).problem, "poll loop driver quiet for 2m");
  // The driver turning again is progress at once.
  p.driver_turn = t0 + 2min;
  EXPECT_TRUE(judge_poll_loop(p, t0 + 2min + 100ms, limits).progressing());
}

TEST(watchdog, every_slot_held_too_long_means_stuck_jobs) {
  watchdog_limits limits;
  limits.jobs_quiet = 15min;
  auto p = healthy();
  p.in_flight = 16;  // every slot taken
  p.job_activity = t0;
  p.driver_turn = t0 + 15min;  // the driver itself keeps turning
  EXPECT_TRUE(judge_poll_loop(p, t0 + 15min, limits).progressing());
  const auto h = judge_poll_loop(p, t0 + 15min + 1s, limits);
  EXPECT_EQ(h.state, loop_state::jobs_stuck);
  EXPECT_EQ(h.problem, "all 16 job slots busy and no job started or finished for 15m1s");
  // A job finishing frees a slot and counts as activity: progress again.
  p.in_flight = 15;
  EXPECT_TRUE(judge_poll_loop(p, t0 + 15min + 1s, limits).progressing());
  p.in_flight = 16;
  p.job_activity = t0 + 15min;
  EXPECT_TRUE(judge_poll_loop(p, t0 + 15min + 1s, limits).progressing());
}

TEST(watchdog, long_idle_then_a_burst_is_not_stuck) {
  // The last job finished an hour ago (nothing was due), then every slot filled now:
  // the start of the burst is activity.
  auto p = healthy();
  p.slots = 1;
  p.in_flight = 1;
  p.job_activity = t0;  // the job just started
  p.driver_turn = t0 + 1s;
  EXPECT_TRUE(judge_poll_loop(p, t0 + 1s, watchdog_limits{}).progressing());
}

TEST(watchdog, without_recorded_job_activity_the_first_turn_is_the_reference) {
  auto p = healthy();
  p.job_activity.reset();
  p.in_flight = 16;
  p.driver_turn = t0;
  EXPECT_TRUE(judge_poll_loop(p, t0 + 2s, watchdog_limits{}).progressing());
}

TEST(watchdog, a_zero_slot_count_reads_as_one) {
  auto p = healthy();
  p.slots = 0;
  p.in_flight = 1;
  p.job_activity = t0 - 20min;
  EXPECT_EQ(judge_poll_loop(p, t0, watchdog_limits{}).state, loop_state::jobs_stuck);
}

TEST(watchdog, limits_follow_the_request_timeout) {
  config::poll_config poll;
  poll.request_timeout = 10s;
  EXPECT_EQ(watchdog_limits::from(poll).jobs_quiet, 15min);
  EXPECT_EQ(watchdog_limits::from(poll).driver_quiet, 5s);
  poll.request_timeout = 2min;
  EXPECT_EQ(watchdog_limits::from(poll).jobs_quiet, 40min);
}
