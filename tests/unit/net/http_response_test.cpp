#include "net/http_response.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/system/system_error.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace labelwatch;
using namespace labelwatch::net;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr std::size_t k_limit = 16 * 1024 * 1024;

// The bytes a server sent, then `end` (end of stream, TLS truncation, reset).
struct byte_stream {
  std::string bytes;
  error_code end;
  std::size_t pos = 0;

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, error_code& ec) {
    if (pos == bytes.size()) {
      ec = end;
      return 0;
    }
    ec = {};
    const auto n = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(bytes.data() + pos, bytes.size() - pos));
    pos += n;
    return n;
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
};

// Reads a response from `bytes` exactly as the client does (its parser limits, then
// finish_response_read).
response_read parse(const std::string& bytes, error_code end = boost::asio::error::eof,
                    std::size_t body_limit = k_limit) {
  byte_stream stream{bytes, end};
  boost::beast::flat_buffer buffer;
  response_parser parser;
  apply_response_limits(parser, body_limit);
  error_code ec;
  http::read(stream, buffer, parser, ec);
  return finish_response_read(parser, ec, buffer.size(), body_limit, false, "timed out after 10s");
}

}  // namespace

TEST(http_response, a_chunked_body_is_decoded_and_headers_keep_their_order) {
  const auto r = parse(
      "HTTP/1.1 200 OK\r\nX-B: 2\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
      "3\r\n{\"a\r\n4;ext=1\r\n\":1}\r\n0\r\n\r\n");
  ASSERT_TRUE(r.response) << r.error.detail;
  EXPECT_EQ(r.response->status, 200u);
  EXPECT_EQ(r.response->body, "{\"a\":1}");
  ASSERT_EQ(r.response->headers.size(), 3u);
  EXPECT_EQ(r.response->headers[0].name, "X-B");
  EXPECT_EQ(r.response->header("x-a"), "1");
  EXPECT_TRUE(r.keep_alive);
}

TEST(http_response, a_body_until_the_end_of_a_tls_stream_without_close_notify_is_complete) {
  const auto r = parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"x\":1}",
                       boost::asio::ssl::error::stream_truncated);
  ASSERT_TRUE(r.response) << r.error.detail;
  EXPECT_EQ(r.response->body, "{\"x\":1}");
  EXPECT_FALSE(r.keep_alive);
}

TEST(http_response, a_truncated_body_says_how_much_arrived) {
  const auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"task\":",
                       boost::asio::error::connection_reset);
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::network);
  EXPECT_EQ(r.error.phase, request_phase::read);
  EXPECT_EQ(r.error.detail, "response truncated: the connection closed after 8 body bytes of 100");
  EXPECT_TRUE(r.response_started);
}

TEST(http_response, a_declared_length_over_the_body_limit_fails_before_the_body) {
  const auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n{}");
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::body_too_large);
  EXPECT_EQ(r.error.detail, "response body exceeds the limit of 16777216 bytes");
}

TEST(http_response, a_chunked_body_over_the_limit_fails) {
  std::string chunks;
  for (int i = 0; i < 10; ++i) chunks += "a\r\n0123456789\r\n";
  const auto r =
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n",
            boost::asio::error::eof, 64);
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::body_too_large);
  EXPECT_EQ(r.error.detail, "response body exceeds the limit of 64 bytes");
}

TEST(http_response, a_header_over_64_kib_fails_with_the_limit_named) {
  const auto r = parse("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n");
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::body_too_large);
  EXPECT_EQ(r.error.detail, "response header exceeds the limit of 65536 bytes");
}

TEST(http_response, something_that_is_not_http_is_named_invalid) {
  const auto r = parse("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::network);
  EXPECT_EQ(r.error.detail.rfind("invalid HTTP response: ", 0), 0u) << r.error.detail;
}

TEST(http_response, nothing_at_all_is_a_closed_connection) {
  const auto r = parse("", boost::asio::error::eof);
  ASSERT_FALSE(r.response);
  EXPECT_FALSE(r.response_started);
  EXPECT_EQ(r.error.detail.rfind("connection closed before a response arrived", 0), 0u)
      << r.error.detail;
}

TEST(http_response, a_timeout_is_named_as_such) {
  response_parser parser;
  apply_response_limits(parser, k_limit);
  const auto r = finish_response_read(parser, boost::asio::error::operation_aborted, 0, k_limit,
                                      true, "timed out after 2s");
  ASSERT_FALSE(r.response);
  EXPECT_EQ(r.error.kind, errc::timeout);
  EXPECT_EQ(r.error.detail, "timed out after 2s reading the response");
}

TEST(http_response, bytes_after_the_message_forbid_reuse) {
  const auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(r.response) << r.error.detail;
  EXPECT_FALSE(r.keep_alive);
}
