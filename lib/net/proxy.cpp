// Proxy URL parsing and NO_PROXY matching (see proxy.hpp for the accepted forms).
#include "net/proxy.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

namespace labelwatch::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16) |
                   (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8) |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += k_alphabet[(n >> 6) & 63];
    out += k_alphabet[n & 63];
  }
  if (const auto rest = in.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += rest == 2 ? k_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// An IPv4 or IPv6 address in network byte order; size 4 or 16, 0 when not an address.
struct ip_address {
  std::array<unsigned char, 16> bytes{};
  std::size_t size = 0;
  friend bool operator==(const ip_address&, const ip_address&) = default;
};

ip_address parse_ip(std::string_view s) {
  ip_address a;
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 64) return a;
  char buf[65];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (::inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.size = 4;
  } else if (::inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.size = 16;
  }
  return a;
}

bool in_block(const ip_address& addr, const ip_address& block, unsigned prefix) {
  if (addr.size != block.size || prefix > addr.size * 8) return false;
  const std::size_t full = prefix / 8;
  if (!std::equal(addr.bytes.begin(), addr.bytes.begin() + static_cast<std::ptrdiff_t>(full),
                  block.bytes.begin()))
    return false;
  if (const unsigned bits = prefix % 8; bits != 0) {
    const auto mask = static_cast<unsigned char>(0xFFu << (8 - bits));
    if ((addr.bytes[full] & mask) != (block.bytes[full] & mask)) return false;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// One NO_PROXY entry split into its host part and optional port.
struct no_proxy_entry {
  std::string host;
  std::optional<std::uint16_t> port;
  bool valid = true;
};

no_proxy_entry split_entry(std::string_view e) {
  no_proxy_entry out;
  if (!e.empty() && e.front() == '[') {  // [v6] or [v6]:port
    const auto close = e.find(']');
    if (close == std::string_view::npos) return {{}, {}, false};
    out.host = std::string(e.substr(1, close - 1));
    const auto rest = e.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !(out.port = parse_port(rest.substr(1)))) out.valid = false;
    }
    return out;
  }
  const auto colons = std::count(e.begin(), e.end(), ':');
  if (colons == 1) {
    const auto c = e.find(':');
    out.host = std::string(e.substr(0, c));
    if (!(out.port = parse_port(e.substr(c + 1)))) out.valid = false;
    return out;
  }
  out.host = std::string(e);  // a name, an IPv4 address, or a bare IPv6 address/block
  return out;
}

bool entry_matches(std::string_view raw, std::string_view host, const ip_address& host_ip,
                   std::uint16_t port) {
  if (raw == "*") return true;
  auto e = split_entry(raw);
  if (!e.valid || e.host.empty()) return false;
  if (e.port && *e.port != port) return false;

  if (const auto slash = e.host.find('/'); slash != std::string::npos) {
    const auto block = parse_ip(std::string_view(e.host).substr(0, slash));
    const auto bits = parse_port(std::string_view(e.host).substr(slash + 1));
    const auto zero_prefix = std::string_view(e.host).substr(slash + 1) == "0";
    if (block.size == 0 || (!bits && !zero_prefix)) return false;
    return host_ip.size != 0 && in_block(host_ip, block, zero_prefix ? 0u : *bits);
  }
  if (const auto entry_ip = parse_ip(e.host); entry_ip.size != 0)
    return host_ip.size != 0 && entry_ip == host_ip;
  if (host_ip.size != 0) return false;  // a name entry never matches an address

  std::string_view name = e.host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  while (name.starts_with('.')) name.remove_prefix(1);
  while (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty()) return false;
  const auto n = lower(name);
  if (host == n) return true;
  return host.size() > n.size() && host.ends_with(n) && host[host.size() - n.size() - 1] == '.';
}

boost::system::result<proxy_endpoint, std::string> fail(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

}  // namespace

boost::system::result<proxy_endpoint, std::string> parse_proxy_url(std::string_view url) {
  std::string text(url);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) return fail(std::string("proxy URL is empty"));
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return fail(std::string("proxy URL is not a valid URL"));
  const auto& u = *parsed;
  const auto scheme = lower(u.scheme());
  if (scheme != "http")
    return fail("proxy URL scheme \"" + scheme + "\" is not supported (use http://host:port)");
  if (!u.encoded_path().empty() && u.encoded_path() != "/")
    return fail(std::string("proxy URL must not have a path"));
  if (u.has_query() || u.has_fragment())
    return fail(std::string("proxy URL must not have a query or fragment"));

  proxy_endpoint p;
  if (u.host_type() == boost::urls::host_type::ipv6) {
    p.host = std::string(u.encoded_host_address());
    if (p.host.size() >= 2 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  } else {
    p.host = u.host();
  }
  if (p.host.empty()) return fail(std::string("proxy URL has no host"));
  if (u.has_port()) {
    const auto port = parse_port(u.port());
    if (!port) return fail(std::string("proxy URL port is not a number in 1..65535"));
    p.port = *port;
  } else {
    p.port = 80;
  }
  const bool v6 = p.host.find(':') != std::string::npos;
  p.display = "http://" + (v6 ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
  if (u.has_userinfo()) {
    const std::string credentials = u.user() + ":" + (u.has_password() ? u.password() : "");
    p.authorization = "Basic " + base64(credentials);
  }
  return p;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  std::string h = lower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  while (!h.empty() && h.back() == '.') h.pop_back();
  const auto host_ip = parse_ip(h);

  std::size_t i = 0;
  while (i < no_proxy.size()) {
    while (i < no_proxy.size() &&
           (no_proxy[i] == ',' || std::isspace(static_cast<unsigned char>(no_proxy[i]))))
      ++i;
    std::size_t j = i;
    while (j < no_proxy.size() && no_proxy[j] != ',' &&
           !std::isspace(static_cast<unsigned char>(no_proxy[j])))
      ++j;
    if (j > i && entry_matches(no_proxy.substr(i, j - i), h, host_ip, port)) return true;
    i = j;
  }
  return false;
}

boost::system::result<std::optional<proxy_endpoint>, std::string> select_proxy(
    std::string_view configured, const proxy_environment& env, std::string_view scheme,
    std::string_view host, std::uint16_t port) {
  std::string_view url = configured;
  std::string_view source = "[cloud] proxy";
  if (url.empty()) {
    if (scheme == "https") {
      url = env.https_proxy;
      source = "https_proxy";
    } else if (scheme == "http") {
      url = env.http_proxy;
      source = "http_proxy";
    }
  }
  if (url.empty()) return std::optional<proxy_endpoint>{};
  if (no_proxy_matches(env.no_proxy, host, port)) return std::optional<proxy_endpoint>{};
  auto p = parse_proxy_url(url);
  if (!p) return {boost::system::in_place_error, std::string(source) + ": " + p.error()};
  return std::optional<proxy_endpoint>{std::move(*p)};
}

}  // namespace labelwatch::net
