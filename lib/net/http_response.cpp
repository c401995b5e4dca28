// Reading one HTTP response: limits and classification (see http_response.hpp).
#include "net/http_response.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <iterator>
#include <string>
#include <utility>

namespace labelwatch::net {
namespace {

namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

transport_error read_failure(errc kind, std::string detail) {
  return transport_error{kind, request_phase::read, std::move(detail)};
}

}  // namespace

void apply_response_limits(response_parser& parser, std::size_t body_limit) {
  parser.body_limit(body_limit);
  parser.header_limit(response_header_limit);
}

response_read finish_response_read(response_parser& parser, error_code ec, std::size_t buffered,
                                   std::size_t body_limit, bool timed_out,
                                   std::string_view timeout_text) {
  response_read out;
  if (ec == ssl::error::stream_truncated && parser.need_eof()) {
    // A body delimited by the end of the connection, closed without TLS close_notify:
    // the message itself is complete.
    error_code eof_ec;
    parser.put_eof(eof_ec);
    if (!eof_ec) ec = {};
  }
  out.response_started = parser.got_some() || buffered != 0;
  if (ec) {
    if (timed_out) {
      out.error = read_failure(errc::timeout, std::string(timeout_text) + " reading the response");
    } else if (ec == http::error::body_limit) {
      out.error = read_failure(errc::body_too_large, "response body exceeds the limit of " +
                                                         std::to_string(body_limit) + " bytes");
    } else if (ec == http::error::header_limit) {
      out.error =
          read_failure(errc::body_too_large, "response header exceeds the limit of " +
                                                 std::to_string(response_header_limit) + " bytes");
    } else if (!out.response_started) {
      out.error = read_failure(
          errc::network, "connection closed before a response arrived (" + ec.message() + ")");
    } else if (ec == http::error::partial_message || ec == ssl::error::stream_truncated ||
               ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) {
      std::string what = "response truncated: the connection closed after " +
                         std::to_string(parser.get().body().size()) + " body bytes";
      // content_length() asserts (Debug) unless the header is complete: ask that first.
      if (parser.is_header_done()) {
        if (const auto len = parser.content_length()) what += " of " + std::to_string(*len);
      }
      out.error = read_failure(errc::network, std::move(what));
    } else if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      out.error = read_failure(errc::network, "invalid HTTP response: " + ec.message());
    } else {
      out.error = read_failure(errc::network, "reading the response failed: " + ec.message());
    }
    return out;
  }

  auto& msg = parser.get();
  client_response res;
  res.status = msg.result_int();
  res.headers.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
  for (const auto& field : msg)
    res.headers.push_back(
        http_header{std::string(field.name_string()), std::string(field.value())});
  out.keep_alive = msg.keep_alive() && buffered == 0;
  res.body = std::move(msg.body());
  out.response = std::move(res);
  return out;
}

}  // namespace labelwatch::net
