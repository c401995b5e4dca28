// When labelwatchd may tell the systemd watchdog that it is alive (WATCHDOG=1): only
// while the poll loop makes progress. Pure: the heartbeat passes in what the engine
// reports and the monotonic time; nothing here reads a clock.
//
// The poll loop makes progress when both hold:
// - The driver turned within `driver_quiet`. It wakes at least once a second, so a
//   driver that has been quiet for seconds has died (an exception escaped it) or the
//   thread is wedged.
// - The jobs move. When every slot is taken (in_flight >= slots), a job must have
//   started or finished within `jobs_quiet`. Each request is bounded (request_timeout,
//   at most 4 attempts within 30 s) and a store commit gives up after busy_timeout, so
//   jobs that hold every slot that long are stuck (a completion that never comes), not
//   slow. A free slot means the driver can start work, which is progress enough.
// Before the driver's first turn the loop is "starting" and not progressing: systemd
// gets its first ping once polling runs.
#pragma once

#include "config/config.hpp"
#include "core/scheduler.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace labelwatch::app {

// What the engine reports about its loop (engine_status carries these).
struct loop_progress {
  std::optional<mono_time> driver_turn;   // the driver's last iteration
  std::optional<mono_time> job_activity;  // the last time a job started or finished
  std::size_t in_flight = 0;              // jobs running now
  std::size_t slots = 1;                  // most jobs at once ([poll] max_in_flight)
};

struct watchdog_limits {
  milliseconds driver_quiet{std::chrono::seconds{5}};
  milliseconds jobs_quiet{std::chrono::minutes{15}};

  // jobs_quiet = max(15 min, 20 * request_timeout): far beyond any job's bounded
  // length; driver_quiet stays 5 s.
  static watchdog_limits from(const config::poll_config& poll) noexcept;
};

enum class loop_state { progressing, not_started, driver_quiet, jobs_stuck };

struct loop_health {
  loop_state state = loop_state::not_started;
  bool progressing() const noexcept { return state == loop_state::progressing; }
  // Why not, for the log and STATUS= ("driver quiet for 7s", "all 16 job slots busy
  // and no job started or finished for 15m0s", "poll loop not started"); empty when
  // progressing.
  std::string problem;
};

loop_health judge_poll_loop(const loop_progress& progress, mono_time now,
                            const watchdog_limits& limits);

}  // namespace labelwatch::app
