#include "app/daemon.hpp"

#include "app/api_stack.hpp"
#include "app/check_config.hpp"
#include "app/engine.hpp"
#include "app/sample_quality.hpp"
#include "app/systemd_notify.hpp"
#include "app/watchdog.hpp"
#include "config/reader.hpp"
#include "core/version.hpp"
#include "modelarts/api_client.hpp"
#include "net/http_server.hpp"
#include "net/https_client.hpp"
#include "net/tls_server.hpp"
#include "observe/api_metrics.hpp"
#include "observe/events.hpp"
#include "observe/http_endpoints.hpp"
#include "observe/http_handler.hpp"
#include "observe/metrics.hpp"
#include "rules/executor.hpp"
#include "observe/webhook.hpp"
#include "store/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <sstream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace labelwatch::app {
namespace {

namespace asio = boost::asio;
using std::chrono::system_clock;

sys_time wall_now() { return std::chrono::floor<milliseconds>(system_clock::now()); }

event plain_event(event_level level, std::string name) {
  event e;
  e.ts = wall_now();
  e.level = level;
  e.name = std::move(name);
  return e;
}

// Everything the daemon owns, in the order it must be torn down: members declared
// later are destroyed first, and the io_context (which owns pending coroutine frames)
// is declared before everything that those frames may refer to.
struct daemon_state final : observe::state_source {
  explicit daemon_state(const daemon_options& o) : options(o) {}

  const daemon_options& options;
  asio::io_context ioc{1};
  config::daemon_config cfg;
  systemd_notifier notifier;
  std::unique_ptr<store::state_store> store;
  observe::metrics metrics{version};
  observe::api_metrics api_observer{metrics};
  observe::event_fanout events;
  std::shared_ptr<observe::event_sink> log_sink;
  std::shared_ptr<observe::event_ring> ring;
  std::shared_ptr<observe::webhook_sink> webhook;
  std::shared_ptr<api_stack> stack;
  std::unique_ptr<sample_quality_monitor> samples;
  std::unique_ptr<engine> eng;
  std::unique_ptr<rules::executor> acceptance;
  std::unique_ptr<observe::http_endpoints> endpoints;
  std::unique_ptr<net::http_server> server;
  std::optional<sys_time> last_loop_turn;
  sys_time started = wall_now();
  bool stopping = false;
  bool config_ok = true;
  loop_state loop = loop_state::not_started;  // as the watchdog last judged it
  std::string loop_problem;                   // why the poll loop is stuck (empty: it is not)
  std::string reload_problem;                 // the last reload was rejected (empty: it was not)

  std::vector<observe::task_view> tasks() const override { return eng->views(); }

  observe::health_view health() const override {
    const auto st = eng->status();
    observe::health_view h;
    h.now = wall_now();
    h.last_loop_turn = last_loop_turn;
    h.loop_stall_after = options.loop_stall_after;
    h.config_loaded = true;
    h.auth_ok = st.auth_ok;
    h.auth_problem = st.auth_problem;
    h.first_poll_done = st.first_round_done;
    h.version = version;
    h.started = started;
    return h;
  }

  std::string status_line() const {
    const auto st = eng->status();
    std::string s = loop_problem.empty() ? "" : "STUCK: " + loop_problem + "; ";
    s += "watching " + std::to_string(st.watched_auto) + " auto and " +
         std::to_string(st.watched_workforce) + " team labeling tasks";
    if (!st.first_round_done) s += "; first poll round running";
    if (!st.auth_ok && !st.auth_problem.empty()) s += "; auth: " + st.auth_problem;
    if (!reload_problem.empty()) s += "; " + reload_problem;
    if (!st.last_error.empty()) s += "; last error: " + st.last_error;
    if (s.size() > 400) s.resize(400);
    return s;
  }

  void publish(const event& e) { events.publish(e); }
};

bool open_store(daemon_state& d) {
  auto opts = store::open_options::from(d.cfg.state);
  auto s = store::state_store::open(opts);
  if (!s && d.options.reset_state) {
    auto moved = store::reset_state(opts.path, wall_now());
    if (!moved) {
      spdlog::critical("--reset-state: {}", moved.error().message);
      return false;
    }
    for (const auto& p : *moved) spdlog::warn("--reset-state: moved the old state aside to {}", p);
    s = store::state_store::open(opts);
  }
  if (!s) {
    spdlog::critical("state store: {}", s.error().message);
    if (s.error().kind == store::error_kind::corrupt ||
        s.error().kind == store::error_kind::newer_schema) {
      spdlog::critical("nothing was changed; to start over deliberately, run labelwatchd "
                       "with --reset-state (the old file is kept next to it)");
    }
    return false;
  }
  d.store = std::move(*s);
  return true;
}

bool make_sinks(daemon_state& d, const config::events_config& ev) {
  auto sink = observe::make_log_sink(ev);
  if (!sink) {
    spdlog::critical("[events] log: {}", sink.error().message);
    return false;
  }
  d.log_sink = *sink;
  d.events.clear();
  d.events.add(d.log_sink);
  d.events.add(d.ring);
  d.events.add(d.webhook);
  d.metrics.declare_event_sink(d.log_sink->name());
  return true;
}

// Starts, re-points or removes the webhook sink; `endpoint` is nullopt without webhook_url.
void apply_webhook(daemon_state& d, std::optional<observe::webhook_endpoint> endpoint) {
  if (endpoint && d.webhook) {
    d.webhook->reconfigure(std::move(*endpoint));
    return;
  }
  if (!endpoint && !d.webhook) return;
  if (d.webhook) {
    d.webhook->stop();
    d.webhook.reset();
  } else {
    spdlog::info("webhook: delivering events to {}", endpoint->display);
    d.webhook = std::make_shared<observe::webhook_sink>(
        d.ioc.get_executor(), std::move(*endpoint), observe::webhook_options{},
        [&d] { d.metrics.count_event_dropped("webhook"); });
    d.webhook->start();
    d.metrics.declare_event_sink(d.webhook->name());
  }
  d.events.clear();
  d.events.add(d.log_sink);
  d.events.add(d.ring);
  d.events.add(d.webhook);
}

// SIGHUP: read the file again and apply it as a difference, or keep the old one.
void reload(daemon_state& d) {
  d.notifier.reloading();
  spdlog::info("reloading {}", d.options.config_path);
  auto reopened = d.events.reopen_all();  // log rotation
  if (!reopened) spdlog::warn("reopening event log: {}", reopened.error().message);

  std::ostringstream messages;
  auto next = load_config(d.options.config_path, messages);
  std::vector<std::string> errors;
  std::shared_ptr<api_stack> stack;
  std::optional<observe::webhook_endpoint> hook;
  if (next) {
    // Reads the webhook secret again; an unreadable one rejects the whole reload.
    auto made_hook = observe::make_webhook_endpoint(d.ioc.get_executor(), next->events);
    if (made_hook)
      hook = std::move(*made_hook);
    else
      errors.push_back(made_hook.error());
    const bool keep_http =
        same_transport(d.cfg.cloud, d.cfg.poll, next->cloud, next->poll);
    auto made = make_api_stack(d.ioc.get_executor(), next->cloud, next->auth, next->poll,
                               &d.api_observer, keep_http ? d.stack->http : nullptr);
    if (made) {
      stack = std::move(*made);
    } else {
      errors.push_back(made.error());
    }
  } else {
    // The checker prints errors, notes and a closing "PATH: N errors" count; the event
    // lists the errors only.
    const auto is_count = [&d](std::string_view l) {
      const std::string head = d.options.config_path + ": ";
      if (!l.starts_with(head)) return false;
      l.remove_prefix(head.size());
      const auto digits = l.find_first_not_of("0123456789");
      return digits != 0 && digits != std::string_view::npos &&
             (l.substr(digits) == " error" || l.substr(digits) == " errors");
    };
    std::string line;
    std::istringstream in(messages.str());
    while (std::getline(in, line))
      if (!line.empty() && line.find(": note: ") == std::string::npos && !is_count(line))
        errors.push_back(line);
  }

  if (!errors.empty()) {
    auto ev = plain_event(event_level::error, "config_rejected");
    ev.fields["path"] = d.options.config_path;
    boost::json::array list;
    for (const auto& e : errors) list.emplace_back(e);
    ev.fields["errors"] = std::move(list);
    d.publish(ev);
    d.metrics.set_config_reload_successful(false);
    for (const auto& e : errors) spdlog::error("reload rejected: {}", e);
    d.reload_problem = "reload rejected (" + std::to_string(errors.size()) +
                       (errors.size() == 1 ? " error" : " errors") + "), previous config running";
    d.notifier.ready(d.status_line());
    return;
  }

  if (next->server.listen != d.cfg.server.listen ||
      next->server.tls_cert_file != d.cfg.server.tls_cert_file ||
      next->server.tls_key_file != d.cfg.server.tls_key_file ||
      next->server.basic_auth_user != d.cfg.server.basic_auth_user ||
      next->server.basic_auth_password_file != d.cfg.server.basic_auth_password_file)
    spdlog::warn("[server] changes take effect at the next restart");
  if (next->state.path != d.cfg.state.path)
    spdlog::warn("[state] path changes take effect at the next restart");
  if (next->events.log != d.cfg.events.log && !make_sinks(d, next->events))
    spdlog::warn("[events] log kept at its previous target");
  apply_webhook(d, std::move(hook));

  const bool kept_connections = stack->http == d.stack->http;
  d.stack = std::move(stack);
  d.eng->configure(*next, shared_api(d.stack));
  d.acceptance->configure(next->acceptance, shared_api(d.stack));
  d.samples->configure(*next);  // datasets that left lose their sample series
  d.cfg = std::move(*next);
  d.metrics.set_config_reload_successful(true);
  d.reload_problem.clear();

  auto ev = plain_event(event_level::info, "config_reloaded");
  ev.fields["path"] = d.options.config_path;
  ev.fields["watches"] = d.cfg.watches.size();
  ev.fields["acceptance_rules"] = d.cfg.acceptance.rules.size();
  ev.fields["connections_kept"] = kept_connections;
  d.publish(ev);
  spdlog::info("reloaded: {}", d.status_line());
  d.notifier.ready(d.status_line());
}

net::awaitable<void> shutdown(daemon_state& d) {
  spdlog::info("stopping: finishing in-flight requests (at most {}s)",
               std::chrono::duration_cast<std::chrono::seconds>(d.options.drain_bound).count());
  d.notifier.stopping();
  d.stopping = true;
  d.eng->stop();
  d.acceptance->stop();
  const auto deadline = std::chrono::steady_clock::now() + d.options.drain_bound;
  bool drained = co_await d.eng->drain(d.options.drain_bound);
  // An acceptance action in progress gets the rest of the bound; if it is abandoned,
  // its ledger intent is resolved at the next start.
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  drained = co_await d.acceptance->drain(std::max(left, milliseconds{0})) && drained;
  if (!drained) spdlog::warn("stopping: abandoned requests still in flight after the bound");
  if (d.webhook) {
    const auto hook = d.webhook;
    const bool delivered = co_await hook->flush(d.options.webhook_flush_bound);
    if (delivered) spdlog::info("stopping: every webhook event was delivered");
  }
  if (d.server) d.server->stop();
  // Whatever is left (abandoned requests, sessions past their grace) is destroyed with
  // the io_context; the store is flushed and closed after the loop.
  d.ioc.stop();
}

net::awaitable<void> handle_signals(daemon_state& d) {
  asio::signal_set signals(d.ioc, SIGHUP, SIGTERM, SIGINT);
  for (;;) {
    auto [ec, signo] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (signo == SIGHUP) {
      reload(d);
      continue;
    }
    // Asio puts SIG_DFL back when the set goes away, and a second Ctrl-C (or timeout(1)
    // signalling its whole process group) would then kill us before the store is closed:
    // from here on these signals are ignored; systemd still has SIGKILL.
    signals.clear();
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);  // no reload while stopping
    co_await shutdown(d);
    co_return;
  }
}

// Marks the loop alive once a second, refreshes STATUS= every 10 s, and pings the
// systemd watchdog every half WatchdogSec, but only while the poll loop makes progress
// (app/watchdog.hpp): a wedged loop stops the pings and systemd restarts us. Running on
// the loop itself, a blocked thread stops them too.
net::awaitable<void> heartbeat(daemon_state& d) {
  using std::chrono::steady_clock;
  asio::steady_timer timer(d.ioc);
  const auto watchdog = d.notifier.watchdog_interval();
  auto next_status = steady_clock::now();
  auto next_ping = next_status;
  while (!d.stopping) {
    auto now = steady_clock::now();
    d.last_loop_turn = wall_now();
    if (watchdog && now >= next_ping) {
      auto health = judge_poll_loop(d.eng->status().loop, now, watchdog_limits::from(d.cfg.poll));
      if (health.progressing()) {
        d.notifier.watchdog();
        next_ping = now + *watchdog;
        if (d.loop == loop_state::driver_quiet || d.loop == loop_state::jobs_stuck)
          spdlog::warn("watchdog: the poll loop progresses again, pinging systemd");
      } else if (health.state != d.loop && health.state != loop_state::not_started) {
        spdlog::error("watchdog: not pinging systemd: {}", health.problem);
        next_status = now;  // say so in STATUS= now, not at the next refresh
      }
      d.loop = health.state;
      d.loop_problem = health.state == loop_state::not_started ? "" : std::move(health.problem);
    }
    if (now >= next_status) {
      d.notifier.status(d.status_line());
      next_status = now + std::chrono::seconds{10};
    }
    auto wake = now + std::chrono::seconds{1};
    if (watchdog && next_ping > now && next_ping < wake) wake = next_ping;
    timer.expires_at(wake);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::critical("{} failed: {}", what, ex.what());
  }
}

int run(daemon_state& d) {
  auto cfg = load_config(d.options.config_path, std::cerr);
  if (!cfg) return exit_startup;
  d.cfg = std::move(*cfg);

  if (!open_store(d)) return exit_startup;
  auto loaded = d.store->load_tasks();
  if (!loaded) {
    spdlog::critical("state store: {}", loaded.error().message);
    return exit_startup;
  }

  d.ring = std::make_shared<observe::event_ring>(d.cfg.events.recent_events);
  if (!make_sinks(d, d.cfg.events)) return exit_startup;
  d.events.on_drop([&d](std::string_view sink) { d.metrics.count_event_dropped(sink); });
  auto hook = observe::make_webhook_endpoint(d.ioc.get_executor(), d.cfg.events);
  if (!hook) {
    spdlog::critical("{}", hook.error());
    return exit_startup;
  }
  apply_webhook(d, std::move(*hook));

  auto stack = make_api_stack(d.ioc.get_executor(), d.cfg.cloud, d.cfg.auth, d.cfg.poll,
                              &d.api_observer);
  if (!stack) {
    spdlog::critical("{}", stack.error());
    return exit_startup;
  }
  d.stack = std::move(*stack);

  d.eng = std::make_unique<engine>(d.ioc.get_executor(), *d.store, d.metrics, d.events);
  const auto restored = loaded->size();
  d.eng->load(std::move(*loaded));
  d.samples = std::make_unique<sample_quality_monitor>(
      d.metrics, [&d](const event& e) { d.publish(e); }, d.store.get());
  d.eng->set_sample_round([&d](const config::watch_config& w, modelarts::api_client& api) {
    return d.samples->run_round(w, api);
  });
  d.samples->configure(d.cfg);
  d.eng->configure(d.cfg, shared_api(d.stack));
  d.metrics.set_config_reload_successful(true);

  rules::executor_options xo;
  xo.crash = rules::crash_point_from_env();  // test-only fault hook, read once
  xo.poll_soon = [&d](const task_key& key) { d.eng->poll_soon(key); };
  d.acceptance = std::make_unique<rules::executor>(d.ioc.get_executor(), *d.store, d.metrics,
                                                   d.events, std::move(xo));
  d.acceptance->configure(d.cfg.acceptance, shared_api(d.stack));
  d.eng->set_workforce_hook([&d](const tracked_task& state) { d.acceptance->on_workforce_state(state); });

  auto basic = observe::load_basic_auth(d.cfg.server);
  if (!basic) {
    spdlog::critical("[server] {}", basic.error().message);
    return exit_startup;
  }
  observe::endpoint_options eo;
  eo.basic_auth = std::move(*basic);
  d.endpoints = std::make_unique<observe::http_endpoints>(d.metrics, *d.ring, d, eo);
  net::server_options so;
  so.listen = d.cfg.server.listen;
  so.max_connections = d.cfg.server.max_connections;
  so.read_timeout = d.cfg.server.idle_timeout;
  so.name = "http";
  try {
    if (!d.cfg.server.tls_cert_file.empty())
      so.tls = net::make_server_tls_context(d.cfg.server.tls_cert_file, d.cfg.server.tls_key_file);
    d.server = std::make_unique<net::http_server>(d.ioc.get_executor(), so,
                                                  observe::make_http_handler(*d.endpoints));
  } catch (const std::exception& e) {
    spdlog::critical("[server] listen {}: {}", d.cfg.server.listen, e.what());
    return exit_startup;
  }

  asio::co_spawn(d.ioc, d.eng->run(), [](std::exception_ptr e) { log_exception(e, "poll loop"); });
  asio::co_spawn(d.ioc, d.acceptance->run(),
                 [](std::exception_ptr e) { log_exception(e, "acceptance executor"); });
  asio::co_spawn(d.ioc, heartbeat(d), [](std::exception_ptr e) { log_exception(e, "heartbeat"); });
  asio::co_spawn(d.ioc, handle_signals(d),
                 [](std::exception_ptr e) { log_exception(e, "signal handling"); });

  auto started = plain_event(event_level::info, "daemon_started");
  started.fields["version"] = version;
  started.fields["config"] = d.options.config_path;
  started.fields["listen"] = d.server->base_url();
  started.fields["restored_tasks"] = restored;
  d.publish(started);
  spdlog::info("labelwatchd {} listening on {} ({} task states restored)", version,
               d.server->base_url(), restored);
  d.notifier.ready(d.status_line());
  if (d.options.on_ready) d.options.on_ready(d.server->base_url());

  d.ioc.run();

  auto flushed = d.store->flush_sync();
  if (!flushed) spdlog::error("state store: final flush failed: {}", flushed.error().message);
  d.store->close();
  spdlog::info("stopped");
  return exit_ok;
}

}  // namespace

int run_daemon(const daemon_options& options) {
  // A closed stdout reader must surface as EPIPE in the event sink, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
#if defined(__GLIBC__)
  // A scrape at 10,000 tasks builds a 20 MB body (and a gzip copy). glibc raises its mmap
  // threshold to the size of a freed mapping, after which such buffers come from the
  // heap and stay resident once freed (~40 MB of RSS); a fixed threshold keeps every
  // buffer of 1 MiB or more in its own mapping, returned to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  // Signals are handled by the loop (signal_set); block nothing else here.
  try {
    daemon_state d(options);
    return run(d);
  } catch (const std::exception& e) {
    spdlog::critical("labelwatchd: {}", e.what());
    return exit_failure;
  }
}

}  // namespace labelwatch::app
