#include "core/json_text.hpp"

#include "core/utf8.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string>

namespace labelwatch {
namespace json = boost::json;

void append_json_string(std::string& out, std::string_view s) {
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

std::string format_json_double(double d) {
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

void append_json_text(std::string& out, const json::value& v) {
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
      out += format_json_double(v.get_double());
      break;
    case json::kind::string:
      append_json_string(out, v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, e);
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
        append_json_string(out, k);
        out += ':';
        append_json_text(out, member);
      }
      out += '}';
      break;
    }
  }
}

std::string json_text(const json::value& v) {
  std::string out;
  out.reserve(512);
  append_json_text(out, v);
  return out;
}

}  // namespace labelwatch
