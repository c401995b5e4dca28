// Helpers shared by the config unit tests.
#pragma once

#include "config/reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::config::testing {

// A valid [cloud] table of exactly three lines: text appended to it starts at line 4.
inline constexpr std::string_view k_cloud =
    "[cloud]\n"
    "endpoint = \"https://modelarts.cn-north-4.myhuaweicloud.com\"\n"
    "project_id = \"0123456789abcdef0123456789abcdef\"\n";

inline std::string with_cloud(std::string_view rest) { return std::string{k_cloud} + std::string{rest}; }

inline std::vector<config_error> errors_of(std::string_view toml) {
  auto r = parse_config(toml, "t.toml");
  if (r) return {};
  return r.error();
}

inline std::string dump(const std::vector<config_error>& errors) {
  std::string out;
  for (const auto& e : errors) out += "  " + e.to_string() + "\n";
  return out;
}

// Parses `toml`, expecting success.
inline daemon_config parse_ok(std::string_view toml) {
  auto r = parse_config(toml, "t.toml");
  EXPECT_TRUE(r) << (r ? std::string{} : dump(r.error()));
  return r ? *r : daemon_config{};
}

}  // namespace labelwatch::config::testing
