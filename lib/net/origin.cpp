// Endpoint URL parsing and the Host header rule.
#include "net/origin.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>
#include <charconv>

namespace labelwatch::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string origin::host_header() const {
  std::string h = bracketed(host);
  if (!default_port()) h += ":" + std::to_string(port);
  return h;
}

bool origin::loopback() const noexcept {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  // 127.0.0.0/8 as a dotted quad; a name such as 127.example.com has letters.
  if (!host.starts_with("127.")) return false;
  return host.find_first_not_of("0123456789.") == std::string::npos;
}

std::string origin::to_string() const {
  return scheme + "://" + bracketed(host) + ":" + std::to_string(port);
}

boost::system::result<endpoint_url, std::string> parse_endpoint_url(std::string_view url,
                                                                    std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (url.empty()) return prefix + "is empty (expected https://host[:port])";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return prefix + "\"" + std::string(url) + "\" is not a valid URL";
  const auto& u = *parsed;
  endpoint_url out;
  out.origin.scheme = lower(u.scheme());
  if (!out.origin.tls() && out.origin.scheme != "http")
    return prefix + "scheme \"" + out.origin.scheme + "\" is not supported (expected https)";
  if (u.has_userinfo()) return prefix + "must not contain user info";
  if (u.has_query() || u.has_fragment()) return prefix + "must not have a query or fragment";
  if (u.host_type() == boost::urls::host_type::ipv6) {
    std::string h(u.encoded_host_address());
    if (h.size() >= 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
    out.origin.host = lower(h);
  } else {
    out.origin.host = lower(u.host());
  }
  if (out.origin.host.empty()) return prefix + "has no host";
  if (u.has_port()) {
    const auto p = u.port();
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || v == 0 || v > 65535)
      return prefix + "port is not a number in 1..65535";
    out.origin.port = static_cast<std::uint16_t>(v);
  } else {
    out.origin.port = out.origin.tls() ? 443 : 80;
  }
  if (!out.origin.tls() && !out.origin.loopback())
    return prefix + "plain http is only accepted for a loopback test server; use https://";
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.base_path = std::move(path);
  return out;
}

}  // namespace labelwatch::net
