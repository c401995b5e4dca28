// Where a request goes: scheme, host and port, parsed from a configured URL such as
// `[cloud] endpoint` or `[auth] iam_endpoint`. Pure (Boost.URL).
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace labelwatch::net {

struct origin {
  std::string scheme;  // "https" or "http"
  std::string host;    // lower-case name or IP literal, IPv6 without brackets
  std::uint16_t port = 443;

  bool tls() const noexcept { return scheme == "https"; }
  bool default_port() const noexcept { return port == (tls() ? 443 : 80); }
  // The Host header value (and the one the AK/SK signer signs): host, IPv6 in brackets,
  // ":port" only when it is not the scheme's default (fact sheet §1.2).
  std::string host_header() const;
  // "https://host[:port]", for messages and pool keys.
  std::string to_string() const;
  // localhost, 127.0.0.0/8 or ::1: the only hosts plain http may be used with (a test
  // server on this machine); anything else would put tokens and data on the wire.
  bool loopback() const noexcept;

  friend bool operator==(const origin&, const origin&) = default;
};

// An endpoint URL: its origin and an optional path prefix ("" or "/prefix", never ending
// in '/'), which is prepended to every API path.
struct endpoint_url {
  net::origin origin;
  std::string base_path;
};

// Parses "https://host[:port][/prefix]". `what` names the setting in error messages
// ("[cloud] endpoint: ..."). Only https is accepted, and http for loopback hosts; user
// info, a query or a fragment are errors.
boost::system::result<endpoint_url, std::string> parse_endpoint_url(std::string_view url,
                                                                    std::string_view what);

}  // namespace labelwatch::net
