#include "sim/document.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace labelwatch::sim {
namespace {

constexpr std::array<std::string_view, 16> k_enumeration_keys{
    "status",      "task_status",      "action",       "role",         "type",    "dataset_type",
    "sample_type", "export_type",      "email_status", "level",        "ordinal", "repetition",
    "create_time", "last_notify_time", "sample_time",  "import_origin"};

constexpr std::array<std::string_view, 10> k_optional_members{
    "result",       "config",          "sample_stats",      "checking_task_desc",
    "worker_stats", "workforce_stats", "workforces_config", "label_stats",
    "metadata",     "labels"};

void interpolate_value(json::value& from, const json::value& to, double fraction) {
  if (from.is_object() && to.is_object()) {
    interpolate(from.as_object(), to.as_object(), fraction);
  } else if (from.is_array() && to.is_array()) {
    auto& fa = from.as_array();
    const auto& ta = to.as_array();
    if (fa.size() != ta.size()) return;
    for (std::size_t i = 0; i < fa.size(); ++i) interpolate_value(fa[i], ta[i], fraction);
  } else if (from.is_number() && to.is_number()) {
    const bool integral = !from.is_double() && !to.is_double();
    if (integral) {
      const auto a = from.to_number<double>();
      const auto b = to.to_number<double>();
      const double v = a + (b - a) * fraction;
      // Round towards the start so a count reaches its target only at the keyframe.
      const double r = b >= a ? std::floor(v) : std::ceil(v);
      // Out of int64 range (absurd scenario values) stays a double rather than overflow.
      if (r >= -9.2e18 && r <= 9.2e18)
        from = static_cast<std::int64_t>(r);
      else
        from = r;
    } else {
      const double a = from.to_number<double>();
      const double b = to.to_number<double>();
      // Two decimals: what a progress bar or a rate shows; avoids 33.333333333 noise.
      from = std::round((a + (b - a) * fraction) * 100.0) / 100.0;
    }
  }
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Echoed request bytes need not be UTF-8; JSON text must be.
      const auto n = utf8_sequence(s, i);
      if (n == 0) {
        out += "\\ufffd";
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    const char ch = s[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Arrays of objects of the same length merge element by element (worker_stats in a
// keyframe then only needs the numbers that change); other arrays are replaced.
bool mergeable_arrays(const json::array& a, const json::array& b) {
  if (a.size() != b.size() || a.empty()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!a[i].is_object() || !b[i].is_object()) return false;
  return true;
}

}  // namespace

bool is_enumeration_key(std::string_view key) noexcept {
  for (const auto k : k_enumeration_keys)
    if (k == key) return true;
  return key.ends_with("_id");
}

void merge_patch(json::object& target, const json::object& patch) {
  for (const auto& [key, value] : patch) {
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object()) {
      auto it = target.find(key);
      if (it == target.end() || !it->value().is_object()) {
        json::object fresh;
        merge_patch(fresh, value.as_object());
        target[key] = std::move(fresh);
      } else {
        merge_patch(it->value().as_object(), value.as_object());
      }
    } else if (value.is_array()) {
      auto it = target.find(key);
      if (it != target.end() && it->value().is_array() &&
          mergeable_arrays(it->value().as_array(), value.as_array())) {
        auto& ta = it->value().as_array();
        const auto& pa = value.as_array();
        for (std::size_t i = 0; i < ta.size(); ++i)
          merge_patch(ta[i].as_object(), pa[i].as_object());
      } else {
        target[key] = value;
      }
    } else {
      target[key] = value;
    }
  }
}

void interpolate(json::object& from, const json::object& to, double fraction) {
  if (fraction <= 0.0) return;
  for (auto& [key, value] : from) {
    if (is_enumeration_key(key)) continue;
    const auto it = to.find(key);
    if (it == to.end()) continue;
    interpolate_value(value, it->value(), fraction);
  }
}

void numbers_to_strings(json::value& v) {
  if (v.is_object()) {
    for (auto& [k, member] : v.as_object()) numbers_to_strings(member);
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) numbers_to_strings(e);
  } else if (v.is_double()) {
    v = json::string(format_double(v.get_double()));
  } else if (v.is_int64()) {
    v = json::string(std::to_string(v.get_int64()));
  } else if (v.is_uint64()) {
    v = json::string(std::to_string(v.get_uint64()));
  }
}

void remove_optional_objects(json::value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (const auto k : k_optional_members) o.erase(k);
    for (auto& [k, member] : o) remove_optional_objects(member);
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) remove_optional_objects(e);
  }
}

void add_unknown_fields(json::value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto& [k, member] : o) add_unknown_fields(member);
    o["x_sim_extra"] = json::object{{"added_by", "labelwatch-sim"}, {"level", 2}};
    o["x_sim_note"] = "unknown field: clients must ignore it";
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) add_unknown_fields(e);
  }
}

std::string format_double(double d) {
  if (!std::isfinite(d)) return "null";
  std::array<char, 64> buf{};
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    const auto [p, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::fixed, 1);
    (void)ec;
    return std::string(buf.data(), p);
  }
  const auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  (void)ec;
  return std::string(buf.data(), p);
}

void append_text(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      out += format_double(v.get_double());
      break;
    case json::kind::string:
      append_escaped(out, v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_text(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, member] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_escaped(out, k);
        out += ':';
        append_text(out, member);
      }
      out += '}';
      break;
    }
  }
}

std::string to_text(const json::value& v) {
  std::string out;
  out.reserve(512);
  append_text(out, v);
  return out;
}

}  // namespace labelwatch::sim
