// Test-only server for the observe layer: the real metrics registry, event ring,
// endpoints and status page behind the real net::http_server, fed by a small scripted
// scenario instead of the daemon. It lets the Prometheus and Chromium helpers
// (prom.py, browser.py) and the ops-file checks run before the daemon is wired.
//
//   observe_fixture_server --ready-file F [--tick-ms 200] [--basic-auth-user U
//                          --basic-auth-password-file P]
//   observe_fixture_server --print-family-names   every registered family, one a line
//   observe_fixture_server --print-metrics        a /metrics body with every family
//                                                 populated from the seed documents
#include "core/version.hpp"
#include "net/http_server.hpp"
#include "observe/events.hpp"
#include "observe/http_endpoints.hpp"
#include "observe/http_handler.hpp"
#include "observe/metrics.hpp"
#include "observe/views.hpp"

#include "../unit/observe/fixtures.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>

namespace {

using namespace labelwatch;
namespace asio = boost::asio;
namespace fx = observe::fixtures;

sys_time wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

struct tracked {
  task_key key;
  modelarts::auto_task auto_doc;
  modelarts::workforce_task wf_doc;
  sys_time since{};
  bool stalled = false;
  std::string last_error;
};

// The scripted world: one auto task that runs to success, a failed auto task whose name
// is markup, a team task in acceptance, a stalled team task.
class scenario final : public observe::state_source {
 public:
  scenario(observe::metrics& m, observe::event_fanout& events) : m_(m), events_(events) {
    const auto now = wall_now();
    started_ = now;

    tracked a{fx::auto_key(), fx::seed_auto_task(), {}, now};
    add(a);

    tracked bad{fx::auto_key("ds-quality", "failedTask0001"),
                fx::seed_auto_task(),
                {},
                now - std::chrono::hours(2)};
    bad.auto_doc.task_name = "<script>alert(1)</script>";
    bad.auto_doc.status_code = 2;
    bad.auto_doc.progress = 37.0;
    bad.auto_doc.error_code = "ModelArts.4352";
    bad.auto_doc.error_msg = "training job failed: <out of memory> & \"quota\"";
    add(bad);

    tracked wf{
        fx::workforce_key(), {}, fx::accepting_workforce_task(), now - std::chrono::minutes(42)};
    add(wf);

    tracked st{fx::workforce_key("ds-quality", "stalledTeam01"),
               {},
               fx::seed_workforce_task(),
               now - std::chrono::hours(5)};
    st.wf_doc.task_name = "team 'quality' & review";
    st.stalled = true;
    st.last_error = "timeout after 10s (get_workforce_task)";
    add(st);

    m_.set_tracked_tasks(task_kind::auto_labeling, 2);
    m_.set_tracked_tasks(task_kind::workforce, 2);
    m_.set_config_reload_successful(true);
    m_.declare_acceptance_rule("pass-high-quality", "pass_all");
    for (auto& t : tasks_) publish(t);
  }

  // One scripted step: the running auto task advances 5 points; at 100 it succeeds.
  void tick() {
    const auto now = wall_now();
    last_turn_ = now;
    first_round_ = true;
    auto& a = tasks_.front();
    if (a.auto_doc.status_code == 1) {
      a.auto_doc.progress = std::min(100.0, a.auto_doc.progress.value_or(0) + 5.0);
      m_.observe_api_response("get_auto_task", 200, 0.012);
      if (*a.auto_doc.progress >= 100.0) {
        a.auto_doc.status_code = 3;
        auto e = make_task_event(now, event_level::info, "task_status_changed", a.key,
                                 a.auto_doc.task_name);
        e.fields["from"] = "running";
        e.fields["to"] = "succeeded";
        e.fields["from_code"] = 1;
        e.fields["to_code"] = 3;
        e.fields["seconds_in_previous"] =
            std::chrono::duration_cast<std::chrono::seconds>(now - a.since).count();
        a.since = now;
        m_.count_transition(task_kind::auto_labeling, 1, 3);
        events_.publish(e);
      } else {
        auto e =
            make_task_event(now, event_level::info, "task_progress", a.key, a.auto_doc.task_name);
        e.fields["progress"] = *a.auto_doc.progress;
        events_.publish(e);
      }
    }
    m_.observe_api_response("get_workforce_task", 200, 0.02);
    m_.observe_api_response("get_workforce_task", 429, 0.004);
    m_.count_poll_error(task_kind::workforce, errc::throttled);
    for (auto& t : tasks_) update_metrics(t, now);
  }

  std::vector<observe::task_view> tasks() const override {
    std::vector<observe::task_view> out;
    for (const auto& t : tasks_) {
      auto v = t.key.kind == task_kind::auto_labeling ? observe::make_task_view(t.key, t.auto_doc)
                                                      : observe::make_task_view(t.key, t.wf_doc);
      v.status_since = t.since;
      v.last_success = last_turn_;
      v.stalled = t.stalled;
      if (!t.last_error.empty()) {
        v.last_error = t.last_error;
        v.last_error_at = started_;
      }
      out.push_back(std::move(v));
    }
    return out;
  }

  observe::health_view health() const override {
    observe::health_view h;
    h.now = wall_now();
    h.last_loop_turn = last_turn_;
    h.config_loaded = true;
    h.auth_ok = true;
    h.first_poll_done = first_round_;
    h.version = labelwatch::version;
    h.started = started_;
    return h;
  }

 private:
  void add(tracked t) { tasks_.push_back(std::move(t)); }

  void publish(const tracked& t) {
    const auto& name =
        t.key.kind == task_kind::auto_labeling ? t.auto_doc.task_name : t.wf_doc.task_name;
    auto e = make_task_event(t.since, event_level::info, "task_discovered", t.key, name);
    events_.publish(e);
    if (t.stalled) {
      auto s = make_task_event(t.since, event_level::warning, "task_stalled", t.key, name);
      s.fields["stalled_for_seconds"] = 1800;
      events_.publish(s);
    }
  }

  void update_metrics(const tracked& t, sys_time now) {
    if (t.key.kind == task_kind::auto_labeling) {
      m_.update_auto_task(t.key, t.auto_doc, t.since, now);
    } else {
      m_.update_workforce_task(t.key, t.wf_doc, t.since, now, true);
    }
  }

  observe::metrics& m_;
  observe::event_fanout& events_;
  std::vector<tracked> tasks_;
  sys_time started_{};
  std::optional<sys_time> last_turn_;
  bool first_round_ = false;
};

// Every family with at least one series, values from the seed documents.
std::string realistic_exposition() {
  observe::metrics m(labelwatch::version);
  observe::event_fanout fan;
  scenario s(m, fan);
  s.tick();
  m.count_transition(task_kind::auto_labeling, -1, 1);
  m.count_transition(task_kind::auto_labeling, 1, 2);
  m.count_transition(task_kind::workforce, 1, 7);
  m.count_transition(task_kind::workforce, 7, 2);
  m.count_acceptance("pass-high-quality", "pass_all", observe::acceptance_outcome::dry_run);
  m.observe_api_failure("get_auto_task", errc::timeout, 10.0);
  m.count_event_dropped("file");
  m.observe_scheduler_lag(0.004);
  m.count_state_write_error("full");
  m.set_token_expiry(wall_now() + std::chrono::hours(23));
  observe::sample_quality_view q;
  q.samples_by_status = {{"UN_ANNOTATION", 1200}, {"__AUTO_ANNOTATION__", 800}};
  for (int i = 0; i < 2000; ++i) q.scores[""].add((i % 100) / 100.0);
  for (int i = 0; i < 300; ++i) q.scores["car"].add(0.3 + (i % 70) / 100.0);
  q.hard_samples = 140;
  q.hard_reasons = {{"3_training_outlier", 90}, {"1_low_confidence", 50}};
  q.dataset_samples = 2600;
  q.truncated = true;
  m.update_sample_quality("WxCREuCkBSAlQr9xrde", q, wall_now());
  return m.serialize();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"observe_fixture_server: labelwatch's observe layer on a scripted scenario"};
  std::string ready_file, listen = "127.0.0.1:0", auth_user, auth_password_file;
  int tick_ms = 200;
  bool print_names = false, print_metrics = false;
  app.add_option("--ready-file", ready_file, "Write {\"url\":...} here once listening");
  app.add_option("--listen", listen, "host:port");
  app.add_option("--tick-ms", tick_ms, "Scenario step interval");
  app.add_option("--basic-auth-user", auth_user);
  app.add_option("--basic-auth-password-file", auth_password_file);
  app.add_flag("--print-family-names", print_names);
  app.add_flag("--print-metrics", print_metrics);
  CLI11_PARSE(app, argc, argv);

  if (print_names) {
    for (const auto& n : observe::metrics("x").family_names()) std::cout << n << "\n";
    return 0;
  }
  if (print_metrics) {
    std::cout << realistic_exposition();
    return 0;
  }

  config::server_config sc;
  sc.basic_auth_user = auth_user;
  sc.basic_auth_password_file = auth_password_file;
  auto creds = observe::load_basic_auth(sc);
  if (!creds) {
    std::cerr << "observe_fixture_server: " << creds.error().message << "\n";
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN);  // see observe/events.hpp
  asio::io_context ioc;
  observe::metrics m(labelwatch::version);
  auto ring = std::make_shared<observe::event_ring>(500);
  observe::event_fanout fan;
  fan.add(ring);
  fan.add(std::make_shared<observe::stream_sink>(1));
  fan.on_drop([&m](std::string_view sink) { m.count_event_dropped(sink); });
  scenario world(m, fan);
  world.tick();

  observe::endpoint_options opts;
  opts.basic_auth = *creds;
  observe::http_endpoints endpoints(m, *ring, world, opts);
  net::server_options so;
  so.listen = listen;
  so.name = "observe-fixture";
  net::http_server server(ioc.get_executor(), so, observe::make_http_handler(endpoints));

  asio::steady_timer ticker(ioc);
  std::function<void()> schedule = [&] {
    ticker.expires_after(std::chrono::milliseconds(tick_ms));
    ticker.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      world.tick();
      schedule();
    });
  };
  schedule();

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    ticker.cancel();
    server.stop();
  });

  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << boost::json::serialize(boost::json::object{
          {"url", server.base_url()}, {"port", server.port()}, {"pid", ::getpid()}});
    }
    std::rename(tmp.c_str(), ready_file.c_str());
  }
  ioc.run();
  return 0;
}
