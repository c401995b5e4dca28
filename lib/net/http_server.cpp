// All the socket code of the HTTP server: accept loop, per-connection sessions, fault
// execution, graceful stop. Request semantics live in the handler.
#include "net/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <charconv>
#include <list>
#include <stdexcept>
#include <system_error>

namespace labelwatch::net {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using strand_type = asio::strand<asio::any_io_executor>;
using tcp_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<tcp_stream>;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool parse_listen_address(const std::string& listen, std::string& host, std::uint16_t& port) {
  std::string_view s = listen;
  std::string_view h, p;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || value > 65535) return false;
  host = h.empty() ? "127.0.0.1" : std::string(h);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  asio::ip::make_address(host, aec);
  if (aec) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// One open connection as the server sees it: enough to close it from outside.
struct session_entry {
  enum class phase : std::uint8_t { idle, busy, hanging } current = phase::idle;
  std::function<void()> close;
};

struct http_server::state : std::enable_shared_from_this<http_server::state> {
  state(asio::any_io_executor ex, server_options o, handler hd)
      : strand(asio::make_strand(ex)),
        opt(std::move(o)),
        h(std::move(hd)),
        acceptor(strand),
        grace_timer(strand),
        stopped_timer(strand) {
    stopped_timer.expires_at(asio::steady_timer::time_point::max());
  }

  strand_type strand;
  server_options opt;
  handler h;
  tcp::acceptor acceptor;
  asio::steady_timer grace_timer;
  asio::steady_timer stopped_timer;  // cancelled when everything has finished
  std::list<session_entry> sessions;
  bool stopping = false;
  bool accept_loop_done = false;
  bool finished = false;
  std::uint16_t port = 0;
  std::string address;

  std::atomic<std::uint64_t> accepted{0}, rejected{0}, requests{0};
  std::atomic<std::size_t> open{0};

  void maybe_finished() {
    if (stopping && accept_loop_done && sessions.empty() && !finished) {
      finished = true;
      grace_timer.cancel();
      stopped_timer.cancel();
    }
  }

  void do_stop() {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    for (auto& s : sessions)
      if (s.current != session_entry::phase::busy) s.close();
    grace_timer.expires_after(opt.shutdown_grace);
    grace_timer.async_wait([self = shared_from_this()](boost::system::error_code wec) {
      if (wec) return;
      for (auto& s : self->sessions) s.close();
    });
    maybe_finished();
  }
};

namespace {

template <class Stream>
tcp_stream& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

http_response simple_response(http::status status, std::string_view text) {
  http_response res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::connection, "close");
  res.body() = std::string(text);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::header_limit && ec != http::error::body_limit;
}

// Writes `res` (already prepared) with the write timeout; returns false on failure.
template <class Stream>
awaitable<bool> write_response(Stream& stream, http_response& res, const server_options& opt) {
  lowest(stream).expires_after(opt.write_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  (void)n;
  co_return !ec;
}

template <class Stream>
awaitable<void> close_stream(Stream& stream) {
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    // Send close_notify; do not wait long for the peer's answer, many clients never send one.
    lowest(stream).expires_after(1s);
    co_await stream.async_shutdown(use_tuple);
  }
  boost::system::error_code ec;
  lowest(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  lowest(stream).close();
}

// Serves requests on an established (and, for TLS, handshaken) stream until the peer
// leaves, a limit is hit, a fault ends the connection or the server stops.
template <class Stream>
awaitable<void> serve(std::shared_ptr<http_server::state> st, Stream& stream, session_entry& me,
                      asio::steady_timer& timer, const peer_info& peer) {
  const auto& opt = st->opt;
  beast::flat_buffer buffer;
  for (;;) {
    if (st->stopping) co_return co_await close_stream(stream);
    me.current = session_entry::phase::idle;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser.body_limit(opt.body_limit);
    lowest(stream).expires_after(opt.read_timeout);
    auto [rec, nread] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)nread;
    if (rec) {
      std::optional<http_response> refusal;
      if (rec == http::error::header_limit)
        refusal = simple_response(http::status::request_header_fields_too_large,
                                  "request header too large\n");
      else if (rec == http::error::body_limit)
        refusal = simple_response(http::status::payload_too_large, "request body too large\n");
      else if (is_parse_error(rec))
        refusal = simple_response(http::status::bad_request, "malformed request\n");
      if (refusal) {
        me.current = session_entry::phase::busy;
        if (co_await write_response(stream, *refusal, opt)) co_await close_stream(stream);
      }
      co_return;
    }
    me.current = session_entry::phase::busy;
    st->requests.fetch_add(1, std::memory_order_relaxed);
    auto req = parser.release();

    reply r;
    try {
      r = co_await st->h(req, peer);
    } catch (const std::exception& e) {
      spdlog::warn("{}: handler failed for {} {}: {}", opt.name, std::string(req.method_string()),
                   std::string(req.target()), e.what());
      r = reply{simple_response(http::status::internal_server_error, "internal error\n")};
    }

    // Runs on every exit from here on: the reply has been carried out or abandoned.
    struct completion {
      std::function<void()> fn;
      ~completion() {
        if (fn) fn();
      }
    } done{std::move(r.on_complete)};

    if (r.delay > 0ms) {
      timer.expires_after(r.delay);
      auto [tec] = co_await timer.async_wait(use_tuple);
      if (tec) co_return;  // closed by stop()
    }

    switch (r.action) {
      case reply_action::respond: {
        auto& res = r.response;
        res.version(req.version());
        const bool keep = req.keep_alive() && res.keep_alive() && !st->stopping;
        if (!opt.server_header.empty() && res.find(http::field::server) == res.end())
          res.set(http::field::server, opt.server_header);
        if (req.method() == http::verb::head) {
          // RFC 9110 9.3.2: the header a GET would carry, Content-Length included, and no
          // body. A Content-Length the handler set (the GET body's length) is kept;
          // otherwise the body it produced as for GET gives the length.
          if (res.find(http::field::content_length) == res.end() && !res.chunked())
            res.content_length(res.body().size());
          res.body().clear();
        } else {
          res.prepare_payload();
        }
        res.keep_alive(keep);
        if (!co_await write_response(stream, res, opt)) co_return;
        if (!keep) co_return co_await close_stream(stream);
        break;
      }
      case reply_action::hang: {
        // Wait until the client closes (the socket turns readable), the limit passes
        // or stop() closes us. The request is never answered.
        me.current = session_entry::phase::hanging;
        if (st->stopping) co_return;
        timer.expires_after(opt.hang_limit);
        auto& sock = lowest(stream).socket();
        co_await (timer.async_wait(use_tuple) ||
                  sock.async_wait(tcp::socket::wait_read, use_tuple));
        boost::system::error_code ec;
        sock.close(ec);
        co_return;
      }
      case reply_action::close: {
        boost::system::error_code ec;
        lowest(stream).socket().close(ec);
        co_return;
      }
      case reply_action::reset_mid_body: {
        auto& res = r.response;
        res.version(req.version());
        res.prepare_payload();
        http::response_serializer<http::string_body> sr{res};
        lowest(stream).expires_after(opt.write_timeout);
        auto [hec, hn] = co_await http::async_write_header(stream, sr, use_tuple);
        (void)hn;
        if (!hec) {
          const auto n = std::min(r.partial_body_bytes, res.body().size());
          auto [bec, bn] =
              co_await asio::async_write(stream, asio::buffer(res.body().data(), n), use_tuple);
          (void)bec;
          (void)bn;
        }
        auto& sock = lowest(stream).socket();
        boost::system::error_code ec;
        sock.set_option(asio::socket_base::linger(true, 0), ec);
        sock.close(ec);
        co_return;
      }
    }
  }
}

awaitable<void> run_session(std::shared_ptr<http_server::state> st, tcp::socket socket) {
  peer_info peer;
  {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (!ec) {
      peer.address = ep.address().to_string();
      peer.port = ep.port();
      peer.loopback =
          ep.address().is_loopback() ||
          (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped() &&
           asio::ip::make_address_v4(asio::ip::v4_mapped, ep.address().to_v6()).is_loopback());
    }
  }
  peer.tls = st->opt.tls != nullptr;
  asio::steady_timer timer(st->strand);
  st->sessions.push_back(session_entry{});
  auto me = std::prev(st->sessions.end());

  auto finish = [&] {
    st->sessions.erase(me);
    st->open.fetch_sub(1, std::memory_order_relaxed);
    st->maybe_finished();
  };

  try {
    if (st->opt.tls) {
      tls_stream stream(tcp_stream(std::move(socket)), *st->opt.tls);
      me->close = [&stream, &timer] {
        boost::system::error_code ec;
        lowest(stream).socket().close(ec);
        timer.cancel();
      };
      lowest(stream).expires_after(st->opt.handshake_timeout);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (hec) {
        spdlog::debug("{}: TLS handshake with {} failed: {}", st->opt.name, peer.address,
                      hec.message());
      } else {
        co_await serve(st, stream, *me, timer, peer);
      }
      finish();
    } else {
      tcp_stream stream(std::move(socket));
      me->close = [&stream, &timer] {
        boost::system::error_code ec;
        stream.socket().close(ec);
        timer.cancel();
      };
      co_await serve(st, stream, *me, timer, peer);
      finish();
    }
  } catch (const std::exception& e) {
    spdlog::debug("{}: connection from {} ended: {}", st->opt.name, peer.address, e.what());
    finish();
  }
}

awaitable<void> accept_loop(std::shared_ptr<http_server::state> st) {
  asio::steady_timer backoff(st->strand);
  while (!st->stopping) {
    auto [ec, socket] = co_await st->acceptor.async_accept(st->strand, use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || st->stopping) break;
      // EMFILE and friends: pause instead of spinning.
      spdlog::warn("{}: accept failed: {}", st->opt.name, ec.message());
      backoff.expires_after(50ms);
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    st->accepted.fetch_add(1, std::memory_order_relaxed);
    if (st->open.load(std::memory_order_relaxed) >= st->opt.max_connections) {
      st->rejected.fetch_add(1, std::memory_order_relaxed);
      boost::system::error_code cec;
      socket.close(cec);
      continue;
    }
    boost::system::error_code nec;
    socket.set_option(tcp::no_delay(true), nec);
    st->open.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(st->strand, run_session(st, std::move(socket)), asio::detached);
  }
  st->accept_loop_done = true;
  st->maybe_finished();
}

awaitable<void> wait_until_finished(std::shared_ptr<http_server::state> st) {
  if (!st->finished) co_await st->stopped_timer.async_wait(use_tuple);
}

}  // namespace

http_server::http_server(asio::any_io_executor ex, server_options options, handler h) {
  std::string host;
  std::uint16_t port = 0;
  if (!parse_listen_address(options.listen, host, port))
    throw std::invalid_argument("invalid listen address \"" + options.listen +
                                "\" (expected host:port, [v6]:port or :port with a literal IP)");
  state_ = std::make_shared<state>(std::move(ex), std::move(options), std::move(h));
  const tcp::endpoint ep{asio::ip::make_address(host), port};
  auto& acc = state_->acceptor;
  boost::system::error_code ec;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + state_->opt.listen);
  const auto local = acc.local_endpoint();
  state_->port = local.port();
  state_->address = local.address().to_string();
  asio::co_spawn(state_->strand, accept_loop(state_), asio::detached);
}

http_server::~http_server() {
  if (state_ && !state_->finished) stop();
}

std::uint16_t http_server::port() const noexcept {
  return state_->port;
}
std::string http_server::address() const {
  return state_->address;
}
bool http_server::tls() const noexcept {
  return state_->opt.tls != nullptr;
}

std::string http_server::base_url() const {
  const bool v6 = state_->address.find(':') != std::string::npos;
  return std::string(tls() ? "https://" : "http://") + (v6 ? "[" : "") + state_->address +
         (v6 ? "]" : "") + ":" + std::to_string(state_->port);
}

void http_server::stop() {
  asio::post(state_->strand, [st = state_] { st->do_stop(); });
}

awaitable<void> http_server::wait_stopped() {
  // Runs on the strand so `finished` is read where it is written. Not a coroutine
  // itself and no lambda temporaries in a co_await: gcc 12 mishandles the lifetime of
  // such temporaries (destroying captures twice).
  return asio::co_spawn(state_->strand, wait_until_finished(state_), asio::use_awaitable);
}

server_stats http_server::stats() const {
  return server_stats{state_->accepted.load(), state_->rejected.load(), state_->requests.load(),
                      state_->open.load()};
}

}  // namespace labelwatch::net
