// Properties of the client's response path (see http_response_checks.hpp).
#include "http_response_checks.hpp"

#include "fuzz_support.hpp"

#include "modelarts/error_mapping.hpp"
#include "net/http_response.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace labelwatch::fuzz {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;


constexpr std::size_t k_small_limit = 64;
constexpr std::string_view k_timeout_text = "timed out after 10s";


// One line of valid UTF-8 without control characters: what may go into an event field.
bool printable_line(std::string_view s) {
  if (!valid_utf8(s)) return false;
  return std::none_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

// A SyncReadStream over fixed bytes that hands them out in pseudo-random chunks and
// ends with `end_` (end of stream, TLS truncation or a reset).
class byte_source {
 public:
  byte_source(std::string_view data, unsigned chunking, error_code end)
      : data_(data), chunking_(chunking), state_(chunking * 2654435761u + 1), end_(end) {}

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
    if (pos_ == data_.size()) {
      ec = end_;
      return 0;
    }
    ec = {};
    std::size_t want = data_.size() - pos_;
    if (chunking_ != 0) {
      state_ = state_ * 1103515245u + 12345u;
      want = std::min<std::size_t>(want, 1 + (state_ >> 8) % (chunking_ * 8));
    }
    const auto n = asio::buffer_copy(buffers, asio::buffer(data_.data() + pos_, want));
    pos_ += n;
    return n;
  }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  unsigned chunking_;
  std::uint32_t state_;
  error_code end_;
};

net::response_read read_response(std::string_view bytes, unsigned chunking, error_code end,
                                 std::size_t body_limit) {
  byte_source source(bytes, chunking, end);
  boost::beast::flat_buffer buffer;
  net::response_parser parser;
  net::apply_response_limits(parser, body_limit);
  error_code ec;
  http::read(source, buffer, parser, ec);
  return net::finish_response_read(parser, ec, buffer.size(), body_limit, false, k_timeout_text);
}

std::string describe(const net::response_read& r) {
  if (!r.response)
    return "error " + std::to_string(static_cast<int>(r.error.kind)) + ": " + r.error.detail;
  std::string s = "status " + std::to_string(r.response->status) + ", " +
                  std::to_string(r.response->headers.size()) + " headers, body " +
                  std::to_string(r.response->body.size()) + " bytes";
  return s;
}

bool same_message(const net::client_response& a, const net::client_response& b) {
  if (a.status != b.status || a.body != b.body || a.headers.size() != b.headers.size())
    return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value)
      return false;
  return true;
}

// The same message, or failures of the same class. The details of two failures may
// differ: Beast parses the start line as soon as bytes arrive but, once it needed more,
// waits for the end of the header, so malformed input that arrives in pieces can end
// as "truncated" where all at once it is "bad reason".
bool same_outcome(const net::response_read& a, const net::response_read& b) {
  if (a.response.has_value() != b.response.has_value()) return false;
  if (a.response) return same_message(*a.response, *b.response);
  return a.error.kind == b.error.kind;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() < 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check_one(const net::response_read& r, std::size_t input_size, std::size_t body_limit) {
  if (!r.response) {
    const auto& e = r.error;
    FUZZ_REQUIRE(e.kind == errc::network || e.kind == errc::body_too_large, e.detail);
    FUZZ_REQUIRE(e.phase == net::request_phase::read, e.detail);
    FUZZ_REQUIRE(!e.detail.empty() && e.detail.size() <= 512, e.detail);
    FUZZ_REQUIRE(printable_line(e.detail), e.detail);
    FUZZ_REQUIRE(!r.keep_alive, e.detail);
    return;
  }
  const auto& res = *r.response;
  FUZZ_REQUIRE(res.status <= 999, describe(r));
  FUZZ_REQUIRE(res.body.size() <= body_limit, describe(r));
  FUZZ_REQUIRE(res.body.size() <= input_size, describe(r));
  FUZZ_REQUIRE(r.response_started, describe(r));
  bool chunked = false;
  std::string_view length;
  int lengths = 0;
  for (const auto& h : res.headers) {
    FUZZ_REQUIRE(!h.name.empty(), describe(r));
    for (const char c : h.name) FUZZ_REQUIRE(c > 0x20 && c < 0x7F && c != ':', h.name);
    for (const char c : h.value) FUZZ_REQUIRE(c != '\r' && c != '\n' && c != '\0', h.value);
    std::string lower = h.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    if (lower == "transfer-encoding") chunked = true;
    if (lower == "content-length") {
      length = h.value;
      ++lengths;
    }
  }
  // A message framed by one plain Content-Length has exactly that many body bytes.
  if (!chunked && lengths == 1 && all_digits(length) && res.status >= 200 && res.status != 204 &&
      res.status != 304)
    FUZZ_REQUIRE(res.body.size() == std::stoull(std::string(length)), describe(r));
  // What the ModelArts client makes of a failure answer: a class that agrees with the
  // status, and event fields that stay one bounded line.
  if (res.status / 100 != 2) {
    const auto now = sys_time{std::chrono::milliseconds{1'700'000'000'000}};
    const auto e = modelarts::error_from_response(res.status, res.body, res.header("X-Request-Id"),
                                                  res.header("Retry-After"), now);
    FUZZ_REQUIRE(e.kind == modelarts::classify_http(res.status, e.error_code), describe(r));
    FUZZ_REQUIRE(e.http_status == res.status, describe(r));
    FUZZ_REQUIRE(!e.retry_after || e.retry_after->count() >= 0, describe(r));
    const std::pair<const std::string*, std::size_t> fields[] = {
        {&e.error_code, 128}, {&e.error_msg, 512}, {&e.request_id, 128}};
    for (const auto& [f, max] : fields) {
      FUZZ_REQUIRE(f->size() <= max, *f);
      FUZZ_REQUIRE(printable_line(*f), *f);
    }
    FUZZ_REQUIRE(printable_line(e.summary()), e.summary());
  }
}

}  // namespace

void check_http_response(std::string_view data) {
  if (data.empty()) return;
  const auto control = static_cast<unsigned char>(data[0]);
  const std::string_view bytes = data.substr(1);
  error_code end = asio::error::eof;
  if (control & 1u) end = asio::ssl::error::stream_truncated;
  if (control & 2u) end = asio::error::connection_reset;
  const unsigned chunking = control >> 2;
  const std::size_t limit = net::https_client_options{}.body_limit;

  const auto whole = read_response(bytes, 0, end, limit);
  check_one(whole, bytes.size(), limit);
  // How the bytes arrive must not change what they mean.
  const auto pieces = read_response(bytes, chunking == 0 ? 1 : chunking, end, limit);
  check_one(pieces, bytes.size(), limit);
  FUZZ_REQUIRE(same_outcome(whole, pieces), describe(whole) + " vs " + describe(pieces));

  // A smaller body limit changes nothing for a body within it, and turns a larger one
  // into body_too_large.
  const auto small = read_response(bytes, chunking, end, k_small_limit);
  check_one(small, bytes.size(), k_small_limit);
  if (whole.response && whole.response->body.size() <= k_small_limit)
    FUZZ_REQUIRE(same_outcome(whole, small), describe(whole) + " vs " + describe(small));
  if (whole.response && whole.response->body.size() > k_small_limit)
    FUZZ_REQUIRE(!small.response && small.error.kind == errc::body_too_large, describe(small));
  if (small.response)
    FUZZ_REQUIRE(same_outcome(whole, small), describe(whole) + " vs " + describe(small));
}

}  // namespace labelwatch::fuzz
