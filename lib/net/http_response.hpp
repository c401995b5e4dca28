// How the HTTPS client reads a response: the parser limits, what the end of a read
// means (a complete message, or a classified transport_error) and the conversion to a
// client_response. https_client.cpp reads every response through this, and the
// `http_response` fuzz target (tests/fuzz) feeds arbitrary bytes through the very same
// configuration and classification.
#pragma once

#include "net/https_client.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace labelwatch::net {

// The largest response header (status line and fields) the client accepts.
inline constexpr std::uint32_t response_header_limit = 64 * 1024;

using response_parser = boost::beast::http::response_parser<boost::beast::http::string_body>;

// Gives a fresh parser the client's limits: `body_limit` (https_client_options) for the
// body, response_header_limit for the header.
void apply_response_limits(response_parser& parser, std::size_t body_limit);

struct response_read {
  std::optional<client_response> response;  // the complete message (duration unset)
  bool keep_alive = false;                  // the connection may carry another request
  transport_error error;          // when !response: kind network, timeout or body_too_large
  bool response_started = false;  // at least one byte of the response arrived
};

// Interprets the end of http::read / http::async_read on `parser`:
//   ec           what the read returned;
//   buffered     bytes left in the connection's read buffer after it;
//   timed_out    whether the deadline had passed (ec is then reported as a timeout);
//   timeout_text "timed out after 10s", the start of a timeout's detail.
// A body delimited by the end of the connection that ends with a TLS truncation (no
// close_notify) is complete. Every failure is phase `read`, with a detail naming what
// was wrong (limit exceeded, truncated after N of M body bytes, invalid HTTP, ...).
// The response keeps the header fields in order; keep_alive is false when the server
// asked to close or sent bytes past the message.
response_read finish_response_read(response_parser& parser, boost::system::error_code ec,
                                   std::size_t buffered, std::size_t body_limit, bool timed_out,
                                   std::string_view timeout_text);

}  // namespace labelwatch::net
