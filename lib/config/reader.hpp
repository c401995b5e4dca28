// Reads and validates the TOML configuration (DESIGN.md "Configuration").
//
// Pure: `parse_config` works on text; `load_config_file` is the thin file-reading edge.
// Every problem is reported, not only the first: each names the file, the key (as a
// dotted path, e.g. "watch[2].discover_interval") and, where known, the line, and says
// what is wrong and what is expected. Unknown keys are errors (a typo must not silently
// disable a rule).
#pragma once

#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::config {

struct config_error {
  std::string file;
  std::string key;   // dotted path; empty for a syntax error
  std::size_t line = 0;  // 0 when unknown
  std::string message;
  // "file:line: key: message" (parts that are unknown are left out).
  std::string to_string() const;
};

using config_result = boost::system::result<daemon_config, std::vector<config_error>>;

config_result parse_config(std::string_view toml_text, std::string_view source_name);
config_result load_config_file(const std::string& path);

}  // namespace labelwatch::config
