#include "core/time.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

namespace labelwatch {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> k_weekdays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> k_months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  unsigned millis = 0;
};

civil to_civil(sys_time t) {
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{t - day_point};
  return civil{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),
               static_cast<unsigned>(hms.hours().count()),
               static_cast<unsigned>(hms.minutes().count()),
               static_cast<unsigned>(hms.seconds().count()),
               static_cast<unsigned>(hms.subseconds().count())};
}

std::optional<sys_time> from_civil(int y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                                   unsigned s, unsigned ms) noexcept {
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60 || ms > 999) return std::nullopt;
  return sys_time{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} +
                  milliseconds{ms}};
}

// A tiny cursor over the input for fixed-format parsing.
struct cursor {
  std::string_view s;
  std::size_t i = 0;

  bool digits(std::size_t n, unsigned& out) noexcept {
    if (i + n > s.size()) return false;
    unsigned v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    i += n;
    out = v;
    return true;
  }
  bool lit(char c) noexcept {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool lit(std::string_view w) noexcept {
    if (s.substr(i, w.size()) == w) {
      i += w.size();
      return true;
    }
    return false;
  }
  bool done() const noexcept { return i == s.size(); }
  char peek() const noexcept { return i < s.size() ? s[i] : '\0'; }
};

}  // namespace

std::string format_rfc3339_ms(sys_time t) {
  const civil c = to_civil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", c.year, c.month, c.day,
                c.hour, c.minute, c.second, c.millis);
  return buf;
}

std::optional<sys_time> parse_rfc3339(std::string_view s) noexcept {
  cursor c{s};
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!(c.digits(4, y) && c.lit('-') && c.digits(2, mo) && c.lit('-') && c.digits(2, d)))
    return std::nullopt;
  if (!(c.lit('T') || c.lit('t') || c.lit(' '))) return std::nullopt;
  if (!(c.digits(2, h) && c.lit(':') && c.digits(2, mi) && c.lit(':') && c.digits(2, sec)))
    return std::nullopt;
  unsigned ms = 0;
  if (c.lit('.')) {
    std::size_t n = 0;
    unsigned scale = 100;
    while (c.peek() >= '0' && c.peek() <= '9') {
      if (n < 3) ms += static_cast<unsigned>(c.peek() - '0') * scale;
      scale /= 10;
      ++c.i;
      ++n;
    }
    if (n == 0) return std::nullopt;
  }
  int offset_min = 0;
  if (c.lit('Z') || c.lit('z')) {
  } else if (c.peek() == '+' || c.peek() == '-') {
    const int sign = c.peek() == '-' ? -1 : 1;
    ++c.i;
    unsigned oh = 0, om = 0;
    if (!(c.digits(2, oh) && c.lit(':') && c.digits(2, om))) return std::nullopt;
    offset_min = sign * static_cast<int>(oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (!c.done()) return std::nullopt;
  auto t = from_civil(static_cast<int>(y), mo, d, h, mi, sec, ms);
  if (!t) return std::nullopt;
  return *t - minutes{offset_min};
}

std::string format_sdk_date(sys_time t) {
  const civil c = to_civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02u%02u%02uZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

std::optional<sys_time> parse_sdk_date(std::string_view s) noexcept {
  cursor c{s};
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!(c.digits(4, y) && c.digits(2, mo) && c.digits(2, d) && c.lit('T') && c.digits(2, h) &&
        c.digits(2, mi) && c.digits(2, sec) && c.lit('Z') && c.done()))
    return std::nullopt;
  return from_civil(static_cast<int>(y), mo, d, h, mi, sec, 0);
}

std::string format_http_date(sys_time t) {
  const civil c = to_civil(t);
  const weekday wd{floor<days>(t)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02u:%02u:%02u GMT",
                k_weekdays[wd.c_encoding()].data(), c.day, k_months[c.month - 1].data(), c.year,
                c.hour, c.minute, c.second);
  return buf;
}

std::optional<sys_time> parse_http_date(std::string_view s) noexcept {
  cursor c{s};
  bool wd_ok = false;
  for (auto w : k_weekdays)
    if (c.lit(w)) {
      wd_ok = true;
      break;
    }
  unsigned d = 0, y = 0, h = 0, mi = 0, sec = 0;
  if (!(wd_ok && c.lit(", ") && c.digits(2, d) && c.lit(' '))) return std::nullopt;
  unsigned mo = 0;
  for (unsigned k = 0; k < k_months.size(); ++k)
    if (c.lit(k_months[k])) {
      mo = k + 1;
      break;
    }
  if (mo == 0) return std::nullopt;
  if (!(c.lit(' ') && c.digits(4, y) && c.lit(' ') && c.digits(2, h) && c.lit(':') &&
        c.digits(2, mi) && c.lit(':') && c.digits(2, sec) && c.lit(" GMT") && c.done()))
    return std::nullopt;
  return from_civil(static_cast<int>(y), mo, d, h, mi, sec, 0);
}

std::optional<sys_time> parse_plain_datetime(std::string_view s) noexcept {
  cursor c{s};
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!(c.digits(4, y) && c.lit('-') && c.digits(2, mo) && c.lit('-') && c.digits(2, d) &&
        c.lit(' ') && c.digits(2, h) && c.lit(':') && c.digits(2, mi) && c.lit(':') &&
        c.digits(2, sec) && c.done()))
    return std::nullopt;
  return from_civil(static_cast<int>(y), mo, d, h, mi, sec, 0);
}

std::optional<milliseconds> parse_duration(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  while (i < s.size()) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), value);
    if (ec != std::errc{} || ptr == s.data() + i) return std::nullopt;
    i = static_cast<std::size_t>(ptr - s.data());
    std::int64_t unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60'000; break;
        case 'h': unit = 3'600'000; break;
        case 'd': unit = 86'400'000; break;
        default: return std::nullopt;
      }
      ++i;
    } else {
      return std::nullopt;  // a bare number has no unit
    }
    if (value > static_cast<std::uint64_t>(max / unit)) return std::nullopt;
    const auto part = static_cast<std::int64_t>(value) * unit;
    if (total > max - part) return std::nullopt;
    total += part;
  }
  return milliseconds{total};
}

std::string format_duration(milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  constexpr std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace labelwatch
