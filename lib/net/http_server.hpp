// A small HTTP/1.1 server on Beast, plain or TLS: the accept loop, one coroutine per
// connection, keep-alive, limits and timeouts. It serves the simulator and the daemon's
// /metrics, /healthz and status page; what to answer is decided by a `handler` that
// never sees a socket (Boost.MySQL http_server_cpp20 split: this file = sockets, the
// handler = plain request -> reply), so handlers are unit-tested without the network.
//
// Robustness contract:
// - A connection must deliver each complete request (headers and body) within
//   `read_timeout`, and the server waits at most `read_timeout` for the next request
//   on a kept-alive connection; a slow or silent client is disconnected, never blocks
//   anyone else.
// - Headers larger than `header_limit` get 431, bodies larger than `body_limit` get 413,
//   unparseable requests get 400; each then closes the connection.
// - At most `max_connections` connections are open at once; an excess connection is
//   closed right after accept, the others are not affected.
// - stop(): stops accepting, closes idle connections at once, lets requests in flight
//   finish (their responses carry `Connection: close`) and closes whatever remains after
//   `shutdown_grace`.
//
// Threading: the server and every session run on one strand made from the executor
// given to `start`, and handlers are invoked on that strand. The public member functions
// may be called from any thread.
#pragma once

#include "net/asio_fwd.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace labelwatch::net {

namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

// Who sent a request.
struct peer_info {
  std::string address;  // "127.0.0.1", "::1"
  std::uint16_t port = 0;
  bool loopback = false;
  bool tls = false;
};

// What the session does with a handler's answer. Everything except `respond` exists so
// the simulator can reproduce network faults; ordinary handlers only set `response`.
enum class reply_action : std::uint8_t {
  respond,         // write `response` (after `delay`)
  hang,            // never answer; the connection stays open until the client gives up,
                   // `hang_limit` passes or the server stops
  close,           // close the connection without a response (after `delay`)
  reset_mid_body,  // write the header and `partial_body_bytes` of the body, then reset
                   // the TCP connection (RST, SO_LINGER 0)
};

struct reply {
  http_response response;
  reply_action action = reply_action::respond;
  std::chrono::milliseconds delay{0};
  std::size_t partial_body_bytes = 0;
  // Called once the session has carried the reply out (written, closed, reset, or the
  // hang ended), successfully or not; e.g. to record how long the answer took.
  std::function<void()> on_complete;
};

// Produces the reply to one request. Runs on the server's strand; may co_await.
// Exceptions are caught by the session, logged, and answered with 500.
// Content-Length is set by the server from the body, except for HEAD: the response then
// keeps the Content-Length the handler set (the length GET would send) or, when it set
// none, takes its body's length; the body itself is never sent.
using handler = std::function<awaitable<reply>(const http_request&, const peer_info&)>;

struct server_options {
  // "host:port", "[v6]:port" or ":port" (loopback). Port 0 lets the OS choose.
  std::string listen = "127.0.0.1:0";
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  std::size_t max_connections = 512;
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(5)};
  std::chrono::milliseconds hang_limit{std::chrono::minutes(10)};
  // TLS when set (see tls_server.hpp); plain HTTP otherwise.
  std::shared_ptr<asio::ssl::context> tls;
  // Value of the Server header; empty leaves it out.
  std::string server_header = "labelwatch";
  // Name used in diagnostics, e.g. "sim" or "metrics".
  std::string name = "http";
};

struct server_stats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected_over_limit = 0;  // closed because max_connections was reached
  std::uint64_t requests = 0;
  std::size_t open_connections = 0;
};

class http_server {
 public:
  // Binds and listens at once (so the port is known on return) and starts accepting on
  // a strand of `ex`. Throws std::system_error naming the address when it cannot bind
  // and std::invalid_argument when `listen` is malformed.
  http_server(asio::any_io_executor ex, server_options options, handler h);
  // Stops (as stop()) if still running. Sessions still open hold on to the shared
  // state, so destroying the server while the io_context runs is safe.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const noexcept;
  std::string address() const;  // bound address, e.g. "127.0.0.1"
  bool tls() const noexcept;
  // "https://127.0.0.1:PORT" or "http://...": the bound address ([::1] for IPv6).
  std::string base_url() const;

  // Begins a graceful stop (see the file comment); idempotent, returns at once.
  void stop();
  // Completes when the acceptor and every session have finished after stop().
  awaitable<void> wait_stopped();

  server_stats stats() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

// Parses "host:port", "[v6]:port", ":port". Returns false when malformed.
bool parse_listen_address(const std::string& listen, std::string& host, std::uint16_t& port);

}  // namespace labelwatch::net
