#include "auth/signer.hpp"

#include "core/crypto.hpp"

#include <algorithm>
#include <cctype>

namespace labelwatch::auth {
namespace {

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string uri_encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0f];
    }
  }
  return out;
}

std::string uri_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string canonical_uri(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 1);
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out += uri_encode(uri_decode(path.substr(start, end - start)));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < raw_query.size()) {
    auto amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    const auto item = raw_query.substr(start, amp - start);
    if (!item.empty()) {
      const auto eq = item.find('=');
      const auto key = item.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(key, true)), uri_encode(uri_decode(value, true)));
    }
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

canonical_headers_result canonical_headers(const std::vector<header_field>& headers) {
  std::vector<std::pair<std::string, std::string_view>> sorted;
  sorted.reserve(headers.size());
  for (const auto& h : headers) sorted.emplace_back(lower(h.name), trim(h.value));
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  canonical_headers_result out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& [name, value] = sorted[i];
    out.block += name;
    out.block += ':';
    out.block += value;
    out.block += '\n';
    // By position, not by "is the list empty yet": an empty name still gets its slot.
    if (i != 0) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

std::string canonical_request(const request_to_sign& r) {
  std::string method(r.method);
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto headers = canonical_headers(r.headers);
  std::string out;
  out.reserve(256 + r.path.size() + r.query.size() + headers.block.size());
  out += method;
  out += '\n';
  out += canonical_uri(r.path);
  out += '\n';
  out += canonical_query(r.query);
  out += '\n';
  out += headers.block;
  out += '\n';
  out += headers.signed_headers;
  out += '\n';
  out += r.content_sha256 ? std::string(*r.content_sha256) : sha256_hex(r.body);
  return out;
}

std::string string_to_sign(std::string_view sdk_date, std::string_view canonical) {
  std::string out;
  out.reserve(k_algorithm.size() + sdk_date.size() + 66);
  out += k_algorithm;
  out += '\n';
  out += sdk_date;
  out += '\n';
  out += sha256_hex(canonical);
  return out;
}

std::string signature(std::string_view secret_key, std::string_view to_sign) {
  return hmac_sha256_hex(secret_key, to_sign);
}

std::string authorization_value(std::string_view access_key, std::string_view signed_headers,
                                std::string_view sig) {
  std::string out;
  out.reserve(k_algorithm.size() + access_key.size() + signed_headers.size() + sig.size() + 40);
  out += k_algorithm;
  out += " Access=";
  out += access_key;
  out += ", SignedHeaders=";
  out += signed_headers;
  out += ", Signature=";
  out += sig;
  return out;
}

std::string sign(const request_to_sign& r, std::string_view sdk_date, std::string_view access_key,
                 std::string_view secret_key) {
  const auto canonical = canonical_request(r);
  const auto sig = signature(secret_key, string_to_sign(sdk_date, canonical));
  return authorization_value(access_key, canonical_headers(r.headers).signed_headers, sig);
}

std::optional<parsed_authorization> parse_authorization(std::string_view value) {
  value = trim(value);
  if (value.substr(0, k_algorithm.size()) != k_algorithm) return std::nullopt;
  value.remove_prefix(k_algorithm.size());
  if (value.empty() || value.front() != ' ') return std::nullopt;
  parsed_authorization out;
  bool have_access = false, have_headers = false, have_signature = false;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const auto item = trim(value.substr(start, comma - start));
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto key = item.substr(0, eq);
    const auto val = item.substr(eq + 1);
    if (key == "Access") {
      out.access_key = std::string(val);
      have_access = true;
    } else if (key == "SignedHeaders") {
      std::size_t s = 0;
      while (s <= val.size()) {
        auto semi = val.find(';', s);
        if (semi == std::string_view::npos) semi = val.size();
        if (semi > s) out.signed_headers.push_back(lower(val.substr(s, semi - s)));
        s = semi + 1;
      }
      have_headers = !out.signed_headers.empty();
    } else if (key == "Signature") {
      out.signature = std::string(val);
      have_signature = true;
    } else {
      return std::nullopt;
    }
    start = comma + 1;
  }
  if (!(have_access && have_headers && have_signature)) return std::nullopt;
  return out;
}

}  // namespace labelwatch::auth
