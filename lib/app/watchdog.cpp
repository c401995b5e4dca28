// The watchdog's progress rule (see watchdog.hpp).
#include "app/watchdog.hpp"

#include "core/time.hpp"

#include <algorithm>

namespace labelwatch::app {
namespace {

// Whole seconds are what an operator reads in a log line or `systemctl status`.
std::string seconds_text(std::chrono::steady_clock::duration d) {
  return format_duration(std::chrono::floor<std::chrono::seconds>(d));
}

}  // namespace

watchdog_limits watchdog_limits::from(const config::poll_config& poll) noexcept {
  watchdog_limits l;
  l.jobs_quiet = std::max<milliseconds>(std::chrono::minutes{15}, poll.request_timeout * 20);
  return l;
}

loop_health judge_poll_loop(const loop_progress& progress, mono_time now,
                            const watchdog_limits& limits) {
  if (!progress.driver_turn) return {loop_state::not_started, "poll loop not started"};
  // A turn "in the future" cannot happen on one steady clock; treat it as just now.
  const auto driver_quiet = std::max(now - *progress.driver_turn, mono_time::duration::zero());
  if (driver_quiet > limits.driver_quiet)
    return {loop_state::driver_quiet, "poll loop driver quiet for " + seconds_text(driver_quiet)};

  const std::size_t slots = std::max<std::size_t>(progress.slots, 1);
  if (progress.in_flight >= slots) {
    const auto since = progress.job_activity.value_or(*progress.driver_turn);
    const auto jobs_quiet = std::max(now - since, mono_time::duration::zero());
    if (jobs_quiet > limits.jobs_quiet) {
      return {loop_state::jobs_stuck, "all " + std::to_string(slots) +
                                          " job slots busy and no job started or finished for " +
                                          seconds_text(jobs_quiet)};
    }
  }
  return {loop_state::progressing, {}};
}

}  // namespace labelwatch::app
