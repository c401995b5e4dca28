// Typed, path-aware reads for decode.cpp (see json_reader.hpp for the rules).
#include "modelarts/json_reader.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace labelwatch::modelarts::detail {
namespace json = boost::json;
namespace {

// 9999-12-31T23:59:59.999Z: the last instant every time formatter can print.
constexpr std::int64_t k_max_epoch_ms = 253'402'300'799'999;
constexpr std::size_t k_describe_max = 64;

std::string shortest(double d) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  if (ec != std::errc{}) return "number";
  return std::string(buf.data(), end);
}

template <class... P>
std::string concat(P&&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

std::string expected_got(std::string_view what, const json::value& v) {
  return concat("expected ", what, ", got ", describe(v));
}

// Whole-text number parse: an int64 first (exact), else a finite double.
struct parsed_number {
  bool is_int = false;
  std::int64_t i = 0;
  double d = 0;
};
std::optional<parsed_number> parse_number_text(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc{} && p == last)
    return parsed_number{true, i, 0};
  // from_chars(double) also takes "inf", "nan" and hex-less forms; the finiteness test
  // below rejects the first two.
  double d = 0;
  if (auto [p, ec] = std::from_chars(first, last, d); ec == std::errc{} && p == last &&
                                                       std::isfinite(d))
    return parsed_number{false, 0, d};
  return std::nullopt;
}

// A double that is a whole number representable as int64.
std::optional<std::int64_t> integral(double d) noexcept {
  // 2^63 is exactly representable; every double below it that has no fraction fits.
  constexpr double limit = 9223372036854775808.0;
  if (!std::isfinite(d) || d < -limit || d >= limit || std::trunc(d) != d) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string json_path::render() const {
  std::vector<const json_path*> chain;
  for (const json_path* p = this; p && p->parent; p = p->parent) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const json_path& p = **it;
    if (p.is_index) {
      out += '[';
      out += std::to_string(p.index);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      // Member names of maps (hard_details) come from the server: keep messages short.
      if (p.key.size() <= k_describe_max) {
        out += p.key;
      } else {
        std::size_t n = k_describe_max;
        while (n > 0 && (static_cast<unsigned char>(p.key[n]) & 0xC0) == 0x80) --n;
        out += p.key.substr(0, n);
        out += "...";
      }
    }
  }
  return out;
}

std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: return shortest(v.get_double());
    case json::kind::object: return "an object";
    case json::kind::array: return "an array";
    case json::kind::string: {
      const auto& s = v.get_string();
      if (s.size() <= k_describe_max) return json::serialize(s);
      // Cut on a UTF-8 sequence boundary so the message stays valid UTF-8.
      std::size_t n = k_describe_max;
      while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
      auto out = json::serialize(json::string_view(s.data(), n));
      out.insert(out.size() - 1, "...");
      return out;
    }
  }
  return "a value";
}

conversion<std::string> to_string_field(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return {};
    case json::kind::string: return {std::string(v.get_string()), {}};
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return {describe(v), {}};
    default: return {std::nullopt, expected_got("string", v)};
  }
}

conversion<std::int64_t> to_integer(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return {};
    case json::kind::int64: return {v.get_int64(), {}};
    case json::kind::uint64: {
      const auto u = v.get_uint64();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return {std::nullopt, concat("integer out of range: ", describe(v))};
      return {static_cast<std::int64_t>(u), {}};
    }
    case json::kind::double_: {
      const double d = v.get_double();
      if (auto i = integral(d)) return {*i, {}};
      if (std::isfinite(d) && std::trunc(d) == d)
        return {std::nullopt, concat("integer out of range: ", describe(v))};
      return {std::nullopt, expected_got("integer", v)};
    }
    case json::kind::string: {
      const auto& s = v.get_string();
      if (s.empty()) return {};
      if (auto n = parse_number_text(s)) {
        if (n->is_int) return {n->i, {}};
        if (auto i = integral(n->d)) return {*i, {}};
      }
      return {std::nullopt, expected_got("integer", v)};
    }
    default: return {std::nullopt, expected_got("integer", v)};
  }
}

conversion<double> to_number(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return {};
    case json::kind::int64: return {static_cast<double>(v.get_int64()), {}};
    case json::kind::uint64: return {static_cast<double>(v.get_uint64()), {}};
    case json::kind::double_:
      // The parser turns 1e999 into infinity; no API value is infinite.
      if (!std::isfinite(v.get_double())) return {std::nullopt, expected_got("finite number", v)};
      return {v.get_double(), {}};
    case json::kind::string: {
      const auto& s = v.get_string();
      if (s.empty()) return {};
      if (auto n = parse_number_text(s))
        return {n->is_int ? static_cast<double>(n->i) : n->d, {}};
      return {std::nullopt, expected_got("number", v)};
    }
    default: return {std::nullopt, expected_got("number", v)};
  }
}

conversion<bool> to_boolean(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return {};
    case json::kind::bool_: return {v.get_bool(), {}};
    case json::kind::string: {
      const auto& s = v.get_string();
      if (s.empty()) return {};
      if (iequals(s, "true")) return {true, {}};
      if (iequals(s, "false")) return {false, {}};
      if (auto n = parse_number_text(s)) {
        const double d = n->is_int ? static_cast<double>(n->i) : n->d;
        if (d == 0.0) return {false, {}};
        if (d == 1.0) return {true, {}};
      }
      return {std::nullopt, expected_got("boolean", v)};
    }
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      const double d = v.is_double()  ? v.get_double()
                       : v.is_int64() ? static_cast<double>(v.get_int64())
                                      : static_cast<double>(v.get_uint64());
      if (d == 0.0) return {false, {}};
      if (d == 1.0) return {true, {}};
      return {std::nullopt, expected_got("boolean", v)};
    }
    default: return {std::nullopt, expected_got("boolean", v)};
  }
}

conversion<time_value> to_time(const json::value& v) {
  static constexpr std::string_view what =
      "expected epoch milliseconds or \"YYYY-MM-DD hh:mm:ss\", got ";
  if (v.is_null()) return {};
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    if (s.empty()) return {};
    auto t = parse_plain_datetime(s);
    if (!t) t = parse_rfc3339(s);
    if (t) {
      if (to_unix_ms(*t) < 0 || to_unix_ms(*t) > k_max_epoch_ms)
        return {std::nullopt, concat("time out of range (1970..9999): ", describe(v))};
      return {time_value{*t, std::string(s)}, {}};
    }
  }
  if (v.is_number() || v.is_string()) {
    auto ms = to_integer(v);
    const bool too_big = !ms.value && ms.problem.starts_with("integer out of range");
    if (too_big || (ms.value && (*ms.value < 0 || *ms.value > k_max_epoch_ms)))
      return {std::nullopt, concat("epoch milliseconds out of range (0..", std::to_string(k_max_epoch_ms),
                                   "): ", describe(v))};
    if (ms.value) {
      return {time_value{from_unix_ms(*ms.value),
                         v.is_string() ? std::string(v.get_string()) : std::to_string(*ms.value)},
              {}};
    }
  }
  return {std::nullopt, concat(what, describe(v))};
}

conversion<integer_list> to_int_list(const json::value& v, std::size_t* bad_index) {
  integer_list out;
  if (v.is_null()) return {};
  if (v.is_array()) {
    const auto& arr = v.get_array();
    out.values.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      auto c = to_integer(arr[i]);
      if (!c.value) {
        if (bad_index) *bad_index = i;
        return {std::nullopt, c.problem.empty() ? expected_got("integer", arr[i]) : c.problem};
      }
      out.values.push_back(*c.value);
    }
    return {std::move(out), {}};
  }
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    if (s.empty()) return {std::move(out), {}};
    std::size_t start = 0;
    while (start <= s.size()) {
      auto dash = s.find('-', start);
      if (dash == std::string_view::npos) dash = s.size();
      const auto item = s.substr(start, dash - start);
      std::int64_t n = 0;
      const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
      if (item.empty() || ec != std::errc{} || p != item.data() + item.size())
        return {std::nullopt,
                concat("expected hyphen-separated integers like \"3-20-21-19\", got ", describe(v))};
      out.values.push_back(n);
      start = dash + 1;
    }
    return {std::move(out), {}};
  }
  if (v.is_number()) {
    // A single reason sent as a bare number.
    auto c = to_integer(v);
    if (c.value) {
      out.values.push_back(*c.value);
      return {std::move(out), {}};
    }
  }
  return {std::nullopt, expected_got("an integer array or \"3-20-21-19\"", v)};
}

void reader::fail(const json_path& at, std::string problem) {
  if (error_) return;
  error_ = decode_error{at.render(), std::move(problem)};
}

const json::value* object_view::find(std::string_view key) const noexcept {
  const auto* v = o_.if_contains(key);
  return (v && !v->is_null()) ? v : nullptr;
}

void object_view::expected(const json_path& at, std::string_view what, const json::value& got) const {
  r_.fail(at, expected_got(what, got));
}

namespace {
template <class T, class Convert>
void read_into(const object_view& o, std::string_view key, std::optional<T>& out, Convert convert) {
  if (!o.context().ok()) return;
  const auto* v = o.find(key);
  if (!v) return;
  auto c = convert(*v);
  if (!c.problem.empty()) return o.context().fail(o.path().child(key), std::move(c.problem));
  if (c.value) out = std::move(*c.value);
}
}  // namespace

void object_view::string(std::string_view key, std::string& out) const {
  std::optional<std::string> s;
  read_into(*this, key, s, to_string_field);
  if (s) out = std::move(*s);
}

void object_view::integer(std::string_view key, std::optional<std::int64_t>& out) const {
  read_into(*this, key, out, to_integer);
}

void object_view::count(std::string_view key, std::optional<std::int64_t>& out) const {
  std::optional<std::int64_t> n;
  read_into(*this, key, n, to_integer);
  if (n && *n < 0)
    return r_.fail(path_.child(key), concat("expected a non-negative count, got ", std::to_string(*n)));
  if (n) out = n;
}

void object_view::number(std::string_view key, std::optional<double>& out) const {
  read_into(*this, key, out, to_number);
}

void object_view::boolean(std::string_view key, std::optional<bool>& out) const {
  read_into(*this, key, out, to_boolean);
}

void object_view::time(std::string_view key, std::optional<sys_time>& out, std::string* raw) const {
  std::optional<time_value> t;
  read_into(*this, key, t, to_time);
  if (!t) return;
  out = t->time;
  if (raw) *raw = std::move(t->raw);
}

void object_view::int_list(std::string_view key, std::vector<std::int64_t>& out) const {
  if (!r_.ok()) return;
  const auto* v = find(key);
  if (!v) return;
  constexpr auto none = static_cast<std::size_t>(-1);
  std::size_t bad = none;
  auto c = to_int_list(*v, &bad);
  if (!c.problem.empty()) {
    const json_path p = path_.child(key);
    if (bad != none) return r_.fail(p.element(bad), std::move(c.problem));
    return r_.fail(p, std::move(c.problem));
  }
  if (c.value) out = std::move(c.value->values);
}

void object_view::required_string(std::string_view key, std::string& out) const {
  if (!r_.ok()) return;
  if (!find(key)) return r_.fail(path_.child(key), "missing required field");
  string(key, out);
  if (r_.ok() && out.empty()) r_.fail(path_.child(key), "must not be empty");
}

void object_view::required_integer(std::string_view key, std::int64_t& out) const {
  if (!r_.ok()) return;
  const auto* v = find(key);
  if (!v) return r_.fail(path_.child(key), "missing required field");
  auto c = to_integer(*v);
  if (!c.problem.empty()) return r_.fail(path_.child(key), std::move(c.problem));
  if (!c.value) return r_.fail(path_.child(key), expected_got("integer", *v));  // ""
  out = *c.value;
}

}  // namespace labelwatch::modelarts::detail
