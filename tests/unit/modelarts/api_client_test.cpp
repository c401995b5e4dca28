// api_client against the simulator running in-process over real TLS on loopback: the
// observer seam (operation names, codes), the token single flight under concurrency,
// the 401 refresh-and-retry-once, the acceptance PUT (body, locale, empty answer) and
// that a PUT is not resent after the server answered. The journal is read through the
// simulator's control API with the same https_client.
#include "modelarts/api_client.hpp"

#include "modelarts/api_observer.hpp"
#include "net/https_client.hpp"
#include "sim/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

using namespace labelwatch;
using namespace labelwatch::modelarts;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view k_scenario = R"json({
  "name": "api-client-test",
  "datasets": [ {
    "dataset_id": "ds1",
    "auto_tasks": [ {"task_id": "auto1"} ],
    "workforce_tasks": [ {"task_id": "team1", "document": {"status": 2}} ]
  } ]
})json";

constexpr const char* k_ak = "LWUNITTESTAK0000";
constexpr const char* k_sk = "unit-test-secret-key";
constexpr const char* k_password = "unit-test-password";

// The value, or the test stops with the message.
template <class T>
T must(boost::system::result<T, std::string> r) {
  if (!r) throw std::runtime_error(r.error());
  return std::move(*r);
}

struct recorded_request {
  std::string op;
  unsigned status;
  errc outcome;
};

struct recording_observer final : api_observer {
  std::vector<recorded_request> requests;
  std::vector<sys_time> tokens;
  int retries = 0;
  void on_request(std::string_view op, unsigned status, errc outcome,
                  std::chrono::nanoseconds duration) noexcept override {
    EXPECT_GT(duration.count(), 0);
    requests.push_back({std::string(op), status, outcome});
  }
  void on_retry(std::string_view, const api_error&, std::chrono::milliseconds) noexcept override {
    ++retries;
  }
  void on_token(sys_time expires_at) noexcept override { tokens.push_back(expires_at); }
};

struct fixture {
  asio::io_context io;
  std::filesystem::path dir;
  std::unique_ptr<sim::simulator> simulator;
  std::unique_ptr<net::https_client> http;
  std::unique_ptr<auth::token_provider> tokens;
  std::unique_ptr<api_client> client;
  recording_observer observer;
  net::origin sim_origin;

  explicit fixture(sim::auth_mode mode) {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("lw-api-client-" + std::to_string(rd()));
    sim::simulator_options so;
    so.tls_dir = dir;
    so.world = sim::parse_scenario(k_scenario, "test").value();
    so.service.auth = mode;
    so.service.keys = {{k_ak, k_sk}};
    so.service.iam_password = k_password;
    simulator = std::make_unique<sim::simulator>(io.get_executor(), std::move(so));
    sim_origin = net::origin{"https", "127.0.0.1", simulator->info().port};

    net::https_client_options ho;
    ho.proxy_env = net::proxy_environment{};
    ho.ca_file = simulator->info().ca_file.string();
    ho.max_in_flight = 16;
    http = must(net::https_client::create(io.get_executor(), ho));

    api_auth a = no_auth{};
    if (mode == sim::auth_mode::aksk) {
      a = aksk_auth{{auth::secret(k_ak), auth::secret(k_sk)}};
    } else if (mode == sim::auth_mode::token) {
      auth::token_provider_options t;
      t.iam_endpoint = simulator->info().base_url;
      t.domain_name = "labelwatch";
      t.user_name = "labelwatch";
      t.password = auth::secret(k_password);
      t.scope.project_id = simulator->info().project_id;
      tokens = must(auth::token_provider::create(*http, std::move(t), &observer));
      a = token_auth{tokens.get()};
    }
    api_client_options o;
    o.endpoint = simulator->info().base_url;
    o.project_id = simulator->info().project_id;
    o.retry.backoff_base = 50ms;
    client = must(api_client::create(*http, std::move(a), o, &observer));
  }

  ~fixture() {
    client.reset();
    tokens.reset();
    http.reset();
    simulator.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  template <class T>
  T run(std::function<net::awaitable<T>()> body) {
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

  // The control API, through the same client stack.
  json::value control(net::http_method method, std::string target, std::string body = {}) {
    return run<json::value>([&]() -> net::awaitable<json::value> {
      net::client_request req{method, target, {{"Content-Type", "application/json"}}, body};
      const auto to = sim_origin;
      auto r = co_await http->send(to, std::move(req));
      EXPECT_TRUE(r) << (r ? "" : r.error().detail);
      co_return r ? json::parse(r->body) : json::value{};
    });
  }

  json::array journal() {
    return control(net::http_method::get, "/_sim/journal?since=0").at("entries").as_array();
  }

  std::size_t count(const json::array& entries, std::string_view method, int status = 0) {
    std::size_t n = 0;
    for (const auto& e : entries)
      if (e.at("method").as_string() == method &&
          (status == 0 || e.at("status").as_int64() == status))
        ++n;
    return n;
  }
};

}  // namespace

TEST(api_client, reports_every_exchange_to_the_observer) {
  fixture f(sim::auth_mode::aksk);
  const auto ok = f.run<bool>([&]() -> net::awaitable<bool> {
    const auto task = co_await f.client->get_auto_task("ds1", "auto1");
    const auto missing = co_await f.client->get_auto_task("ds1", "nope");
    co_return task && task->task_id == "auto1" && !missing &&
        missing.error().kind == errc::not_found;
  });
  EXPECT_TRUE(ok);
  ASSERT_EQ(f.observer.requests.size(), 2u);
  EXPECT_EQ(f.observer.requests[0].op, "get_auto_task");
  EXPECT_EQ(f.observer.requests[0].status, 200u);
  EXPECT_EQ(f.observer.requests[0].outcome, errc::ok);
  EXPECT_EQ(f.observer.requests[1].status, 400u);
  EXPECT_EQ(f.observer.requests[1].outcome, errc::not_found);
  EXPECT_EQ(request_code_label(f.observer.requests[1].status, f.observer.requests[1].outcome),
            "400");
}

TEST(api_client, concurrent_requests_share_one_token) {
  fixture f(sim::auth_mode::token);
  int done = 0, good = 0;
  for (int i = 0; i < 8; ++i)
    asio::co_spawn(f.io, f.client->get_auto_task("ds1", "auto1"),
                   [&](std::exception_ptr, api_result<auto_task> r) {
                     ++done;
                     if (r) ++good;
                   });
  while (done < 8) f.io.run_one();
  EXPECT_EQ(good, 8);
  const auto entries = f.journal();
  EXPECT_EQ(f.count(entries, "POST", 201), 1u);
  EXPECT_EQ(f.count(entries, "GET", 200), 8u);
  ASSERT_EQ(f.observer.tokens.size(), 1u);
  EXPECT_EQ(f.tokens->expires_at(), f.observer.tokens[0]);
  const auto now = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
  EXPECT_GT(*f.tokens->expires_at(), now + 23h);
}

TEST(api_client, a_rejected_token_is_refreshed_once_for_all_waiting_requests) {
  fixture f(sim::auth_mode::token);
  ASSERT_TRUE(f.run<bool>([&]() -> net::awaitable<bool> {
    co_return (co_await f.client->list_datasets()).has_value();
  }));
  f.control(net::http_method::post, "/_sim/tokens/expire");
  int done = 0, good = 0;
  for (int i = 0; i < 6; ++i)
    asio::co_spawn(f.io, f.client->get_workforce_task("ds1", "team1"),
                   [&](std::exception_ptr, api_result<workforce_task> r) {
                     ++done;
                     if (r && r->status() == workforce_status::accepting) ++good;
                   });
  while (done < 6) f.io.run_one();
  EXPECT_EQ(good, 6);
  const auto entries = f.journal();
  EXPECT_EQ(f.count(entries, "POST", 201), 2u);  // the first token and one refresh
  EXPECT_EQ(f.count(entries, "GET", 401), 6u);   // each in-flight request saw the old token fail
  EXPECT_EQ(f.count(entries, "GET", 200), 1u + 6u);
  EXPECT_EQ(f.observer.tokens.size(), 2u);
}

TEST(api_client, acceptance_put_sends_action_overwrite_and_locale) {
  fixture f(sim::auth_mode::aksk);
  const auto r = f.run<api_result<acceptance_status_response>>([&]() {
    return f.client->update_acceptance_status("ds1", "team1", acceptance_action_code::pass_all,
                                              false);
  });
  ASSERT_TRUE(r) << r.error().summary();
  EXPECT_TRUE(r->samples.empty());  // the documented answer is {}
  const auto entries = f.journal();
  ASSERT_EQ(f.count(entries, "PUT"), 1u);
  for (const auto& e : entries) {
    if (e.at("method").as_string() != "PUT") continue;
    EXPECT_EQ(e.at("query").as_string(), "locale=en-us");
    EXPECT_EQ(json::parse(e.at("body").as_string()),
              json::parse(R"({"action":0,"overwrite_last_result":false})"));
    EXPECT_EQ(e.at("status").as_int64(), 200);
    EXPECT_EQ(e.at("auth").as_string(), "ok");
  }
  ASSERT_EQ(f.observer.requests.size(), 1u);
  EXPECT_EQ(f.observer.requests[0].op, "update_acceptance_status");
}

TEST(api_client, a_put_that_reached_the_server_is_never_resent) {
  fixture f(sim::auth_mode::aksk);
  f.control(net::http_method::post, "/_sim/faults",
            R"({"kind":"error","status":503,"endpoint":"acceptance","count":1})");
  const auto r = f.run<api_result<acceptance_status_response>>([&]() {
    return f.client->update_acceptance_status("ds1", "team1", acceptance_action_code::reject_all,
                                              true);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::server_error);
  EXPECT_EQ(r.error().http_status, 503u);
  EXPECT_EQ(f.count(f.journal(), "PUT"), 1u);
  EXPECT_EQ(f.observer.retries, 0);
}

TEST(api_client, a_get_is_retried_after_503_and_the_retry_is_observed) {
  fixture f(sim::auth_mode::aksk);
  f.control(net::http_method::post, "/_sim/faults",
            R"({"kind":"error","status":503,"endpoint":"auto_task","count":1})");
  const auto r =
      f.run<api_result<auto_task>>([&]() { return f.client->get_auto_task("ds1", "auto1"); });
  ASSERT_TRUE(r) << r.error().summary();
  EXPECT_EQ(f.observer.retries, 1);
  ASSERT_EQ(f.observer.requests.size(), 2u);
  EXPECT_EQ(f.observer.requests[0].status, 503u);
  EXPECT_EQ(f.observer.requests[0].outcome, errc::server_error);
  EXPECT_EQ(f.observer.requests[1].status, 200u);
}

TEST(api_client, empty_ids_are_refused_before_any_request) {
  fixture f(sim::auth_mode::aksk);
  const auto r =
      f.run<api_result<auto_task>>([&]() { return f.client->get_auto_task("", "auto1"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, errc::invalid_argument);
  EXPECT_NE(r.error().detail.find("dataset_id is empty"), std::string::npos);
  EXPECT_TRUE(f.observer.requests.empty());
}
