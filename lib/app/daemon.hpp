// labelwatchd's lifecycle: load the configuration, open the store, build the client
// stack, metrics, event sinks and the HTTP endpoints, run the engine, and handle
// signals (SIGHUP reload, SIGTERM/SIGINT graceful stop) and the systemd notify protocol.
//
// Exit codes: 0 clean stop; 2 configuration, credentials or state store unusable at
// start-up (the message names the file and the reason); 1 an unexpected failure.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace labelwatch::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_startup = 2;

struct daemon_options {
  std::string config_path;
  bool reset_state = false;  // move an unusable state database aside and start fresh
  // After SIGTERM: how long in-flight requests may take before they are abandoned.
  std::chrono::milliseconds drain_bound{std::chrono::seconds{10}};
  // After the drain: how long queued webhook events may take to go out.
  std::chrono::milliseconds webhook_flush_bound{std::chrono::seconds{5}};
  // /healthz turns 503 when the event loop has not turned for this long.
  std::chrono::milliseconds loop_stall_after{std::chrono::seconds{30}};
  // Called once the daemon is up (HTTP server listening), with its base URL; the demo
  // prints its banner from here.
  std::function<void(const std::string& base_url)> on_ready;
};

// Runs until SIGTERM/SIGINT. Blocks; returns the exit code.
int run_daemon(const daemon_options& options);

}  // namespace labelwatch::app
