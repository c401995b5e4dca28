#include "app/demo.hpp"

#include "app/daemon.hpp"
#include "net/http_server.hpp"
#include "sim/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <sys/stat.h>

namespace labelwatch::app {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

std::string random_token(std::size_t n, std::string_view alphabet) {
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(n, ' ');
  for (auto& c : out) c = alphabet[pick(rd)];
  return out;
}

void write_private(const fs::path& p, const std::string& content) {
  std::ofstream f(p, std::ios::trunc);
  f << content << "\n";
  f.close();
  ::chmod(p.c_str(), 0600);
}

// The configured address if it can be bound now, else the same host with port 0.
std::string usable_listen(const std::string& listen) {
  std::string host;
  std::uint16_t port = 0;
  if (!net::parse_listen_address(listen, host, port)) return listen;
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return listen;
  const asio::ip::tcp::endpoint ep(address, port);
  probe.open(ep.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(ep, ec);
  if (!ec) return listen;
  std::cerr << "labelwatch demo: " << listen << " is in use; using a free port instead\n";
  return host + ":0";
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int run_demo(const demo_options& options) {
  char tmpl[] = "/tmp/labelwatch-demo-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::cerr << "labelwatch demo: cannot create a temporary directory under /tmp\n";
    return exit_startup;
  }
  const fs::path dir = tmpl;
  const std::string ak = random_token(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  const std::string sk =
      random_token(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

  auto world = sim::load_scenario(options.scenario);
  if (!world) {
    std::cerr << "labelwatch demo: " << world.error().to_string() << "\n";
    return exit_startup;
  }
  std::vector<std::string> datasets;
  for (const auto& d : world->datasets) datasets.push_back(d.dataset_id);

  // The simulator gets its own thread, so the daemon's loop is measured on its own.
  asio::io_context sim_io{1};
  auto guard = asio::make_work_guard(sim_io);
  sim::simulator_options so;
  so.world = std::move(*world);
  so.tls_dir = dir / "pki";
  so.service.keys = {{ak, sk}};
  so.service.journal_capacity = 10'000;
  std::unique_ptr<sim::simulator> simulator;
  try {
    simulator = std::make_unique<sim::simulator>(sim_io.get_executor(), std::move(so));
  } catch (const std::exception& e) {
    std::cerr << "labelwatch demo: simulator: " << e.what() << "\n";
    return exit_startup;
  }
  std::thread sim_thread([&] { sim_io.run(); });
  const auto info = simulator->info();

  fs::create_directories(dir / "credentials");
  write_private(dir / "credentials" / "ak", ak);
  write_private(dir / "credentials" / "sk", sk);

  std::ostringstream cfg;
  cfg << "# Written by labelwatchd --demo: the daemon watching the embedded simulator.\n"
      << "[cloud]\nendpoint = " << toml_string(info.base_url) << "\n"
      << "project_id = " << toml_string(info.project_id) << "\n"
      << "ca_file = " << toml_string(info.ca_file.string()) << "\n\n"
      << "[auth]\nmethod = \"aksk\"\n"
      << "access_key_file = " << toml_string((dir / "credentials" / "ak").string()) << "\n"
      << "secret_key_file = " << toml_string((dir / "credentials" / "sk").string()) << "\n\n"
      << "[poll]\nactive_interval = \"2s\"\nidle_interval = \"10s\"\nterminal_interval = \"30s\"\n"
      << "stall_after = \"45s\"\nmax_rate = 50.0\n\n";
  for (const auto& d : datasets)
    cfg << "[[watch]]\ndataset_id = " << toml_string(d)
        << "\ndiscover = true\ndiscover_interval = \"10s\"\nworker_metrics = true\n"
        << "sample_quality = true\nsample_quality_interval = \"1m\"\n\n";
  cfg << "[server]\nlisten = " << toml_string(usable_listen(options.listen)) << "\n\n"
      << "[state]\npath = " << toml_string((dir / "state.db").string()) << "\n\n"
      << "[events]\nlog = \"stdout\"\n\n"
      // Dry-run rules only: the demo shows acceptance_decision events (the flowers team
      // task passes at 0.98, the dashcam one would be rejected at 0.85) and sends nothing.
      << "[acceptance]\nenabled = true\nmax_actions_per_hour = 10\ntask_cooldown = \"30m\"\n\n"
      << "[[acceptance.rule]]\nname = \"demo-pass-high-quality\"\nmode = \"dry-run\"\n"
      << "datasets = [\"*\"]\nwhen_status = [\"accepting\"]\nmin_pass_rate = 0.95\n"
      << "min_checked_samples = 50\nrequire_sampling_complete = true\naction = \"pass_all\"\n\n"
      << "[[acceptance.rule]]\nname = \"demo-reject-low-quality\"\nmode = \"dry-run\"\n"
      << "datasets = [\"*\"]\nwhen_status = [\"accepting\"]\nmax_pass_rate = 0.9\n"
      << "min_checked_samples = 30\nrequire_sampling_complete = true\naction = \"reject_all\"\n";
  const fs::path config_path = dir / "labelwatch.toml";
  {
    std::ofstream f(config_path);
    f << cfg.str();
  }

  daemon_options d;
  d.config_path = config_path.string();
  d.on_ready = [&](const std::string& base) {
    std::cerr << "\n"
              << "labelwatch demo is running\n"
              << "  status page    " << base << "/\n"
              << "  metrics        " << base << "/metrics\n"
              << "  tasks (JSON)   " << base << "/api/v1/tasks\n"
              << "  events (JSON)  " << base << "/api/v1/events\n"
              << "  simulator      " << info.base_url << "  (CA " << info.ca_file.string()
              << ", journal " << info.base_url << "/_sim/journal)\n"
              << "  config, state  " << dir.string() << "\n"
              << "Events follow on stdout, one JSON object per line. Ctrl-C stops.\n\n";
  };
  const int rc = run_daemon(d);

  simulator->stop();
  guard.reset();
  sim_io.stop();
  sim_thread.join();
  simulator.reset();
  std::cerr << "labelwatch demo: stopped; config and state are kept in " << dir.string() << "\n";
  return rc;
}

}  // namespace labelwatch::app
