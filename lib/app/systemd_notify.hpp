// The systemd notify protocol (Type=notify): READY, RELOADING, STOPPING, STATUS and
// watchdog pings. Does nothing when NOTIFY_SOCKET is unset, so the daemon behaves the
// same outside systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace labelwatch::app {

class systemd_notifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
  systemd_notifier();

  bool enabled() const noexcept { return enabled_; }
  // How often to ping: half of WatchdogSec, or nullopt when the watchdog is off.
  std::optional<std::chrono::milliseconds> watchdog_interval() const noexcept {
    return watchdog_interval_;
  }

  void ready(std::string_view status) const;
  // RELOADING=1 with MONOTONIC_USEC, as systemd expects before a reload completes.
  void reloading() const;
  void stopping() const;
  void status(std::string_view status) const;
  void watchdog() const;

 private:
  void send(std::string_view message) const;

  bool enabled_ = false;
  std::optional<std::chrono::milliseconds> watchdog_interval_;
};

}  // namespace labelwatch::app
