// --check-config and the start-up configuration load: reader + file checks + printing.
#include "app/check_config.hpp"

#include "config/check.hpp"
#include "config/reader.hpp"

#include <ostream>

namespace labelwatch::app {
namespace {

std::string note_text(const config::config_error& n) {
  // "file:line: key: note: message": the note marker goes right before the message so
  // the location part reads like an error's.
  config::config_error copy = n;
  copy.message = "note: " + copy.message;
  return copy.to_string();
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string{n == 1 ? one : many};
}

// Runs both checks; prints errors and notes. Returns the config when it can be used.
std::optional<config::daemon_config> load_and_check(const std::string& path, std::ostream& err) {
  auto parsed = config::load_config_file(path);
  if (!parsed) {
    for (const auto& e : parsed.error()) err << e.to_string() << '\n';
    err << path << ": " << plural(parsed.error().size(), "error", "errors") << '\n';
    return std::nullopt;
  }
  const auto report = config::check_referenced_files(*parsed);
  for (const auto& n : report.notes) err << note_text(n) << '\n';
  if (!report.errors.empty()) {
    for (const auto& e : report.errors) err << e.to_string() << '\n';
    err << path << ": " << plural(report.errors.size(), "error", "errors") << '\n';
    return std::nullopt;
  }
  return std::move(*parsed);
}

}  // namespace

int check_config(const std::string& path, std::ostream& out, std::ostream& err) {
  const auto cfg = load_and_check(path, err);
  if (!cfg) return exit_config_error;
  out << path << ": ok (" << plural(cfg->watches.size(), "watch", "watches") << ", "
      << plural(cfg->acceptance.rules.size(), "acceptance rule", "acceptance rules");
  if (!cfg->acceptance.rules.empty() && !cfg->acceptance.enabled) out << ", acceptance disabled";
  out << ")\n";
  return 0;
}

std::optional<config::daemon_config> load_config(const std::string& path, std::ostream& err) {
  return load_and_check(path, err);
}

}  // namespace labelwatch::app
