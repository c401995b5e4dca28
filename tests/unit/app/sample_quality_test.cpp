// The sample-quality listing and round against the simulator running in-process (plain
// HTTP on loopback, no auth): truncation at exact page boundaries under both offset
// readings, thin list items completed from the detail endpoint and then from the cache,
// and the monitor's metrics, events, low-confidence crossings (persisted in a real state
// store across a "restart") and reload removal.
#include "app/sample_quality.hpp"

#include "modelarts/api_observer.hpp"
#include "net/https_client.hpp"
#include "observe/metrics.hpp"
#include "sim/server.hpp"
#include "store/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

using namespace labelwatch;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace asio = boost::asio;

namespace {

// 250 samples in ds250 (one label each; 40 hard), 3 in dsThin (served thin by a fault).
std::string scenario_text(std::string_view pagination) {
  return std::string(R"json({
  "name": "sample-quality-test", "pagination": ")json") +
         std::string(pagination) + R"json(",
  "datasets": [
    { "dataset_id": "ds250",
      "generate_samples": { "count": 250, "seed": 3, "hard": 40,
        "statuses": { "UN_ANNOTATION": 200, "__AUTO_ANNOTATION__": 50 },
        "labels": ["car", "bus"], "reasons": [1, 19, 20], "score_min": 0.1, "score_max": 0.9 } },
    { "dataset_id": "dsThin",
      "generate_samples": { "count": 3, "seed": 9, "hard": 1,
        "statuses": { "UN_ANNOTATION": 3 }, "reasons": [7] } }
  ],
  "faults": [ { "kind": "missing_optional", "endpoint": "sample_list", "dataset_id": "dsThin" } ]
})json";
}

// The value, or the test stops with the message.
template <class T>
T must(boost::system::result<T, std::string> r) {
  if (!r) throw std::runtime_error(r.error());
  return std::move(*r);
}

struct counting_observer final : modelarts::api_observer {
  std::map<std::string, int> requests;
  void on_request(std::string_view op, unsigned, errc, std::chrono::nanoseconds) noexcept override {
    ++requests[std::string(op)];
  }
  void on_retry(std::string_view, const modelarts::api_error&,
                std::chrono::milliseconds) noexcept override {}
  void on_token(sys_time) noexcept override {}
};

struct fixture {
  asio::io_context io;
  std::unique_ptr<sim::simulator> simulator;
  std::unique_ptr<net::https_client> http;
  std::unique_ptr<modelarts::api_client> client;
  counting_observer observer;

  explicit fixture(std::string_view pagination = "page") {
    sim::simulator_options so;
    so.tls = sim::tls_mode::off;
    so.world = sim::parse_scenario(scenario_text(pagination), "test").value();
    so.service.auth = sim::auth_mode::none;
    simulator = std::make_unique<sim::simulator>(io.get_executor(), std::move(so));
    net::https_client_options ho;
    ho.proxy_env = net::proxy_environment{};
    http = must(net::https_client::create(io.get_executor(), ho));
    modelarts::api_client_options o;
    o.endpoint = simulator->info().base_url;
    o.project_id = simulator->info().project_id;
    client = must(modelarts::api_client::create(*http, modelarts::no_auth{}, o, &observer));
  }
  ~fixture() {
    client.reset();
    http.reset();
    simulator.reset();
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

  app::sample_listing list(std::string dataset, std::size_t max,
                           app::detail_cache* cache = nullptr) {
    observer.requests.clear();
    auto r = run<boost::system::result<app::sample_listing, app::listing_error>>(
        [&]() -> net::awaitable<boost::system::result<app::sample_listing, app::listing_error>> {
          app::listing_options o;
          o.max_samples = max;
          co_return co_await app::list_samples_for_quality(*client, dataset, o, cache);
        });
    if (!r) throw std::runtime_error(r.error().operation + ": " + r.error().error.summary());
    EXPECT_EQ(observer.requests["list_samples"], static_cast<int>(r->list_requests));
    EXPECT_EQ(observer.requests["get_sample"], static_cast<int>(r->detail_requests));
    return std::move(*r);
  }
};

class temp_dir {
 public:
  temp_dir() {
    std::string templ = std::filesystem::temp_directory_path().string() + "/lw-samples-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

config::watch_config watch_of(std::string dataset, std::uint32_t max = 2000) {
  config::watch_config w;
  w.dataset_id = std::move(dataset);
  w.sample_quality = true;
  w.max_samples_per_round = max;
  return w;
}

config::daemon_config config_with(std::vector<config::watch_config> watches) {
  config::daemon_config c;
  c.poll.max_rate = 0.0;  // no pacing in tests
  c.watches = std::move(watches);
  return c;
}

const sys_time k_now = from_unix_ms(1606188000000);

}  // namespace

TEST(sample_listing, truncates_only_when_samples_remain_page_offsets) {
  fixture f("page");
  const auto all = f.list("ds250", 2000);
  EXPECT_EQ(all.samples.size(), 250u);
  EXPECT_FALSE(all.truncated);
  EXPECT_EQ(all.dataset_samples, 250);
  EXPECT_EQ(all.list_requests, 3u);  // 100 + 100 + 50; the total ends it

  const auto exact = f.list("ds250", 250);
  EXPECT_EQ(exact.samples.size(), 250u);
  EXPECT_FALSE(exact.truncated);

  const auto one_short = f.list("ds250", 249);
  EXPECT_EQ(one_short.samples.size(), 249u);
  EXPECT_TRUE(one_short.truncated);  // the 250th arrived on the last page

  const auto page_edge = f.list("ds250", 200);
  EXPECT_EQ(page_edge.samples.size(), 200u);
  EXPECT_TRUE(page_edge.truncated);  // stopped at a page end; sample_count says 250
  EXPECT_EQ(page_edge.list_requests, 2u);

  const auto small = f.list("ds250", 30);  // pages of 30
  EXPECT_EQ(small.samples.size(), 30u);
  EXPECT_TRUE(small.truncated);
  EXPECT_EQ(small.list_requests, 1u);

  std::set<std::string> ids;
  for (const auto& s : all.samples) ids.insert(s.sample_id);
  EXPECT_EQ(ids.size(), 250u);
}

TEST(sample_listing, record_offsets_read_every_sample_once) {
  fixture f("record");
  const auto all = f.list("ds250", 2000);
  EXPECT_EQ(all.samples.size(), 250u);
  EXPECT_FALSE(all.truncated);
  std::set<std::string> ids;
  for (const auto& s : all.samples) ids.insert(s.sample_id);
  EXPECT_EQ(ids.size(), 250u);
  // Page 1 at offset 1 overlaps page 0 by 99 items: one request more than page offsets.
  EXPECT_EQ(all.list_requests, 4u);
  const auto capped = f.list("ds250", 150);
  EXPECT_EQ(capped.samples.size(), 150u);
  EXPECT_TRUE(capped.truncated);
}

TEST(sample_listing, thin_items_are_completed_by_the_detail_then_the_cache) {
  fixture f;
  app::detail_cache cache;
  const auto first = f.list("dsThin", 2000, &cache);
  ASSERT_EQ(first.samples.size(), 3u);
  EXPECT_EQ(first.detail_requests, 3u);
  EXPECT_EQ(first.details_cached, 0u);
  for (const auto& s : first.samples) {
    EXPECT_FALSE(s.labels.empty()) << "detail read";
    EXPECT_TRUE(s.metadata.has_value());
  }
  EXPECT_EQ(cache.size(), 3u);
  const auto q = summarize(first.samples, {});
  EXPECT_EQ(q.hard_samples, 1);
  EXPECT_EQ(q.hard_reasons.at(7), 1);
  EXPECT_EQ(q.scores.count(), 3u);

  // Unchanged time and status: nothing is read again, the figures are the same.
  const auto second = f.list("dsThin", 2000, &cache);
  EXPECT_EQ(second.detail_requests, 0u);
  EXPECT_EQ(second.details_cached, 3u);
  EXPECT_EQ(summarize(second.samples, {}), q);

  // Without a cache (the CLI), every thin item costs a detail request.
  EXPECT_EQ(f.list("dsThin", 2000).detail_requests, 3u);
  // Full list documents never do.
  EXPECT_EQ(f.list("ds250", 2000, &cache).detail_requests, 0u);
  EXPECT_EQ(cache.size(), 0u) << "entries of samples no longer listed are dropped";
}

TEST(detail_cache, a_changed_time_or_status_misses) {
  app::detail_cache cache;
  modelarts::sample listed;
  listed.sample_id = "a";
  listed.sample_time_ms = 1;
  listed.sample_status = "UN_ANNOTATION";
  modelarts::sample detail = listed;
  detail.source = "https://obs.example/x?Signature=secret";
  detail.labels.push_back({});
  cache.put(listed, detail);
  ASSERT_NE(cache.find(listed), nullptr);
  EXPECT_TRUE(cache.find(listed)->source.empty()) << "a pre-signed URL is never kept";
  auto moved = listed;
  moved.sample_time_ms = 2;
  EXPECT_EQ(cache.find(moved), nullptr);
  auto confirmed = listed;
  confirmed.sample_status = "__ALL__";
  EXPECT_EQ(cache.find(confirmed), nullptr);
}

TEST(sample_monitor, round_exports_emits_and_crosses_once) {
  fixture f;
  temp_dir dir;
  store::open_options so;
  so.path = dir.file("state.db");
  auto opened = store::state_store::open(so);
  ASSERT_TRUE(opened) << opened.error().message;
  auto st = std::move(*opened);

  observe::metrics m("t");
  std::vector<event> events;
  auto monitor = std::make_unique<app::sample_quality_monitor>(
      m, [&](const event& e) { events.push_back(e); }, st.get(), [] { return k_now; });
  auto w = watch_of("ds250", 200);
  w.sample_label_names = {"car"};
  w.low_confidence_median = 0.99;  // every median is below
  monitor->configure(config_with({w}));
  const auto round = [&](const config::watch_config& watch) {
    return f.run<bool>(
        [&]() -> net::awaitable<bool> { co_return co_await monitor->run_round(watch, *f.client); });
  };

  ASSERT_TRUE(round(w));
  const auto body = m.serialize();
  EXPECT_THAT(body,
              HasSubstr(R"(modelarts_auto_annotation_label_score_count{dataset_id="ds250"} 200)"));
  EXPECT_THAT(body, HasSubstr(R"(label_name="car")"));
  EXPECT_THAT(body,
              HasSubstr(R"(modelarts_auto_annotation_dataset_samples{dataset_id="ds250"} 250)"));
  EXPECT_THAT(body, HasSubstr(R"(labelwatch_sample_round_truncated{dataset_id="ds250"} 1)"));
  EXPECT_THAT(
      body,
      HasSubstr(
          R"(labelwatch_sample_round_last_success_timestamp_seconds{dataset_id="ds250"} 1606188000)"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "sample_quality_round");
  EXPECT_EQ(events[0].fields.at("dataset_id").as_string(), "ds250");
  EXPECT_EQ(events[0].fields.at("samples").as_int64(), 200);
  EXPECT_TRUE(events[0].fields.at("truncated").as_bool());
  EXPECT_EQ(events[0].fields.at("max_samples").as_uint64(), 200u);
  EXPECT_EQ(events[0].fields.at("list_requests").as_uint64(), 2u);
  EXPECT_EQ(events[1].name, "low_confidence_batch");
  EXPECT_EQ(events[1].level, event_level::warning);
  EXPECT_EQ(events[1].fields.at("median").as_double(),
            events[0].fields.at("score_p50").as_double());
  EXPECT_EQ(events[1].fields.at("threshold").as_double(), 0.99);

  // Still low: a round event, no second warning.
  events.clear();
  ASSERT_TRUE(round(w));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "sample_quality_round");

  // A restart (new monitor, same store) does not repeat the warning.
  monitor = std::make_unique<app::sample_quality_monitor>(
      m, [&](const event& e) { events.push_back(e); }, st.get(), [] { return k_now; });
  monitor->configure(config_with({w}));
  events.clear();
  ASSERT_TRUE(round(w));
  ASSERT_EQ(events.size(), 1u);

  // The threshold lowered below the median: recovery, once.
  w.low_confidence_median = 0.01;
  events.clear();
  ASSERT_TRUE(round(w));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].name, "low_confidence_cleared");
  EXPECT_EQ(events[1].level, event_level::info);
  events.clear();
  ASSERT_TRUE(round(w));
  EXPECT_EQ(events.size(), 1u);

  // sample_quality switched off by a reload: every series of the dataset goes.
  auto off = w;
  off.sample_quality = false;
  monitor->configure(config_with({off}));
  EXPECT_THAT(m.serialize(), Not(HasSubstr("ds250")));
  st->close();
}

TEST(sample_monitor, failure_keeps_previous_figures_and_reports_once) {
  fixture f;
  observe::metrics m("t");
  std::vector<event> events;
  app::sample_quality_monitor monitor(
      m, [&](const event& e) { events.push_back(e); }, nullptr, [] { return k_now; });
  const auto missing = watch_of("dsMissing");
  monitor.configure(config_with({missing}));
  const auto round = [&](const config::watch_config& watch) {
    return f.run<bool>(
        [&]() -> net::awaitable<bool> { co_return co_await monitor.run_round(watch, *f.client); });
  };
  EXPECT_FALSE(round(missing));
  EXPECT_FALSE(round(missing));
  ASSERT_EQ(events.size(), 1u) << "api_error once per distinct failure";
  EXPECT_EQ(events[0].name, "api_error");
  EXPECT_EQ(events[0].fields.at("operation").as_string(), "list_samples");
  EXPECT_EQ(events[0].fields.at("dataset_id").as_string(), "dsMissing");
  const auto body = m.serialize();
  EXPECT_THAT(body, HasSubstr(R"(labelwatch_poll_errors_total{kind="samples")"));
  EXPECT_THAT(body, Not(HasSubstr(R"(modelarts_auto_annotation_samples{dataset_id="dsMissing")")));
}
