// The executor against the simulator in-process (real TLS on loopback) and a real SQLite
// store in a temporary directory: the paths the daemon-level tests cannot time, such as
// a gate that closes between the intent and the PUT, a PUT without an answer, and
// start-up recovery of entries that cannot be resolved.
#include "rules/executor.hpp"

#include "modelarts/api_client.hpp"
#include "net/https_client.hpp"
#include "observe/events.hpp"
#include "observe/metrics.hpp"
#include "sim/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

using namespace labelwatch;
using namespace labelwatch::rules;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// team1: accepting, sampling complete, pass rate 0.98. team2: running but still showing
// its checking task (neither proves nor disproves an action).
constexpr std::string_view k_scenario = R"json({
  "name": "executor-test",
  "acceptance_sync": "1s",
  "datasets": [ {
    "dataset_id": "ds1",
    "workforce_tasks": [
      {"task_id": "team1", "task_name": "team-one", "document": {"status": 2,
        "sample_stats": {"uncheck_sample_count": 10, "accepted_sample_count": 0, "rejected_sample_count": 0},
        "checking_task_desc": {"checking_task_id": "chk1", "checking_stats": {
          "pass_rate": 0.98, "checked_sample_count": 60, "sampling_num": 60}}}},
      {"task_id": "team2", "task_name": "team-two", "document": {"status": 1,
        "checking_task_desc": {"checking_task_id": "chk2", "checking_stats": {
          "pass_rate": 0.98, "checked_sample_count": 60, "sampling_num": 60}}}}
    ]
  } ]
  FAULTS
})json";

template <class T>
T must(boost::system::result<T, std::string> r) {
  if (!r) throw std::runtime_error(r.error());
  return std::move(*r);
}

struct capture_sink final : observe::event_sink {
  std::vector<event> events;
  std::string_view name() const noexcept override { return "capture"; }
  bool deliver(const event& e, std::string_view) override {
    events.push_back(e);
    return true;
  }
};

// Allows the first `allowed` questions, then refuses.
struct countdown_gate final : action_gate {
  mutable int allowed;
  explicit countdown_gate(int n) : allowed(n) {}
  gate_answer may_act() const override {
    if (allowed-- > 0) return {};
    return {false, "test_gate", "the test closed the gate"};
  }
};

config::acceptance_config enforce_config() {
  config::acceptance_rule r;
  r.name = "pass-high";
  r.mode = config::acceptance_mode::enforce;
  r.min_pass_rate = 0.95;
  r.min_checked_samples = 50;
  r.action = config::acceptance_action::pass_all;
  config::acceptance_config c;
  c.task_cooldown = 0ms;
  c.rules = {r};
  return c;
}

struct fixture {
  asio::io_context io;
  std::filesystem::path dir;
  std::unique_ptr<sim::simulator> simulator;
  std::unique_ptr<net::https_client> http;
  std::shared_ptr<modelarts::api_client> client;
  net::origin sim_origin;
  std::unique_ptr<store::state_store> store;
  observe::metrics metrics{"test"};
  observe::event_fanout events;
  std::shared_ptr<capture_sink> sink = std::make_shared<capture_sink>();
  std::unique_ptr<executor> exec;
  int poll_soon_calls = 0;

  explicit fixture(std::string_view faults = "") {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("lw-executor-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    std::string scenario(k_scenario);
    scenario.replace(scenario.find("FAULTS"), 6, faults);
    sim::simulator_options so;
    so.tls_dir = dir / "pki";
    so.world = sim::parse_scenario(scenario, "test").value();
    so.service.auth = sim::auth_mode::none;
    simulator = std::make_unique<sim::simulator>(io.get_executor(), std::move(so));
    sim_origin = net::origin{"https", "127.0.0.1", simulator->info().port};

    net::https_client_options ho;
    ho.proxy_env = net::proxy_environment{};
    ho.ca_file = simulator->info().ca_file.string();
    http = must(net::https_client::create(io.get_executor(), ho));
    modelarts::api_client_options o;
    o.endpoint = simulator->info().base_url;
    o.project_id = simulator->info().project_id;
    o.locale = "zh-cn";
    client = must(modelarts::api_client::create(*http, modelarts::no_auth{}, o));

    store::open_options so2;
    so2.path = (dir / "state.db").string();
    store = std::move(store::state_store::open(so2).value());
    events.add(sink);
  }

  ~fixture() {
    exec.reset();
    store->close();
    client.reset();
    http.reset();
    simulator.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void start(config::acceptance_config cfg, std::shared_ptr<const action_gate> gate = nullptr) {
    executor_options xo;
    xo.poll_soon = [this](const task_key&) { ++poll_soon_calls; };
    exec = std::make_unique<executor>(io.get_executor(), *store, metrics, events, std::move(xo));
    exec->configure(cfg, client);
    if (gate) exec->add_gate(std::move(gate));
    asio::co_spawn(io, exec->run(), asio::detached);
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

  // Runs the loop until `done` or 15 s pass.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_one_for(20ms);
    }
    return true;
  }

  // The task as the engine would hand it over after a poll.
  tracked_task observe(const std::string& task_id) {
    auto doc = run<modelarts::api_result<modelarts::workforce_task>>(
        [&]() -> net::awaitable<modelarts::api_result<modelarts::workforce_task>> {
          co_return co_await client->get_workforce_task("ds1", task_id, false, nullptr);
        });
    if (!doc) throw std::runtime_error("GET " + task_id + ": " + doc.error().summary());
    tracked_task t;
    t.key = task_key{task_kind::workforce, "ds1", task_id};
    t.name = doc->task_name;
    t.fingerprint = movement_fingerprint(*doc);
    t.snapshot = *doc;
    return t;
  }

  std::vector<store::ledger_entry> ledger() {
    auto r = run<store::store_result<std::vector<store::ledger_entry>>>(
        [&]() -> net::awaitable<store::store_result<std::vector<store::ledger_entry>>> {
          co_return co_await store->ledger_recent(100);
        });
    auto rows = r.value();
    std::reverse(rows.begin(), rows.end());
    return rows;
  }

  std::int64_t begin_intent(const std::string& task_id, const std::string& checking) {
    store::ledger_entry e;
    e.dataset_id = "ds1";
    e.task_id = task_id;
    e.checking_task_id = checking;
    e.mode = config::acceptance_mode::enforce;
    e.rule = "pass-high";
    e.explanation = R"({"pass_rate":0.98})";
    e.state = store::ledger_state::intent;
    auto r = run<store::store_result<store::ledger_begin_result>>(
        [&]() -> net::awaitable<store::store_result<store::ledger_begin_result>> {
          co_return co_await store->ledger_begin(e);
        });
    return r.value().entry.id;
  }

  // PUTs the simulator saw.
  std::vector<json::object> puts() {
    auto body = run<std::string>([&]() -> net::awaitable<std::string> {
      net::client_request req{net::http_method::get, "/_sim/journal?since=0&method=PUT", {}, {}};
      const auto to = sim_origin;
      auto r = co_await http->send(to, std::move(req));
      co_return r ? r->body : std::string();
    });
    const auto journal = json::parse(body);
    std::vector<json::object> out;
    for (const auto& e : journal.at("entries").as_array()) out.push_back(e.as_object());
    return out;
  }

  std::vector<const event*> named(std::string_view name) const {
    std::vector<const event*> out;
    for (const auto& e : sink->events)
      if (e.name == name) out.push_back(&e);
    return out;
  }
};

std::string field(const event& e, std::string_view k) {
  const auto* v = e.fields.if_contains(k);
  if (!v) return "<absent>";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

}  // namespace

TEST(executor, applies_once_with_the_configured_locale_and_records_done) {
  fixture f;
  f.start(enforce_config());
  const auto polled = f.observe("team1");
  f.exec->on_workforce_state(polled);
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_decision").empty(); }));
  const auto& ev = *f.named("acceptance_decision").front();
  EXPECT_EQ(field(ev, "outcome"), "applied");
  EXPECT_EQ(field(ev, "checking_task_id"), "chk1");
  EXPECT_EQ(f.poll_soon_calls, 1);
  const auto puts = f.puts();
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_NE(std::string(puts[0].at("query").as_string()).find("locale=zh-cn"), std::string::npos);
  const auto rows = f.ledger();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::ledger_state::done);

  // The same state again (a poll from before the task moved): nothing more.
  f.exec->on_workforce_state(polled);
  f.run_until([&] { return f.exec->stats().evaluations >= 2; });
  EXPECT_EQ(f.puts().size(), 1u);
  EXPECT_EQ(f.named("acceptance_decision").size(), 1u);
}

TEST(executor, a_gate_closing_after_the_intent_sends_nothing) {
  fixture f;
  // Open for the check before the intent, closed for the one before the PUT.
  f.start(enforce_config(), std::make_shared<countdown_gate>(1));
  f.exec->on_workforce_state(f.observe("team1"));
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_decision").empty(); }));
  const auto& ev = *f.named("acceptance_decision").front();
  EXPECT_EQ(field(ev, "outcome"), "skipped");
  EXPECT_EQ(field(ev, "guard"), "test_gate");
  EXPECT_EQ(f.exec->stats().puts_sent, 0u);
  EXPECT_TRUE(f.puts().empty());
  const auto rows = f.ledger();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::ledger_state::not_applied);
  EXPECT_NE(rows[0].outcome.message.find("not sent"), std::string::npos);
  EXPECT_EQ(f.exec->stats().open_entries, 0u);
}

TEST(executor, the_kill_switch_before_the_intent_writes_nothing) {
  fixture f;
  auto cfg = enforce_config();
  cfg.enabled = false;
  f.start(cfg);
  f.exec->on_workforce_state(f.observe("team1"));
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_decision").empty(); }));
  EXPECT_EQ(field(*f.named("acceptance_decision").front(), "guard"), "disabled");
  EXPECT_TRUE(f.ledger().empty());
  EXPECT_TRUE(f.puts().empty());
  // Reported once, not on every poll.
  f.exec->on_workforce_state(f.observe("team1"));
  f.run_until([&] { return f.exec->stats().evaluations >= 2; });
  EXPECT_EQ(f.named("acceptance_decision").size(), 1u);
}

TEST(executor, a_put_without_an_answer_is_resolved_from_the_task_and_never_resent) {
  fixture f(R"(, "faults": [ {"kind": "close", "endpoint": "acceptance", "count": 1} ])");
  f.start(enforce_config());
  f.exec->on_workforce_state(f.observe("team1"));
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_decision").empty(); }));
  const auto& ev = *f.named("acceptance_decision").front();
  EXPECT_EQ(field(ev, "outcome"), "failed");
  EXPECT_EQ(field(ev, "uncertain"), "true");
  auto rows = f.ledger();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::ledger_state::sent);
  EXPECT_EQ(f.exec->stats().open_entries, 1u);

  // The next poll shows the same checking task still accepting: it did not happen. It
  // was reported as failed and stays failed; nothing is sent again.
  f.exec->on_workforce_state(f.observe("team1"));
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_recovery").empty(); }));
  const auto& rec = *f.named("acceptance_recovery").front();
  EXPECT_EQ(field(rec, "state"), "failed");
  EXPECT_EQ(field(rec, "previous_state"), "sent");
  f.run_until([&] { return f.exec->stats().evaluations >= 2; });
  rows = f.ledger();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::ledger_state::failed);
  EXPECT_EQ(f.exec->stats().puts_sent, 1u);
  EXPECT_EQ(f.puts().size(), 1u);
  EXPECT_EQ(f.named("acceptance_decision").size(), 1u);
}

TEST(executor, start_up_recovery_leaves_what_it_cannot_tell_for_a_person) {
  fixture f;
  const auto team2 = f.begin_intent("team2", "chk2");      // running, same checking task
  const auto gone = f.begin_intent("nosuchtask", "chk9");  // the task does not exist
  const auto team1 = f.begin_intent("team1", "chk1");      // accepting: certainly not applied
  f.start(enforce_config());
  ASSERT_TRUE(f.run_until([&] { return f.named("acceptance_recovery").size() == 3; }));
  std::map<std::int64_t, store::ledger_state> states;
  for (const auto& r : f.ledger()) states[r.id] = r.state;
  EXPECT_EQ(states[team2], store::ledger_state::unknown);
  EXPECT_EQ(states[gone], store::ledger_state::unknown);
  EXPECT_EQ(states[team1], store::ledger_state::not_applied);
  for (const auto* e : f.named("acceptance_recovery")) {
    if (field(*e, "state") == "unknown") {
      EXPECT_EQ(e->level, event_level::error);
      EXPECT_NE(field(*e, "action_needed"), "<absent>");
    }
  }
  EXPECT_TRUE(f.puts().empty());
  EXPECT_EQ(f.exec->stats().open_entries, 0u);

  // team1 may now be decided again, once.
  f.exec->on_workforce_state(f.observe("team1"));
  ASSERT_TRUE(f.run_until([&] { return !f.named("acceptance_decision").empty(); }));
  EXPECT_EQ(field(*f.named("acceptance_decision").front(), "outcome"), "applied");
  EXPECT_EQ(f.puts().size(), 1u);

  // team2's unknown entry keeps the rule off that checking task for good.
  auto cfg = enforce_config();
  cfg.rules[0].when_status = {workforce_status::running};
  f.exec->configure(cfg, f.client);
  f.exec->on_workforce_state(f.observe("team2"));
  const auto before = f.exec->stats().evaluations;
  f.run_until([&] { return f.exec->stats().evaluations > before; });
  EXPECT_EQ(f.puts().size(), 1u);
  EXPECT_EQ(f.named("acceptance_decision").size(), 1u);
}
