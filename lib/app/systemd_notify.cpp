#include "app/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

namespace labelwatch::app {

systemd_notifier::systemd_notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // sd_watchdog_enabled checks WATCHDOG_PID against our pid, so a child never pings
  // on its parent's behalf.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::milliseconds{static_cast<long long>(usec / 2000)};
  }
}

void systemd_notifier::send(std::string_view message) const {
  if (!enabled_) return;
  // A failed notification is not fatal: systemd would time us out and say so.
  (void)sd_notify(0, std::string(message).c_str());
}

void systemd_notifier::ready(std::string_view status) const {
  send("READY=1\nSTATUS=" + std::string(status));
}

void systemd_notifier::reloading() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
                    static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void systemd_notifier::stopping() const { send("STOPPING=1"); }

void systemd_notifier::status(std::string_view status) const {
  send("STATUS=" + std::string(status));
}

void systemd_notifier::watchdog() const { send("WATCHDOG=1"); }

}  // namespace labelwatch::app
