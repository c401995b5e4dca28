// net::http_server over real loopback sockets: the server runs on its own io_context
// thread, the test talks to it with plain blocking sockets (and OpenSSL for TLS), so
// every byte on the wire is under the test's control.
#include "net/http_server.hpp"
#include "net/pki.hpp"
#include "net/tls_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_future.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

namespace net = labelwatch::net;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

// A blocking TCP client with a receive timeout.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port, std::chrono::milliseconds timeout = 3s) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const { return connected_; }
  void send(std::string_view data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Reads until `marker` has been seen and, if the headers carry a Content-Length, the
  // whole body; or until EOF, error or timeout. `last_error` tells which.
  std::string read_response() {
    std::string out;
    char buf[65536];
    for (;;) {
      const auto head_end = out.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto cl = out.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) {
          const auto len = std::stoul(out.substr(cl + 16));
          if (out.size() >= head_end + 4 + len) return out;
        }
      }
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        last_error = n == 0 ? 0 : errno;
        eof = n == 0;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Reads exactly up to the end of a response header (byte by byte, so nothing after it
  // is consumed): what a client does with the answer to HEAD.
  std::string read_header_only() {
    std::string out;
    char c;
    while (out.size() < 4 || out.compare(out.size() - 4, 4, "\r\n\r\n") != 0) {
      const auto n = ::recv(fd_, &c, 1, 0);
      if (n <= 0) return out;
      out.push_back(c);
    }
    return out;
  }
  // True when the server closed the connection (EOF or reset) within the timeout.
  bool closed_by_peer() {
    char c;
    const auto n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  int last_error = 0;
  bool eof = false;

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string get_request(std::string_view target, bool keep_alive = true) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

// Runs an http_server on a private io_context thread.
class server_fixture : public ::testing::Test {
 protected:
  void start(net::server_options opt, net::handler h) {
    server_ = std::make_unique<net::http_server>(ioc_.get_executor(), std::move(opt), std::move(h));
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void start_echo(net::server_options opt = {}) {
    start(std::move(opt),
          [this](const net::http_request& req,
                 const net::peer_info& peer) -> net::awaitable<net::reply> {
            ++handled_;
            net::reply r;
            r.response.result(net::http::status::ok);
            r.response.set(net::http::field::content_type, "text/plain");
            r.response.body() = std::string(req.method_string()) + " " + std::string(req.target()) +
                                " body=" + req.body() + " loopback=" + (peer.loopback ? "1" : "0");
            co_return r;
          });
  }
  void stop_and_wait() {
    if (!server_) return;
    server_->stop();
    auto done = asio::co_spawn(ioc_, server_->wait_stopped(), asio::use_future);
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  }
  void TearDown() override {
    stop_and_wait();
    server_.reset();
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }

  asio::io_context ioc_;
  // Keeps run() going when the server has nothing left to do (after stop()).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      ioc_.get_executor()};
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
  std::atomic<int> handled_{0};
};

template <class F>
bool eventually(F f, std::chrono::milliseconds within = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

}  // namespace

TEST(listen_address, parses_the_accepted_forms) {
  std::string host;
  std::uint16_t port = 1;
  EXPECT_TRUE(net::parse_listen_address("127.0.0.1:9464", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  EXPECT_TRUE(net::parse_listen_address(":0", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  EXPECT_TRUE(net::parse_listen_address("[::1]:80", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_TRUE(net::parse_listen_address("localhost:1", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  for (const auto* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1]80",
                          "example.com:80", "127.0.0.1:8x"})
    EXPECT_FALSE(net::parse_listen_address(bad, host, port)) << bad;
}

TEST_F(server_fixture, bad_listen_address_is_a_clear_error) {
  net::server_options opt;
  opt.listen = "nonsense";
  EXPECT_THROW(net::http_server(ioc_.get_executor(), opt, {}), std::invalid_argument);
  start_echo();
  opt.listen = "127.0.0.1:" + std::to_string(port());
  try {
    net::http_server second(ioc_.get_executor(), opt, {});
    FAIL() << "binding a port in use must fail";
  } catch (const std::system_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(opt.listen));
  }
}

TEST_F(server_fixture, serves_requests_with_keep_alive) {
  start_echo();
  EXPECT_NE(port(), 0);
  EXPECT_EQ(server_->base_url(), "http://127.0.0.1:" + std::to_string(port()));
  raw_client c(port());
  ASSERT_TRUE(c.connected());
  c.send(get_request("/a?x=1"));
  auto r = c.read_response();
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("GET /a?x=1 body= loopback=1"));
  EXPECT_THAT(r, HasSubstr("Server: labelwatch\r\n"));
  c.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  r = c.read_response();
  EXPECT_THAT(r, HasSubstr("POST /b body=hello"));
  const auto s = server_->stats();
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.requests, 2u);
  // Connection: close is honoured.
  c.send(get_request("/c", false));
  r = c.read_response();
  EXPECT_THAT(r, HasSubstr("Connection: close"));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_fixture, head_carries_the_get_content_length_and_no_body) {
  // Two kinds of handler: one that answers HEAD exactly as GET (body included), one that
  // sets the GET body's length itself and leaves the body empty (observe's endpoints).
  start(net::server_options{},
        [](const net::http_request& req, const net::peer_info&) -> net::awaitable<net::reply> {
          net::reply r;
          r.response.result(net::http::status::ok);
          r.response.set(net::http::field::content_type, "text/plain");
          const std::string body = "eleven char";
          if (req.target() == "/explicit" && req.method() == net::http::verb::head) {
            r.response.content_length(body.size() * 3);
          } else {
            r.response.body() = req.target() == "/explicit" ? body + body + body : body;
          }
          co_return r;
        });
  raw_client c(port());
  ASSERT_TRUE(c.connected());
  c.send("HEAD /as-get HTTP/1.1\r\nHost: x\r\n\r\n");
  auto h = c.read_header_only();
  EXPECT_THAT(h, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(h, HasSubstr("Content-Length: 11\r\n"));
  c.send("HEAD /explicit HTTP/1.1\r\nHost: x\r\n\r\n");
  h = c.read_header_only();
  EXPECT_THAT(h, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(h, HasSubstr("Content-Length: 33\r\n"));
  // No body bytes followed either header: the next response on the same connection
  // starts right away with its status line, and GET still gets the whole body.
  c.send(get_request("/explicit"));
  const auto r = c.read_response();
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 33\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\n\r\neleven chareleven chareleven char"));
}

TEST_F(server_fixture, oversized_header_gets_431_and_oversized_body_413) {
  net::server_options opt;
  opt.header_limit = 1024;
  opt.body_limit = 100;
  start_echo(opt);
  {
    raw_client c(port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
    EXPECT_THAT(c.read_response(), StartsWith("HTTP/1.1 431"));
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    raw_client c(port());
    c.send("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'b'));
    EXPECT_THAT(c.read_response(), StartsWith("HTTP/1.1 413"));
  }
  {
    raw_client c(port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_THAT(c.read_response(), StartsWith("HTTP/1.1 400"));
  }
  EXPECT_EQ(handled_, 0) << "the handler never sees a refused request";
}

TEST_F(server_fixture, silent_and_slow_clients_are_disconnected) {
  net::server_options opt;
  opt.read_timeout = 300ms;
  start_echo(opt);
  raw_client silent(port());
  raw_client slow(port());
  slow.send("GET / HTTP/1.1\r\nHo");  // never finishes the header
  const auto t = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t, 2500ms);
  // Meanwhile everyone else is served.
  raw_client ok(port());
  ok.send(get_request("/"));
  EXPECT_THAT(ok.read_response(), StartsWith("HTTP/1.1 200"));
}

TEST_F(server_fixture, connections_over_the_limit_are_closed_without_affecting_others) {
  net::server_options opt;
  opt.max_connections = 2;
  start_echo(opt);
  raw_client a(port()), b(port());
  a.send(get_request("/a"));
  EXPECT_THAT(a.read_response(), StartsWith("HTTP/1.1 200"));
  b.send(get_request("/b"));
  EXPECT_THAT(b.read_response(), StartsWith("HTTP/1.1 200"));
  raw_client third(port());
  third.send(get_request("/c"));
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_EQ(server_->stats().rejected_over_limit, 1u);
  a.send(get_request("/a2"));
  EXPECT_THAT(a.read_response(), HasSubstr("/a2"));
  // A slot frees up when a client leaves.
  b.close();
  EXPECT_TRUE(eventually([&] { return server_->stats().open_connections == 1; }));
  raw_client fourth(port());
  fourth.send(get_request("/d"));
  EXPECT_THAT(fourth.read_response(), StartsWith("HTTP/1.1 200"));
}

TEST_F(server_fixture, handler_exception_becomes_500_and_on_complete_runs) {
  std::atomic<int> completed{0};
  start({}, [&](const net::http_request& req, const net::peer_info&) -> net::awaitable<net::reply> {
    if (req.target() == "/throw") throw std::runtime_error("boom");
    net::reply r;
    r.response.body() = "fine";
    r.on_complete = [&] { ++completed; };
    co_return r;
  });
  raw_client c(port());
  c.send(get_request("/throw"));
  EXPECT_THAT(c.read_response(), StartsWith("HTTP/1.1 500"));
  raw_client d(port());
  d.send(get_request("/ok"));
  EXPECT_THAT(d.read_response(), HasSubstr("fine"));
  EXPECT_TRUE(eventually([&] { return completed == 1; }));
}

TEST_F(server_fixture, fault_replies_close_reset_hang_and_delay) {
  static const std::string body =
      R"({"status":1,"progress":10.0,"padding":")" + std::string(2000, 'p') + "\"}";
  start({}, [](const net::http_request& req, const net::peer_info&) -> net::awaitable<net::reply> {
    net::reply r;
    r.response.set(net::http::field::content_type, "application/json");
    r.response.body() = body;
    if (req.target() == "/close") r.action = net::reply_action::close;
    if (req.target() == "/reset") {
      r.action = net::reply_action::reset_mid_body;
      r.partial_body_bytes = 12;
    }
    if (req.target() == "/hang") r.action = net::reply_action::hang;
    if (req.target() == "/delay") r.delay = 400ms;
    co_return r;
  });
  {
    raw_client c(port());
    c.send(get_request("/close"));
    EXPECT_EQ(c.read_response(), "");
    EXPECT_TRUE(c.eof);
  }
  {
    raw_client c(port());
    c.send(get_request("/reset"));
    const auto r = c.read_response();
    EXPECT_THAT(r, StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(
        r, HasSubstr("Content-Length: " + std::to_string(body.size())));  // promises it all ...
    EXPECT_THAT(r, ::testing::EndsWith("\r\n\r\n{\"status\":1,"));        // ... sends 12 bytes
    EXPECT_EQ(c.last_error, ECONNRESET);
  }
  {
    raw_client c(port(), 500ms);
    c.send(get_request("/hang"));
    EXPECT_EQ(c.read_response(), "");
    EXPECT_EQ(c.last_error, EAGAIN) << "no answer, connection still open";
    c.close();  // the client gives up; the server notices and frees the connection
    EXPECT_TRUE(eventually([&] { return server_->stats().open_connections == 0; }));
  }
  {
    raw_client c(port());
    const auto t = std::chrono::steady_clock::now();
    c.send(get_request("/delay"));
    EXPECT_THAT(c.read_response(), StartsWith("HTTP/1.1 200"));
    EXPECT_GE(std::chrono::steady_clock::now() - t, 400ms);
  }
}

TEST_F(server_fixture, graceful_stop_finishes_in_flight_and_closes_idle) {
  start({}, [](const net::http_request& req, const net::peer_info&) -> net::awaitable<net::reply> {
    net::reply r;
    r.response.body() = "done " + std::string(req.target());
    if (req.target() == "/slow") r.delay = 500ms;
    co_return r;
  });
  raw_client idle(port());
  idle.send(get_request("/warm"));
  EXPECT_THAT(idle.read_response(), HasSubstr("done /warm"));
  raw_client busy(port());
  busy.send(get_request("/slow"));
  EXPECT_TRUE(eventually([&] { return server_->stats().requests == 2; }));
  server_->stop();
  EXPECT_TRUE(idle.closed_by_peer()) << "idle keep-alive connections close at once";
  const auto r = busy.read_response();
  EXPECT_THAT(r, HasSubstr("done /slow")) << "the request in flight still gets its answer";
  EXPECT_THAT(r, HasSubstr("Connection: close"));
  auto done = asio::co_spawn(ioc_, server_->wait_stopped(), asio::use_future);
  EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
  raw_client late(port());
  EXPECT_FALSE(late.connected()) << "no longer accepting";
}

TEST_F(server_fixture, stop_is_bounded_by_the_grace_period) {
  net::server_options opt;
  opt.shutdown_grace = 200ms;
  start(opt, [](const net::http_request&, const net::peer_info&) -> net::awaitable<net::reply> {
    net::reply r;
    r.delay = 1h;  // would never finish on its own
    co_return r;
  });
  raw_client c(port());
  c.send(get_request("/forever"));
  EXPECT_TRUE(eventually([&] { return server_->stats().requests == 1; }));
  const auto t = std::chrono::steady_clock::now();
  server_->stop();
  auto done = asio::co_spawn(ioc_, server_->wait_stopped(), asio::use_future);
  EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t, 3s);
}

// ---- TLS ---------------------------------------------------------------------------------

namespace {

// Connects with OpenSSL, verifying the server against `ca_pem` for `host`. Returns the
// response, or "" and sets `error` when the handshake fails.
std::string tls_get(std::uint16_t port, const std::string& ca_pem, const char* host,
                    std::string& error, int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_tlsext_host_name(ssl, host);
  SSL_set1_host(ssl, host);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  SSL_set_fd(ssl, fd);
  std::string out;
  if (SSL_connect(ssl) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    error = buf;
  } else {
    const auto req = get_request("/tls", false);
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return out;
}

}  // namespace

TEST_F(server_fixture, tls_with_a_generated_ca) {
  const auto pem = net::generate_pki();
  net::server_options opt;
  opt.tls = net::make_server_tls_context_from_pem(pem.server_cert, pem.server_key);
  start_echo(opt);
  EXPECT_TRUE(server_->tls());
  EXPECT_THAT(server_->base_url(), StartsWith("https://127.0.0.1:"));
  std::string error;
  EXPECT_THAT(tls_get(port(), pem.ca_cert, "localhost", error), HasSubstr("GET /tls"));
  EXPECT_EQ(error, "");
  // A name the certificate does not carry fails verification.
  EXPECT_EQ(tls_get(port(), pem.ca_cert, "wrong.example", error), "");
  EXPECT_THAT(error, HasSubstr("certificate verify failed"));
  // Another CA: not trusted.
  error.clear();
  EXPECT_EQ(tls_get(port(), net::generate_pki().ca_cert, "localhost", error), "");
  EXPECT_THAT(error, HasSubstr("certificate verify failed"));
  // TLS 1.1 and older are refused.
  error.clear();
  EXPECT_EQ(tls_get(port(), pem.ca_cert, "localhost", error, TLS1_1_VERSION), "");
  EXPECT_NE(error, "");
  // A plain-HTTP client gets nowhere, and the server keeps serving.
  raw_client plain(port());
  plain.send(get_request("/"));
  EXPECT_THAT(plain.read_response(), ::testing::Not(HasSubstr("200 OK")));
  error.clear();
  EXPECT_THAT(tls_get(port(), pem.ca_cert, "localhost", error), HasSubstr("GET /tls"));
}
