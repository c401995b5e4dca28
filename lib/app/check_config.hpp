// labelwatchd's configuration commands: `--check-config PATH`, and the loading step of
// `--config PATH`. Kept out of main so they are testable and main stays thin.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <optional>
#include <string>

namespace labelwatch::app {

// Exit status for a usage or configuration error, the same for every labelwatch binary.
inline constexpr int exit_config_error = 2;

// `--check-config PATH`: reads and validates the file, then checks the files it refers
// to (config/check.hpp). Every error goes to `err` on its own line as
// "file:line: key: message", every note as "file:line: key: note: message"; on success
// one summary line, "PATH: ok (3 watches, 2 acceptance rules)", goes to `out`.
// Returns 0 when the daemon could start with this file, exit_config_error otherwise.
int check_config(const std::string& path, std::ostream& out, std::ostream& err);

// `--config PATH` at start-up: the same checks. On failure prints the errors to `err`
// and returns nullopt; notes are printed either way.
std::optional<config::daemon_config> load_config(const std::string& path, std::ostream& err);

}  // namespace labelwatch::app
