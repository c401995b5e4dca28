#include "observe/diag.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <string>

namespace labelwatch::observe {

void init_diagnostics(std::string_view program, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt(std::string(program) + "-diag");
  const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  logger->set_pattern(journal ? std::string("%l: %v")
                              : std::string("%Y-%m-%dT%H:%M:%S.%eZ ") + std::string(program) +
                                    " %l: %v",
                      spdlog::pattern_time_type::utc);
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace labelwatch::observe
