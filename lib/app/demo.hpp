// labelwatchd --demo: the embedded simulator (builtin:demo scenario) on loopback over
// TLS with a fresh CA and a random AK/SK pair, and the daemon watching it with AK/SK
// signing, state in a temporary directory. Prints where to look; Ctrl-C stops both.
#pragma once

#include <string>

namespace labelwatch::app {

struct demo_options {
  // Where the status page and /metrics listen; falls back to a free port when taken.
  std::string listen = "127.0.0.1:9464";
  // Simulator scenario (labelwatch-sim --scenario syntax).
  std::string scenario = "builtin:demo";
};

// Returns the daemon's exit code.
int run_demo(const demo_options& options);

}  // namespace labelwatch::app
