// HTTP/1.1 over TLS (and plain HTTP for loopback test servers) for the ModelArts and IAM
// clients: Asio coroutines + Beast + OpenSSL, all in https_client.cpp.
//
// What one `send` does:
//   1. waits for an in-flight slot (max_in_flight, shared by every request of this client)
//      and then for the rate limiter (max_rate, likewise shared);
//   2. takes an idle keep-alive connection for the same origin (and proxy) or opens one:
//      resolve, TCP connect, HTTP CONNECT through the proxy if one applies, TLS handshake
//      with SNI and host-name verification (tls_client.hpp);
//   3. writes the request and reads the response, the body bounded by body_limit.
// The request_timeout covers step 2 and 3 together (not the queueing of step 1). A
// connection that timed out or failed in any way is closed, never pooled again.
//
// A reused connection can turn out to have been closed by the server while it sat idle.
// When that happens to a GET before any byte of the response arrived, the request is
// sent once more on a fresh connection (within the same deadline). Other methods are
// not resent: the caller learns whether the request may have reached the server from
// `transport_error::never_sent()`.
//
// Thread safety: none. Use one client from one executor (the daemon's io_context runs
// one thread); results are delivered on that executor.
#pragma once

#include "core/error.hpp"
#include "core/time.hpp"
#include "net/asio_fwd.hpp"
#include "net/origin.hpp"
#include "net/proxy.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::net {

enum class http_method : std::uint8_t { get, put, post, delete_ };
std::string_view to_string(http_method m) noexcept;

struct http_header {
  std::string name;
  std::string value;
};

struct client_request {
  http_method method = http_method::get;
  std::string target;  // encoded "path[?query]"
  // Sent as given. Host (origin.host_header()), User-Agent and Content-Length are set by
  // the client; a Host given here is ignored.
  std::vector<http_header> headers;
  std::string body;
};

struct client_response {
  unsigned status = 0;
  std::vector<http_header> headers;
  std::string body;
  // How long the exchange took: from the end of queueing (in-flight slot and rate
  // limiter) to the last byte of the response.
  std::chrono::nanoseconds duration{0};
  // The first header called `name` (ASCII case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const noexcept;
};

// Where in one exchange a failure happened.
enum class request_phase : std::uint8_t {
  setup,      // before any I/O: bad proxy configuration
  resolve,    // DNS
  connect,    // TCP connect (to the proxy when there is one)
  proxy,      // HTTP CONNECT
  handshake,  // TLS
  write,      // sending the request
  read,       // reading the response
};
std::string_view to_string(request_phase p) noexcept;

struct transport_error {
  // network, timeout, tls, body_too_large, or config_invalid (a proxy setting that
  // cannot work: unreadable URL, or the proxy refusing CONNECT with a 4xx).
  errc kind = errc::network;
  request_phase phase = request_phase::connect;
  // What failed, for people: "connect to 127.0.0.1:9: Connection refused",
  // "certificate verify failed: hostname mismatch", "response body exceeds 16777216
  // bytes", "timed out after 10s while reading the response". Never holds a secret.
  std::string detail;
  // From the end of queueing to the failure (see client_response::duration).
  std::chrono::nanoseconds duration{0};

  // The request certainly never reached the server: the failure happened before a byte
  // of it was written (setup, resolve, connect, proxy CONNECT, TLS handshake).
  bool never_sent() const noexcept { return phase <= request_phase::handshake; }
};

using client_result = boost::system::result<client_response, transport_error>;

struct https_client_options {
  milliseconds request_timeout{std::chrono::seconds{10}};
  std::uint32_t max_in_flight = 16;
  double max_rate = 0.0;    // request starts per second for all requests; <= 0: unlimited
  double rate_burst = 1.0;  // token bucket size
  std::size_t body_limit = 16 * 1024 * 1024;
  // Pooled connections idle longer than this are closed instead of reused (servers and
  // gateways drop idle keep-alive connections after a while; this stays below that).
  milliseconds idle_timeout{std::chrono::seconds{30}};
  std::string ca_file;  // [cloud] ca_file
  std::string proxy;    // [cloud] proxy; empty: proxy_env
  // The proxy variables; nullopt (the default): read from the process environment once,
  // when the client is created. Tests pass their own (an empty one means no proxy).
  std::optional<proxy_environment> proxy_env;
  std::string user_agent;  // empty: "labelwatch/<version>"
};

// https_proxy/HTTPS_PROXY, http_proxy and no_proxy/NO_PROXY from the process environment.
proxy_environment read_proxy_environment();

class https_client {
 public:
  // Fails (with a message naming the setting) when the TLS context cannot be built,
  // e.g. an unreadable ca_file.
  static boost::system::result<std::unique_ptr<https_client>, std::string> create(
      asio::any_io_executor executor, https_client_options options);

  ~https_client();
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  // Sends `request` to `to`. Every failure is a value; exceptions only for bugs and for
  // cancellation of the calling coroutine.
  awaitable<client_result> send(origin to, client_request request);

  // Closes every pooled connection (shutdown, or after a configuration change).
  void close_idle() noexcept;

  struct counters {
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_reused = 0;
    std::uint64_t stale_retries = 0;  // GETs resent after a reused connection was closed
  };
  counters statistics() const noexcept;

  const https_client_options& options() const noexcept;

 private:
  struct impl;
  explicit https_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace labelwatch::net
