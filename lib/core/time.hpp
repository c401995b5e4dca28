// Time as plain values. The core never reads a clock: callers pass `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labelwatch {

using std::chrono::milliseconds;
// Wall-clock instant with millisecond resolution (event timestamps, API times).
using sys_time = std::chrono::sys_time<milliseconds>;

// Milliseconds since the Unix epoch <-> sys_time.
constexpr sys_time from_unix_ms(std::int64_t ms) noexcept { return sys_time{milliseconds{ms}}; }
constexpr std::int64_t to_unix_ms(sys_time t) noexcept { return t.time_since_epoch().count(); }
constexpr double to_unix_seconds(sys_time t) noexcept {
  return static_cast<double>(t.time_since_epoch().count()) / 1000.0;
}

// RFC 3339 in UTC with milliseconds: "2026-11-25T14:32:39.123Z".
std::string format_rfc3339_ms(sys_time t);

// RFC 3339 / ISO 8601 with any number of fraction digits and `Z` or a numeric offset,
// e.g. IAM's "2019-02-13T06:52:13.855000Z". Returns nullopt when malformed.
std::optional<sys_time> parse_rfc3339(std::string_view s) noexcept;

// The X-Sdk-Date form "20191115T033655Z" (UTC, seconds).
std::string format_sdk_date(sys_time t);
std::optional<sys_time> parse_sdk_date(std::string_view s) noexcept;

// IMF-fixdate as in HTTP Retry-After / Date: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(sys_time t);
std::optional<sys_time> parse_http_date(std::string_view s) noexcept;

// "2020-11-23 11:08:20" (ModelArts auto-task create_time). The API gives no zone;
// it is read as UTC.
std::optional<sys_time> parse_plain_datetime(std::string_view s) noexcept;

// Config durations: an unsigned integer followed by a unit, optionally repeated:
// "250ms", "15s", "5m", "1h", "1h30m", "2d", "0s". Returns nullopt when malformed or
// when the value overflows.
std::optional<milliseconds> parse_duration(std::string_view s) noexcept;

// The shortest exact form of a duration in the same syntax: 90000ms -> "1m30s".
std::string format_duration(milliseconds d);

}  // namespace labelwatch
