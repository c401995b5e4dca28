// https_client against a real TLS server on loopback (net::http_server with a throw-away
// PKI): keep-alive reuse, the stale-connection retry, limits, timeouts, TLS verification
// failures and their messages. Every test runs one io_context in this thread.
//
// Inside coroutines, arguments are named locals, never prvalues of class type: gcc 12
// mishandles temporaries that initialise parameters within a co_await expression.
#include "net/https_client.hpp"

#include "net/http_server.hpp"
#include "net/pki.hpp"
#include "net/tls_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>

using namespace labelwatch;
using namespace labelwatch::net;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::filesystem::path temp_dir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             ("lw-https-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

struct tls_server_fixture {
  asio::io_context io;
  std::filesystem::path dir = temp_dir();
  pki_files files;
  std::unique_ptr<http_server> server;
  std::atomic<int> requests{0};
  std::vector<std::string> hosts_seen, user_agents_seen, methods_seen;

  explicit tls_server_fixture(handler h, pki_options pki = {}) {
    files = write_pki(dir, generate_pki(pki));
    server_options so;
    so.tls = make_server_tls_context(files.server_cert, files.server_key);
    so.hang_limit = 30s;
    so.shutdown_grace = 100ms;
    server = std::make_unique<http_server>(
        io.get_executor(), so,
        [this, h = std::move(h)](const net::http_request& req,
                                 const peer_info& peer) -> awaitable<reply> {
          ++requests;
          hosts_seen.emplace_back(req[boost::beast::http::field::host]);
          user_agents_seen.emplace_back(req[boost::beast::http::field::user_agent]);
          methods_seen.emplace_back(req.method_string());
          co_return co_await h(req, peer);
        });
  }
  ~tls_server_fixture() {
    server.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  origin where() const { return origin{"https", "127.0.0.1", server->port()}; }

  https_client_options options() const {
    https_client_options o;
    o.proxy_env = proxy_environment{};  // whatever the developer's shell says: direct
    o.ca_file = files.ca_cert.string();
    o.request_timeout = 5s;
    return o;
  }

  std::unique_ptr<https_client> client(https_client_options o) {
    auto c = https_client::create(io.get_executor(), std::move(o));
    EXPECT_TRUE(c) << (c ? "" : c.error());
    return std::move(*c);
  }

  // Runs `body` to completion on the io_context (the server keeps running meanwhile).
  template <class T>
  T run(std::function<awaitable<T>()> body) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(io, body(), [&](std::exception_ptr e, T v) {
      failure = e;
      if (!e) out = std::move(v);
    });
    while (!out && !failure) io.run_one();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
  }
};

reply ok_reply(std::string body = R"({"ok":true})") {
  reply r;
  r.response.result(200);
  r.response.set(boost::beast::http::field::content_type, "application/json");
  r.response.body() = std::move(body);
  r.response.prepare_payload();
  return r;
}

handler always_ok() {
  return
      [](const net::http_request&, const peer_info&) -> awaitable<reply> { co_return ok_reply(); };
}

client_request get(std::string target = "/v2/p/datasets") {
  return client_request{http_method::get, std::move(target), {}, {}};
}

}  // namespace

TEST(https_client, keep_alive_reuses_one_connection) {
  tls_server_fixture f(always_ok());
  auto c = f.client(f.options());
  const auto n = f.run<int>([&]() -> awaitable<int> {
    int good = 0;
    const auto to = f.where();
    for (int i = 0; i < 3; ++i) {
      auto request = get();
      auto r = co_await c->send(to, std::move(request));
      if (r && r->status == 200 && r->body == R"({"ok":true})") ++good;
    }
    co_return good;
  });
  EXPECT_EQ(n, 3);
  EXPECT_EQ(c->statistics().connections_opened, 1u);
  EXPECT_EQ(c->statistics().connections_reused, 2u);
  ASSERT_EQ(f.hosts_seen.size(), 3u);
  EXPECT_EQ(f.hosts_seen[0], "127.0.0.1:" + std::to_string(f.server->port()));
  EXPECT_EQ(f.user_agents_seen[0].rfind("labelwatch/", 0), 0u);
}

TEST(https_client, response_headers_and_status_are_returned) {
  tls_server_fixture f([](const net::http_request&, const peer_info&) -> awaitable<reply> {
    auto r = ok_reply(R"({"error_code":"ModelArts.4206"})");
    r.response.result(429);
    r.response.set("Retry-After", "3");
    r.response.set("X-Request-Id", "req-1");
    co_return r;
  });
  auto c = f.client(f.options());
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429u);
  EXPECT_EQ(r->header("retry-after"), "3");
  EXPECT_EQ(r->header("X-REQUEST-ID"), "req-1");
  EXPECT_EQ(r->header("missing"), "");
}

TEST(https_client, a_reused_connection_closed_by_the_server_is_retried_once_for_get) {
  // The second request arrives on the kept-alive connection and the server drops it
  // without answering, as a server closing an idle connection at that moment would.
  std::atomic<int> n{0};
  tls_server_fixture f([&](const net::http_request&, const peer_info&) -> awaitable<reply> {
    if (++n == 2) {
      reply r;
      r.action = reply_action::close;
      co_return r;
    }
    co_return ok_reply();
  });
  auto c = f.client(f.options());
  const auto ok = f.run<bool>([&]() -> awaitable<bool> {
    const auto to = f.where();
    auto one = get(), two = get();
    auto first = co_await c->send(to, std::move(one));
    auto second = co_await c->send(to, std::move(two));
    co_return first&& second && second->status == 200;
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(f.requests.load(), 3);
  EXPECT_EQ(c->statistics().stale_retries, 1u);
  EXPECT_EQ(c->statistics().connections_opened, 2u);
}

TEST(https_client, a_put_on_a_dropped_connection_is_not_resent) {
  std::atomic<int> n{0};
  tls_server_fixture f([&](const net::http_request&, const peer_info&) -> awaitable<reply> {
    if (++n == 2) {
      reply r;
      r.action = reply_action::close;
      co_return r;
    }
    co_return ok_reply();
  });
  auto c = f.client(f.options());
  const auto second = f.run<client_result>([&]() -> awaitable<client_result> {
    const auto to = f.where();
    auto first = get();
    co_await c->send(to, std::move(first));
    auto put = client_request{http_method::put, "/x", {}, "{}"};
    co_return co_await c->send(to, std::move(put));
  });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, errc::network);
  EXPECT_FALSE(second.error().never_sent());  // it may have reached the server
  EXPECT_EQ(f.requests.load(), 2);
  EXPECT_EQ(c->statistics().stale_retries, 0u);
}

TEST(https_client, a_hanging_response_is_cut_at_the_request_timeout) {
  tls_server_fixture f([](const net::http_request&, const peer_info&) -> awaitable<reply> {
    reply r;
    r.action = reply_action::hang;
    co_return r;
  });
  auto o = f.options();
  o.request_timeout = 400ms;
  auto c = f.client(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::timeout);
  EXPECT_EQ(r.error().phase, request_phase::read);
  EXPECT_NE(r.error().detail.find("timed out after 400ms"), std::string::npos) << r.error().detail;
  EXPECT_GE(took, 380ms);
  EXPECT_LT(took, 3s);
  // The timed-out connection is gone: the next request opens a new one.
  EXPECT_EQ(c->statistics().connections_opened, 1u);
}

TEST(https_client, oversized_bodies_are_refused_with_a_clear_error) {
  tls_server_fixture f([](const net::http_request&, const peer_info&) -> awaitable<reply> {
    co_return ok_reply(std::string(300 * 1024, 'x'));
  });
  auto o = f.options();
  o.body_limit = 256 * 1024;
  auto c = f.client(o);
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::body_too_large);
  EXPECT_NE(r.error().detail.find("exceeds the limit of 262144 bytes"), std::string::npos)
      << r.error().detail;
}

TEST(https_client, a_body_cut_short_is_a_truncated_response) {
  tls_server_fixture f([](const net::http_request&, const peer_info&) -> awaitable<reply> {
    auto r = ok_reply(std::string(4000, 'x'));
    r.action = reply_action::reset_mid_body;
    r.partial_body_bytes = 100;
    co_return r;
  });
  auto c = f.client(f.options());
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::network);
  EXPECT_EQ(r.error().phase, request_phase::read);
  EXPECT_NE(r.error().detail.find("truncated"), std::string::npos) << r.error().detail;
}

TEST(https_client, an_untrusted_certificate_fails_verification_with_the_reason) {
  tls_server_fixture f(always_ok());
  auto o = f.options();
  o.ca_file.clear();  // the system store does not know our throw-away CA
  auto c = f.client(o);
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::tls);
  EXPECT_EQ(r.error().phase, request_phase::handshake);
  EXPECT_TRUE(r.error().never_sent());
  EXPECT_NE(r.error().detail.find("certificate verify failed: "), std::string::npos)
      << r.error().detail;
  EXPECT_EQ(f.requests.load(), 0);
}

TEST(https_client, a_certificate_for_another_name_fails_as_hostname_mismatch) {
  pki_options wrong;
  wrong.dns_names = {"wrong.example"};
  wrong.ip_addresses = {};
  tls_server_fixture f(always_ok(), wrong);
  auto c = f.client(f.options());
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::tls);
  EXPECT_NE(r.error().detail.find("certificate verify failed: hostname mismatch"),
            std::string::npos)
      << r.error().detail;
}

TEST(https_client, the_name_in_the_url_is_what_is_verified) {
  tls_server_fixture f(always_ok());  // certificate for localhost, 127.0.0.1, ::1
  auto c = f.client(f.options());
  auto r = f.run<client_result>([&]() {
    return c->send(origin{"https", "localhost", f.server->port()}, get());
  });
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(f.hosts_seen.at(0), "localhost:" + std::to_string(f.server->port()));
}

TEST(https_client, refused_connections_never_reached_the_server) {
  asio::io_context io;
  https_client_options o;
  o.proxy_env = proxy_environment{};
  auto c = https_client::create(io.get_executor(), o);
  ASSERT_TRUE(c);
  // A port that was just free: bind, read the port, close.
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  std::optional<client_result> out;
  asio::co_spawn(io, (*c)->send(origin{"https", "127.0.0.1", port}, get()),
                 [&](std::exception_ptr, client_result r) { out = std::move(r); });
  io.run();
  ASSERT_TRUE(out && !*out);
  EXPECT_EQ(out->error().kind, errc::network);
  EXPECT_EQ(out->error().phase, request_phase::connect);
  EXPECT_TRUE(out->error().never_sent());
  EXPECT_NE(out->error().detail.find("connect to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << out->error().detail;
}

TEST(https_client, a_bad_proxy_setting_is_a_configuration_error) {
  tls_server_fixture f(always_ok());
  auto o = f.options();
  o.proxy = "socks5://proxy:1080";
  auto c = f.client(o);
  auto r = f.run<client_result>([&]() { return c->send(f.where(), get()); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::config_invalid);
  EXPECT_EQ(r.error().phase, request_phase::setup);
  EXPECT_EQ(f.requests.load(), 0);
}

TEST(https_client, in_flight_requests_never_exceed_max_in_flight) {
  int now_in_flight = 0, most = 0;
  asio::io_context* io_ptr = nullptr;
  tls_server_fixture f([&](const net::http_request&, const peer_info&) -> awaitable<reply> {
    most = std::max(most, ++now_in_flight);
    asio::steady_timer t(*io_ptr, 100ms);
    co_await t.async_wait(asio::use_awaitable);
    --now_in_flight;
    co_return ok_reply();
  });
  io_ptr = &f.io;
  auto o = f.options();
  o.max_in_flight = 2;
  auto c = f.client(o);
  int done = 0, good = 0;
  for (int i = 0; i < 6; ++i)
    asio::co_spawn(f.io, c->send(f.where(), get()), [&](std::exception_ptr, client_result r) {
      ++done;
      if (r && r->status == 200) ++good;
    });
  while (done < 6) f.io.run_one();
  EXPECT_EQ(good, 6);
  EXPECT_EQ(most, 2);
}

TEST(https_client, max_rate_spaces_request_starts) {
  tls_server_fixture f(always_ok());
  auto o = f.options();
  o.max_rate = 20.0;  // one start per 50 ms
  auto c = f.client(o);
  const auto t0 = std::chrono::steady_clock::now();
  const auto good = f.run<int>([&]() -> awaitable<int> {
    int n = 0;
    const auto to = f.where();
    for (int i = 0; i < 5; ++i) {
      auto request = get();
      const auto r = co_await c->send(to, std::move(request));
      n += r ? 1 : 0;
    }
    co_return n;
  });
  EXPECT_EQ(good, 5);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 195ms);  // 4 gaps of 50 ms
}
