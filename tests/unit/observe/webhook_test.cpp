// The webhook sink against a real receiver: net::http_server on loopback (plain HTTP, and
// TLS with a throw-away CA), in the same io_context, driven by the test thread.
#include "observe/webhook.hpp"

#include "net/http_server.hpp"
#include "net/pki.hpp"
#include "net/tls_server.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/field.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace obs = labelwatch::observe;
namespace net = labelwatch::net;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

struct received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An independent HMAC (OpenSSL's one-shot API), so the sink's signature is checked
// against something other than its own helper.
std::string hmac_hex(std::string_view key, std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 15]);
  }
  return out;
}

labelwatch::event make_event(const std::string& name, int n) {
  labelwatch::event e;
  e.ts = labelwatch::from_unix_ms(1'764'000'000'000 + n);
  e.name = name;
  e.fields["n"] = n;
  return e;
}

class webhook_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lw-webhook-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (sink_) sink_->stop();
    if (server_) server_->stop();
    ioc_.restart();
    ioc_.run_for(200ms);
    std::filesystem::remove_all(dir_);
  }

  // The receiver answers with `answer(request, response)`; default 200.
  void start_receiver(std::shared_ptr<asio::ssl::context> tls = nullptr) {
    net::server_options so;
    so.listen = "127.0.0.1:0";
    so.tls = std::move(tls);
    server_ = std::make_unique<net::http_server>(
        ioc_.get_executor(), so,
        [this](const net::http_request& req, const net::peer_info&) -> net::awaitable<net::reply> {
          received r;
          r.method = std::string(req.method_string());
          r.target = std::string(req.target());
          for (const auto& f : req) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
          r.body = req.body();
          net::reply rep;
          rep.response.result(http::status::ok);
          if (answer) answer(r, rep.response);
          requests.push_back(std::move(r));
          co_return rep;
        });
  }

  std::string write_file(const std::string& name, const std::string& content) {
    const auto path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  labelwatch::config::events_config events_config(const std::string& scheme = "http") const {
    labelwatch::config::events_config ev;
    ev.webhook_url = scheme + "://127.0.0.1:" + std::to_string(server_->port()) + "/hook/in?team=ops";
    return ev;
  }

  void make_sink(const labelwatch::config::events_config& ev, obs::webhook_options opt = {}) {
    opt.proxy_env = net::proxy_environment{};
    if (opt.retry.backoff_base == obs::webhook_retry_settings{}.backoff_base) {
      opt.retry.backoff_base = 20ms;
      opt.retry.backoff_cap = 200ms;
    }
    auto ep = obs::make_webhook_endpoint(ioc_.get_executor(), ev, opt);
    ASSERT_TRUE(ep) << ep.error();
    ASSERT_TRUE(ep->has_value());
    sink_ = std::make_shared<obs::webhook_sink>(ioc_.get_executor(), std::move(**ep), opt,
                                                [this] { ++on_drop_calls; });
  }

  void publish(const labelwatch::event& e) {
    const auto line = e.to_json_line();
    lines.push_back(line);
    EXPECT_TRUE(sink_->deliver(e, line));
  }

  template <class F>
  bool run_until(F done, std::chrono::milliseconds within = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      ioc_.restart();
      ioc_.run_for(5ms);
    }
    return true;
  }

  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.body);
    return out;
  }

  asio::io_context ioc_;
  std::string dir_;
  std::unique_ptr<net::http_server> server_;
  std::shared_ptr<obs::webhook_sink> sink_;
  std::function<void(const received&, net::http_response&)> answer;
  std::vector<received> requests;
  std::vector<std::string> lines;
  int on_drop_calls = 0;
};

}  // namespace

TEST_F(webhook_fixture, posts_each_event_in_order_signed_with_the_secret) {
  start_receiver();
  auto ev = events_config();
  ev.webhook_secret_file = write_file("secret", "correct horse battery staple\n");
  make_sink(ev);
  sink_->start();
  for (int i = 1; i <= 5; ++i) publish(make_event(i == 3 ? "task_status_changed" : "task_progress", i));
  ASSERT_TRUE(run_until([&] { return requests.size() == 5; }));

  EXPECT_EQ(bodies(), lines);
  std::set<std::string> deliveries;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook/in?team=ops");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
    // The key is the file's content without its trailing newline.
    EXPECT_EQ(r.header("x-labelwatch-signature"),
              "sha256=" + hmac_hex("correct horse battery staple", r.body));
    EXPECT_EQ(r.header("x-labelwatch-event"), i == 2 ? "task_status_changed" : "task_progress");
    deliveries.insert(r.header("x-labelwatch-delivery"));
    EXPECT_EQ(r.body.find("correct horse"), std::string::npos);
  }
  EXPECT_EQ(deliveries.size(), 5u);
  EXPECT_EQ(sink_->statistics().delivered, 5u);
  EXPECT_EQ(sink_->statistics().dropped, 0u);
  EXPECT_EQ(on_drop_calls, 0);
  EXPECT_EQ(sink_->queued(), 0u);
}

TEST_F(webhook_fixture, without_a_secret_requests_are_not_signed) {
  start_receiver();
  make_sink(events_config());
  sink_->start();
  publish(make_event("daemon_started", 1));
  ASSERT_TRUE(run_until([&] { return requests.size() == 1; }));
  EXPECT_EQ(requests[0].headers.count("x-labelwatch-signature"), 0u);
  EXPECT_EQ(requests[0].body, lines[0]);
}

TEST_F(webhook_fixture, retries_503_after_retry_after_until_the_receiver_recovers) {
  start_receiver();
  int refusals = 3;
  answer = [&](const received&, net::http_response& res) {
    if (refusals-- > 0) {
      res.result(http::status::service_unavailable);
      res.set(http::field::retry_after, "0");
    }
  };
  make_sink(events_config());
  sink_->start();
  for (int i = 1; i <= 4; ++i) publish(make_event("e", i));
  ASSERT_TRUE(run_until([&] { return sink_->statistics().delivered == 4; }));
  // The first event three times refused, then every event once, in order; nothing lost.
  ASSERT_EQ(requests.size(), 7u);
  const auto got = bodies();
  EXPECT_EQ(got, (std::vector<std::string>{lines[0], lines[0], lines[0], lines[0], lines[1],
                                           lines[2], lines[3]}));
  // A retry is the same delivery.
  EXPECT_EQ(requests[0].header("x-labelwatch-delivery"), requests[3].header("x-labelwatch-delivery"));
  EXPECT_EQ(sink_->statistics().retries, 3u);
  EXPECT_EQ(sink_->statistics().dropped, 0u);
}

TEST_F(webhook_fixture, other_4xx_drops_the_event_counts_it_and_moves_on) {
  start_receiver();
  answer = [](const received& r, net::http_response& res) {
    if (r.header("x-labelwatch-event") == "bad") res.result(http::status::unprocessable_entity);
  };
  make_sink(events_config());
  sink_->start();
  publish(make_event("good", 1));
  publish(make_event("bad", 2));
  publish(make_event("good", 3));
  ASSERT_TRUE(run_until([&] { return requests.size() == 3; }));
  ASSERT_TRUE(run_until([&] { return sink_->queued() == 0; }));
  EXPECT_EQ(bodies(), lines);  // "bad" was sent exactly once, never retried
  EXPECT_EQ(sink_->statistics().delivered, 2u);
  EXPECT_EQ(sink_->statistics().dropped, 1u);
  EXPECT_EQ(sink_->failures(), 1u);
  EXPECT_EQ(on_drop_calls, 1);
}

TEST_F(webhook_fixture, a_full_queue_drops_the_oldest_and_counts_each) {
  start_receiver();
  auto ev = events_config();
  ev.webhook_queue_size = 3;
  make_sink(ev);
  // Published before the sender runs: only the newest three can wait.
  for (int i = 1; i <= 10; ++i) publish(make_event("e", i));
  EXPECT_EQ(sink_->queued(), 3u);
  EXPECT_EQ(on_drop_calls, 7);
  EXPECT_EQ(sink_->failures(), 7u);
  sink_->start();
  ASSERT_TRUE(run_until([&] { return requests.size() == 3; }));
  EXPECT_EQ(bodies(), (std::vector<std::string>{lines[7], lines[8], lines[9]}));
  EXPECT_EQ(sink_->statistics().dropped, 7u);
}

TEST_F(webhook_fixture, network_failures_are_retried_with_backoff_and_nothing_is_dropped) {
  // A port where nothing listens: bind one, note it, close it.
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(ioc_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  labelwatch::config::events_config ev;
  ev.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  make_sink(ev);
  sink_->start();
  publish(make_event("e", 1));
  publish(make_event("e", 2));
  ASSERT_TRUE(run_until([&] { return sink_->statistics().attempts >= 4; }));
  EXPECT_GE(sink_->statistics().retries, 3u);
  EXPECT_EQ(sink_->statistics().delivered, 0u);
  EXPECT_EQ(sink_->statistics().dropped, 0u);
  EXPECT_EQ(sink_->queued(), 2u);
}

TEST_F(webhook_fixture, flush_waits_for_the_queue_to_drain) {
  start_receiver();
  make_sink(events_config());
  sink_->start();
  for (int i = 1; i <= 3; ++i) publish(make_event("e", i));
  std::optional<bool> flushed;
  asio::co_spawn(ioc_, sink_->flush(5s), [&](std::exception_ptr, bool all) { flushed = all; });
  ASSERT_TRUE(run_until([&] { return flushed.has_value(); }));
  EXPECT_TRUE(*flushed);
  EXPECT_EQ(requests.size(), 3u);
  EXPECT_EQ(sink_->statistics().dropped, 0u);
  // Stopped: a late event is refused (the fan-out counts it).
  const auto late = make_event("late", 4);
  EXPECT_FALSE(sink_->deliver(late, late.to_json_line()));
}

TEST_F(webhook_fixture, flush_gives_up_after_its_bound_and_counts_what_is_left) {
  start_receiver();
  answer = [](const received&, net::http_response& res) {
    res.result(http::status::service_unavailable);
    res.set(http::field::retry_after, "60");
  };
  make_sink(events_config());
  sink_->start();
  for (int i = 1; i <= 3; ++i) publish(make_event("e", i));
  std::optional<bool> flushed;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(ioc_, sink_->flush(300ms), [&](std::exception_ptr, bool all) { flushed = all; });
  ASSERT_TRUE(run_until([&] { return flushed.has_value(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_FALSE(*flushed);
  EXPECT_EQ(sink_->statistics().dropped, 3u);
  EXPECT_EQ(on_drop_calls, 3);
  EXPECT_EQ(sink_->queued(), 0u);
}

TEST_F(webhook_fixture, https_receiver_verified_with_webhook_ca_file) {
  const auto files = net::write_pki(dir_ + "/pki", net::generate_pki());
  start_receiver(net::make_server_tls_context(files.server_cert.string(), files.server_key.string()));
  auto ev = events_config("https");
  ev.webhook_ca_file = files.ca_cert.string();
  make_sink(ev);
  sink_->start();
  publish(make_event("e", 1));
  ASSERT_TRUE(run_until([&] { return sink_->statistics().delivered == 1; }));
  EXPECT_EQ(bodies(), lines);
}

TEST_F(webhook_fixture, https_receiver_with_an_unknown_ca_is_retried_not_delivered) {
  const auto files = net::write_pki(dir_ + "/pki", net::generate_pki());
  start_receiver(net::make_server_tls_context(files.server_cert.string(), files.server_key.string()));
  make_sink(events_config("https"));  // system trust store only
  sink_->start();
  publish(make_event("e", 1));
  ASSERT_TRUE(run_until([&] { return sink_->statistics().retries >= 2; }));
  EXPECT_TRUE(requests.empty());
  EXPECT_EQ(sink_->statistics().dropped, 0u);
  EXPECT_EQ(sink_->queued(), 1u);
}

TEST_F(webhook_fixture, reconfigure_sends_queued_events_to_the_new_receiver) {
  // The first receiver is down (a closed port); a reload points at a working one.
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(ioc_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  labelwatch::config::events_config down;
  down.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  obs::webhook_options slow;
  slow.proxy_env = net::proxy_environment{};
  slow.retry.backoff_base = 60s;  // without the reload it would wait a long time
  slow.retry.backoff_cap = 60s;
  make_sink(down, slow);
  sink_->start();
  for (int i = 1; i <= 4; ++i) publish(make_event("e", i));
  ASSERT_TRUE(run_until([&] { return sink_->statistics().retries >= 1; }));

  start_receiver();
  auto ev = events_config();
  ev.webhook_queue_size = 2;
  ev.webhook_secret_file = write_file("secret2", "new-key");
  auto ep = obs::make_webhook_endpoint(ioc_.get_executor(), ev, slow);
  ASSERT_TRUE(ep && ep->has_value());
  sink_->reconfigure(std::move(**ep));
  EXPECT_EQ(on_drop_calls, 2);  // the bound went from 1000 to 2: the two oldest went
  ASSERT_TRUE(run_until([&] { return requests.size() == 2; }, 5s));
  EXPECT_EQ(bodies(), (std::vector<std::string>{lines[2], lines[3]}));
  EXPECT_EQ(requests[0].header("x-labelwatch-signature"), "sha256=" + hmac_hex("new-key", lines[2]));
}

TEST_F(webhook_fixture, endpoint_errors_name_the_problem_never_the_secret) {
  labelwatch::config::events_config ev;
  const auto none = obs::make_webhook_endpoint(ioc_.get_executor(), ev);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  ev.webhook_url = "https://hooks.example/path-token-123";
  ev.webhook_secret_file = dir_ + "/missing";
  auto r = obs::make_webhook_endpoint(ioc_.get_executor(), ev);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("[events] cannot read webhook secret file " + dir_ + "/missing"),
            std::string::npos)
      << r.error();

  ev.webhook_secret_file = write_file("secret", "two\nlines-of-s3cret\n");
  r = obs::make_webhook_endpoint(ioc_.get_executor(), ev);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("holds more than one line"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find("s3cret"), std::string::npos) << r.error();

  ev.webhook_secret_file = write_file("secret", "s3cret-value");
  ev.webhook_ca_file = write_file("ca.pem", "not a certificate");
  r = obs::make_webhook_endpoint(ioc_.get_executor(), ev);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("[events] webhook_ca_file"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find("s3cret"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find("path-token-123"), std::string::npos) << r.error();

  ev.webhook_ca_file.clear();
  ev.webhook_url = "http://hooks.example/path-token-123";
  r = obs::make_webhook_endpoint(ioc_.get_executor(), ev);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().find("path-token-123"), std::string::npos) << r.error();
}
