// Diagnostic logging (spdlog) for operators: start-up, configuration, failures.
// Diagnostics go to stderr as text; domain events are a separate stream (events.hpp)
// so a JSON-lines consumer of events never sees a diagnostic line.
//
// Never pass a secret (AK, SK, password, token, webhook secret) to a diagnostic.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace labelwatch::observe {

// Installs the process-wide logger named `program` writing to stderr. `level` is a
// spdlog level name ("trace", "debug", "info", "warn", "error", "critical", "off");
// an unknown name leaves "info". Under systemd (JOURNAL_STREAM set) the timestamp is
// left to the journal.
void init_diagnostics(std::string_view program, std::string_view level = "info");

}  // namespace labelwatch::observe
