// The HTTPS client: connection pool, limits, timeouts, proxy tunnel (see https_client.hpp).
#include "net/https_client.hpp"

#include "core/token_bucket.hpp"
#include "core/version.hpp"
#include "net/async_semaphore.hpp"
#include "net/http_response.hpp"
#include "net/tls_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <unordered_map>

namespace labelwatch::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

http::verb to_verb(http_method m) noexcept {
  switch (m) {
    case http_method::get:
      return http::verb::get;
    case http_method::put:
      return http::verb::put;
    case http_method::post:
      return http::verb::post;
    case http_method::delete_:
      return http::verb::delete_;
  }
  return http::verb::get;
}

transport_error failure(errc kind, request_phase phase, std::string detail) {
  return transport_error{kind, phase, std::move(detail)};
}

std::string authority(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// One pooled connection. Plain HTTP uses the TCP layer under the (then idle) TLS stream,
// which keeps one type for both.
struct connection {
  connection(const asio::any_io_executor& ex, ssl::context& ctx, std::string k, bool t)
      : key(std::move(k)), tls(t), stream(ex, ctx) {}

  beast::tcp_stream& tcp() noexcept { return stream.next_layer(); }
  void close() noexcept {
    error_code ignored;
    tcp().socket().close(ignored);
  }
  // Whether an idle connection still looks usable: open, not closed by the peer, and
  // with no unsolicited bytes waiting (a TLS close_notify, a stray response).
  bool looks_alive() noexcept {
    auto& sock = tcp().socket();
    if (!sock.is_open() || buffer.size() != 0) return false;
    char probe = 0;
    const auto n = ::recv(sock.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::string key;
  bool tls;
  ssl::stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  steady::time_point idle_since{};
};

using connection_ptr = std::unique_ptr<connection>;

template <class T>
using io_result = boost::system::result<T, transport_error>;

// Name resolution with a deadline. getaddrinfo cannot be interrupted, so the lookup
// runs detached and this waits for it or for the deadline, whichever comes first; a
// late answer is dropped.
struct resolve_state {
  explicit resolve_state(const asio::any_io_executor& ex) : done(ex), resolver(ex) {}
  asio::steady_timer done;
  tcp::resolver resolver;
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  bool finished = false;
};

awaitable<io_result<std::vector<tcp::endpoint>>> resolve(asio::any_io_executor ex, std::string host,
                                                         std::uint16_t port,
                                                         steady::time_point deadline,
                                                         std::string_view timeout_text) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};

  auto st = std::make_shared<resolve_state>(ex);
  st->done.expires_at(deadline);
  asio::co_spawn(
      ex,
      [st, host, port]() -> awaitable<void> {
        const auto service = std::to_string(port);
        auto [e, results] = co_await st->resolver.async_resolve(host, service, use_tuple);
        st->ec = e;
        for (const auto& r : results) st->endpoints.push_back(r.endpoint());
        st->finished = true;
        st->done.cancel();
      },
      asio::detached);
  co_await st->done.async_wait(use_tuple);
  if (!st->finished) {
    st->resolver.cancel();
    if (steady::now() < deadline)  // our caller was cancelled, not timed out
      throw boost::system::system_error(asio::error::operation_aborted);
    co_return failure(errc::timeout, request_phase::resolve,
                      std::string(timeout_text) + " resolving " + host);
  }
  if (st->ec || st->endpoints.empty())
    co_return failure(errc::network, request_phase::resolve,
                      "cannot resolve " + host + ": " +
                          (st->ec ? st->ec.message() : std::string("no addresses")));
  co_return std::move(st->endpoints);
}

struct exchange_outcome {
  std::optional<client_response> response;
  bool keep_alive = false;
  transport_error error;
  bool response_started = false;  // at least one byte of the response arrived
};

template <class Stream>
awaitable<exchange_outcome> write_and_read(Stream& stream, connection& conn,
                                           const http::request<http::string_body>& req,
                                           std::size_t body_limit, steady::time_point deadline,
                                           std::string_view timeout_text) {
  exchange_outcome out;
  const auto timed_out = [&](const error_code& ec) {
    return ec == beast::error::timeout || steady::now() >= deadline;
  };
  auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
  (void)written;
  if (wec) {
    out.error = timed_out(wec) ? failure(errc::timeout, request_phase::write,
                                         std::string(timeout_text) + " sending the request")
                               : failure(errc::network, request_phase::write,
                                         "sending the request failed: " + wec.message());
    co_return out;
  }

  response_parser parser;
  apply_response_limits(parser, body_limit);
  auto [rec, read] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
  (void)read;
  const bool late = rec && timed_out(rec);
  auto finished =
      finish_response_read(parser, rec, conn.buffer.size(), body_limit, late, timeout_text);
  out.response_started = finished.response_started;
  out.keep_alive = finished.keep_alive;
  if (finished.response) {
    out.response = std::move(finished.response);
  } else {
    out.error = std::move(finished.error);
  }
  co_return out;
}

// Plain or TLS, one call site: gcc 12 miscompiles co_await in both arms of `?:`.
awaitable<exchange_outcome> exchange(connection& conn, const http::request<http::string_body>& req,
                                     std::size_t body_limit, steady::time_point deadline,
                                     const std::string& timeout_text) {
  if (conn.tls)
    co_return co_await write_and_read(conn.stream, conn, req, body_limit, deadline, timeout_text);
  co_return co_await write_and_read(conn.tcp(), conn, req, body_limit, deadline, timeout_text);
}

}  // namespace

std::string_view to_string(http_method m) noexcept {
  switch (m) {
    case http_method::get:
      return "GET";
    case http_method::put:
      return "PUT";
    case http_method::post:
      return "POST";
    case http_method::delete_:
      return "DELETE";
  }
  return "GET";
}

std::string_view to_string(request_phase p) noexcept {
  switch (p) {
    case request_phase::setup:
      return "setup";
    case request_phase::resolve:
      return "resolve";
    case request_phase::connect:
      return "connect";
    case request_phase::proxy:
      return "proxy";
    case request_phase::handshake:
      return "handshake";
    case request_phase::write:
      return "write";
    case request_phase::read:
      return "read";
  }
  return "setup";
}

std::string_view client_response::header(std::string_view name) const noexcept {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

proxy_environment read_proxy_environment() {
  const auto get = [](const char* lower, const char* upper) -> std::string {
    if (const char* v = std::getenv(lower); v && *v) return v;
    if (upper)
      if (const char* v = std::getenv(upper); v && *v) return v;
    return {};
  };
  return proxy_environment{get("https_proxy", "HTTPS_PROXY"), get("http_proxy", nullptr),
                           get("no_proxy", "NO_PROXY")};
}

struct https_client::impl {
  impl(asio::any_io_executor executor, https_client_options o,
       std::shared_ptr<ssl::context> context)
      : ex(std::move(executor)),
        opt(std::move(o)),
        tls(std::move(context)),
        slots(ex, opt.max_in_flight),
        bucket(opt.max_rate, opt.rate_burst),
        timeout_text("timed out after " + format_duration(opt.request_timeout)) {}

  awaitable<client_result> send(origin to, client_request request);
  awaitable<io_result<connection_ptr>> open(const origin& to,
                                            const std::optional<proxy_endpoint>& proxy,
                                            const std::string& key, steady::time_point deadline);
  connection_ptr take_idle(const std::string& key);
  void put_idle(connection_ptr c);

  asio::any_io_executor ex;
  https_client_options opt;
  std::shared_ptr<ssl::context> tls;
  async_semaphore slots;
  token_bucket bucket;
  std::string timeout_text;
  std::unordered_map<std::string, std::vector<connection_ptr>> idle;
  counters stats;
};

connection_ptr https_client::impl::take_idle(const std::string& key) {
  const auto it = idle.find(key);
  if (it == idle.end()) return nullptr;
  auto& list = it->second;
  const auto now = steady::now();
  while (!list.empty()) {
    auto c = std::move(list.back());  // most recently used first: likeliest to be alive
    list.pop_back();
    if (now - c->idle_since < opt.idle_timeout && c->looks_alive()) return c;
    c->close();
  }
  return nullptr;
}

void https_client::impl::put_idle(connection_ptr c) {
  c->tcp().expires_never();
  c->idle_since = steady::now();
  auto& list = idle[c->key];
  if (list.size() >= opt.max_in_flight) {
    c->close();
    return;
  }
  list.push_back(std::move(c));
}

awaitable<io_result<connection_ptr>> https_client::impl::open(
    const origin& to, const std::optional<proxy_endpoint>& proxy, const std::string& key,
    steady::time_point deadline) {
  auto conn = std::make_unique<connection>(ex, *tls, key, to.tls());
  const std::string& host = proxy ? proxy->host : to.host;
  const std::uint16_t port = proxy ? proxy->port : to.port;
  const auto timed_out = [&](const error_code& ec) {
    return ec == beast::error::timeout || steady::now() >= deadline;
  };

  auto endpoints = co_await resolve(ex, host, port, deadline, timeout_text);
  if (!endpoints) co_return endpoints.error();

  conn->tcp().expires_at(deadline);
  auto [cec, connected] = co_await conn->tcp().async_connect(*endpoints, use_tuple);
  (void)connected;
  const std::string where = authority(host, port) + (proxy ? " (proxy)" : "");
  if (cec) {
    if (timed_out(cec))
      co_return failure(errc::timeout, request_phase::connect,
                        timeout_text + " connecting to " + where);
    co_return failure(errc::network, request_phase::connect,
                      "connect to " + where + ": " + cec.message());
  }
  error_code ignored;
  conn->tcp().socket().set_option(tcp::no_delay(true), ignored);
  ++stats.connections_opened;

  if (proxy) {
    const auto target = authority(to.host, to.port);
    http::request<http::empty_body> connect_req{http::verb::connect, target, 11};
    connect_req.set(http::field::host, target);
    connect_req.set(http::field::user_agent, opt.user_agent);
    if (!proxy->authorization.empty())
      connect_req.set(http::field::proxy_authorization, proxy->authorization);
    auto [wec, w] = co_await http::async_write(conn->tcp(), connect_req, use_tuple);
    (void)w;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel follows
    error_code rec;
    if (!wec) {
      auto [e, r] = co_await http::async_read(conn->tcp(), conn->buffer, parser, use_tuple);
      (void)r;
      rec = e;
    }
    if (const auto ec = wec ? wec : rec) {
      if (timed_out(ec))
        co_return failure(errc::timeout, request_phase::proxy,
                          timeout_text + " opening a tunnel through proxy " + proxy->display);
      co_return failure(
          errc::network, request_phase::proxy,
          "proxy " + proxy->display + " tunnel to " + target + " failed: " + ec.message());
    }
    const auto status = parser.get().result_int();
    // 4xx (407 credentials, 403 policy) will not change by trying again: a setting to
    // fix. 5xx (the proxy could not reach the target) may.
    if (status / 100 != 2)
      co_return failure(status / 100 == 4 ? errc::config_invalid : errc::network,
                        request_phase::proxy,
                        "proxy " + proxy->display + " refused CONNECT to " + target + ": " +
                            std::to_string(status) + " " + std::string(parser.get().reason()));
    if (conn->buffer.size() != 0)
      co_return failure(errc::network, request_phase::proxy,
                        "proxy " + proxy->display + " sent data before the tunnel was used");
  }

  if (to.tls()) {
    if (!set_server_name(conn->stream.native_handle(), to.host))
      co_return failure(errc::tls, request_phase::handshake,
                        "cannot use \"" + to.host + "\" as the TLS server name");
    conn->stream.set_verify_callback(verify_host(to.host));
    auto [hec] = co_await conn->stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      if (timed_out(hec))
        co_return failure(errc::timeout, request_phase::handshake,
                          timeout_text + " in the TLS handshake with " + to.host_header());
      const bool tls_error = hec.category() == asio::error::get_ssl_category() ||
                             hec.category() == ssl::error::get_stream_category() ||
                             ::SSL_get_verify_result(conn->stream.native_handle()) != X509_V_OK;
      co_return failure(
          tls_error ? errc::tls : errc::network, request_phase::handshake,
          describe_tls_failure(conn->stream.native_handle(), hec) + " (" + to.host_header() + ")");
    }
  }
  co_return conn;
}

awaitable<client_result> https_client::impl::send(origin to, client_request request) {
  auto permit = co_await slots.acquire();
  if (const auto wait = bucket.reserve(steady::now()); wait > token_bucket::duration::zero()) {
    asio::steady_timer pause(ex, wait);
    auto [ec] = co_await pause.async_wait(use_tuple);
    if (ec) throw boost::system::system_error(ec, "waiting for the rate limiter");
  }
  const auto started = steady::now();
  const auto deadline = started + opt.request_timeout;

  auto proxy = select_proxy(opt.proxy, *opt.proxy_env, to.scheme, to.host, to.port);
  if (!proxy) co_return failure(errc::config_invalid, request_phase::setup, proxy.error());
  std::string key = to.to_string();
  if (*proxy) key += " via " + (*proxy)->display;

  http::request<http::string_body> req{to_verb(request.method), request.target, 11};
  req.set(http::field::host, to.host_header());
  req.set(http::field::user_agent, opt.user_agent);
  for (const auto& h : request.headers)
    if (!iequals(h.name, "host")) req.insert(h.name, h.value);
  req.body() = std::move(request.body);
  req.prepare_payload();

  // The loop only decides; every exit goes through `result` and one co_return after it
  // (gcc 12 double-destroys loop locals on some co_return paths inside loops).
  std::optional<client_result> result;
  for (int attempt = 0; !result; ++attempt) {
    connection_ptr conn = take_idle(key);
    const bool reused = conn != nullptr;
    if (reused) {
      ++stats.connections_reused;
    } else {
      auto opened = co_await open(to, *proxy, key, deadline);
      if (!opened) {
        result.emplace(opened.error());
        break;
      }
      conn = std::move(*opened);
    }
    conn->tcp().expires_at(deadline);

    exchange_outcome out = co_await exchange(*conn, req, opt.body_limit, deadline, timeout_text);
    if (out.response) {
      if (out.keep_alive)
        put_idle(std::move(conn));
      else
        conn->close();
      result.emplace(std::move(*out.response));
      break;
    }
    conn->close();
    // The server closed the idle connection just as it was reused: send a GET once more
    // on a fresh connection. Nothing of the response arrived, so nothing is lost.
    const bool stale = reused && attempt == 0 && request.method == http_method::get &&
                       !out.response_started && out.error.kind == errc::network &&
                       steady::now() < deadline;
    if (stale) {
      ++stats.stale_retries;
      continue;
    }
    result.emplace(std::move(out.error));
  }
  const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - started);
  if (*result) {
    (*result)->duration = took;
    co_return std::move(*result);
  }
  auto failed = result->error();  // result::error() returns a copy
  failed.duration = took;
  co_return failed;
}

https_client::https_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
https_client::~https_client() {
  close_idle();
}

boost::system::result<std::unique_ptr<https_client>, std::string> https_client::create(
    asio::any_io_executor executor, https_client_options options) {
  auto ctx = make_client_tls_context(tls_client_options{options.ca_file});
  if (!ctx) return {boost::system::in_place_error, ctx.error()};
  if (options.user_agent.empty()) options.user_agent = "labelwatch/" + std::string(version);
  if (options.max_in_flight == 0) options.max_in_flight = 1;
  if (!options.proxy_env) options.proxy_env = read_proxy_environment();
  auto p = std::make_unique<impl>(std::move(executor), std::move(options), std::move(*ctx));
  return std::unique_ptr<https_client>(new https_client(std::move(p)));
}

awaitable<client_result> https_client::send(origin to, client_request request) {
  return impl_->send(std::move(to), std::move(request));
}

void https_client::close_idle() noexcept {
  for (auto& [key, list] : impl_->idle)
    for (auto& c : list) c->close();
  impl_->idle.clear();
}

https_client::counters https_client::statistics() const noexcept {
  return impl_->stats;
}
const https_client_options& https_client::options() const noexcept {
  return impl_->opt;
}

}  // namespace labelwatch::net
