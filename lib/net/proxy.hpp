// Which HTTP CONNECT proxy a request goes through: `[cloud] proxy`, else the proxy
// environment variables, minus the hosts NO_PROXY exempts. Pure: the environment is
// passed in as values (https_client.hpp reads it at the edge).
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labelwatch::net {

// A proxy the client tunnels through with HTTP CONNECT.
struct proxy_endpoint {
  std::string host;  // name or IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  // "Basic <base64(user:password)>" when the URL carried user info, else empty. A secret:
  // never log it.
  std::string authorization;
  // The URL without user info, for messages: "http://proxy.example:3128".
  std::string display;
};

// Parses "http://[user[:password]@]host[:port][/]" or the bare "host[:port]". The port
// defaults to 80. Any other scheme (https://, socks5://), a path, a query or a missing
// host is an error whose message names the problem but never repeats user info.
boost::system::result<proxy_endpoint, std::string> parse_proxy_url(std::string_view url);

// Whether a NO_PROXY value exempts `host`:`port` from proxying. The value is a list
// separated by commas and/or whitespace; each entry is one of
//   *                    every host
//   example.com          example.com and every subdomain (a leading "." or "*." is
//                        the same entry); compared case-insensitively, trailing dots ignored
//   10.1.2.3, ::1, [::1] that IP address (compared as addresses, so ::1 == 0:0:0:0:0:0:0:1)
//   10.0.0.0/8, fd00::/8 every address in that CIDR block
//   any of the above followed by :port (IPv6 in brackets: [::1]:8443) — that port only.
// Entries that cannot be read are ignored. `host` may be bracketed IPv6.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

// The proxy variables as read from the environment (empty = unset). Lower-case names
// win when both spellings are set, as curl does.
struct proxy_environment {
  std::string https_proxy;  // https_proxy, else HTTPS_PROXY
  std::string http_proxy;   // http_proxy (lower-case only: HTTP_PROXY is unsafe under CGI)
  std::string no_proxy;     // no_proxy, else NO_PROXY
};

// The proxy for a request to scheme://host:port, or nullopt for a direct connection.
// `configured` ([cloud] proxy) applies to every scheme and wins over the environment;
// otherwise https uses https_proxy and http uses http_proxy. NO_PROXY exempts hosts in
// both cases. An unreadable proxy URL is an error (never silently a direct connection).
boost::system::result<std::optional<proxy_endpoint>, std::string> select_proxy(
    std::string_view configured, const proxy_environment& env, std::string_view scheme,
    std::string_view host, std::uint16_t port);

}  // namespace labelwatch::net
