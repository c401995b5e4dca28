// labelwatch-sim: the ModelArts simulator as a process. Argument parsing, credentials,
// the ready file and signals; everything else is lib/sim.
#include "core/time.hpp"
#include "core/version.hpp"
#include "observe/diag.hpp"
#include "sim/server.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace lw = labelwatch;
namespace sim = labelwatch::sim;
namespace asio = boost::asio;

namespace {

struct options {
  std::string listen = "127.0.0.1:0";
  std::string ready_file;
  std::string tls = "auto";
  std::string tls_dir;
  std::vector<std::string> tls_names;
  std::string tls_cert, tls_key;
  std::string scenario = "builtin:demo";
  bool dump_scenario = false;
  std::string project_id;
  double speed = 0;
  std::string pagination;
  int not_found = 0;
  std::string auth = "aksk";
  std::string access_key_file, secret_key_file;
  std::string iam_user = "labelwatch", iam_domain = "labelwatch", iam_password_file;
  std::string token_lifetime = "24h";
  std::string max_skew = "15m";
  std::size_t lockout_threshold = 5;
  std::string lockout_duration = "5m";
  std::size_t journal_capacity = 100'000;
  std::size_t max_connections = 1024;
  std::string read_timeout = "30s";
  std::string log_level = "info";
  bool version = false;
};

[[noreturn]] void die(const std::string& message) {
  std::cerr << "labelwatch-sim: " << message << "\n";
  std::exit(2);
}

std::chrono::milliseconds duration_arg(const std::string& flag, const std::string& value) {
  const auto d = lw::parse_duration(value);
  if (!d) die(flag + ": \"" + value + "\" is not a duration like \"30s\", \"5m\", \"24h\"");
  return *d;
}

// A secret from a file (trailing newline removed) or an environment variable.
std::string secret(const std::string& file, const char* env, const std::string& flag) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) die(flag + ": cannot read " + file);
    std::ostringstream s;
    s << in.rdbuf();
    auto v = s.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
    if (v.empty()) die(flag + ": " + file + " is empty");
    return v;
  }
  const char* e = std::getenv(env);
  return e ? std::string(e) : std::string{};
}

void write_ready_file(const std::string& path, const sim::simulator_info& info,
                      const std::string& scenario) {
  boost::json::object o{{"port", info.port},
                        {"base_url", info.base_url},
                        {"ca_file", info.ca_file.string()},
                        {"project_id", info.project_id},
                        {"auth", sim::to_string(info.auth)},
                        {"scenario", scenario},
                        {"pid", static_cast<std::int64_t>(::getpid())}};
  const auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) die("--ready-file: cannot write " + tmp);
    out << boost::json::serialize(o) << "\n";
    if (!out.flush()) die("--ready-file: cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    die("--ready-file: cannot rename " + tmp + " to " + path);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{
      "labelwatch-sim: a ModelArts data-management API simulator (datasets, auto-labeling "
      "and team-labeling tasks, samples, acceptance, IAM tokens) with scripted "
      "lifecycles, AK/SK verification, injectable faults and a request journal.\n"
      "Control API: /_sim/ (loopback only); see README.md, section labelwatch-sim."};
  app.add_option("--listen", o.listen, "Address to bind, host:port; port 0 lets the OS choose")
      ->capture_default_str();
  app.add_option("--ready-file", o.ready_file,
                 "Write {port, base_url, ca_file, project_id, auth, pid} here (JSON) once serving");
  app.add_option("--tls", o.tls,
                 "auto: generate a CA and server certificate; off: plain HTTP; "
                 "files: use --tls-cert/--tls-key")
      ->check(CLI::IsMember({"auto", "off", "files"}))
      ->capture_default_str();
  app.add_option("--tls-dir", o.tls_dir,
                 "With --tls auto: directory for ca.pem, server.pem, server.key (default: a new "
                 "temporary directory)");
  app.add_option("--tls-name", o.tls_names,
                 "With --tls auto: a DNS name or IP address for the certificate (repeatable; "
                 "default localhost, 127.0.0.1, ::1)");
  app.add_option("--tls-cert", o.tls_cert, "Server certificate chain (PEM); implies --tls files");
  app.add_option("--tls-key", o.tls_key, "Server private key (PEM); implies --tls files");
  app.add_option("--scenario", o.scenario,
                 "Scenario file (JSON) or builtin:seeds | builtin:demo | "
                 "builtin:scale?auto=N&workforce=N&datasets=M&seed=S")
      ->capture_default_str();
  app.add_flag("--dump-scenario", o.dump_scenario, "Print the scenario as JSON and exit");
  app.add_option("--project-id", o.project_id, "Project id served (overrides the scenario)");
  app.add_option("--speed", o.speed,
                 "Scenario seconds per wall-clock second (overrides the scenario)");
  app.add_option("--pagination", o.pagination,
                 "How offset is read: page (offset counts pages) or record (offset counts items)")
      ->check(CLI::IsMember({"page", "record"}));
  app.add_option("--not-found", o.not_found,
                 "HTTP status for unknown tasks: 400 (documented) or 404")
      ->check(CLI::IsMember({400, 404}));
  app.add_option("--auth", o.auth,
                 "aksk: verify SDK-HMAC-SHA256 signatures; token: require "
                 "X-Auth-Token from POST /v3/auth/tokens; none: accept anything")
      ->check(CLI::IsMember({"aksk", "token", "none"}))
      ->capture_default_str();
  app.add_option("--access-key-file", o.access_key_file,
                 "File holding the accepted AK (default: env HUAWEICLOUD_SDK_AK)");
  app.add_option("--secret-key-file", o.secret_key_file,
                 "File holding its SK (default: env HUAWEICLOUD_SDK_SK)");
  app.add_option("--iam-user", o.iam_user, "IAM user name accepted by /v3/auth/tokens")
      ->capture_default_str();
  app.add_option("--iam-domain", o.iam_domain, "IAM domain (account) name")->capture_default_str();
  app.add_option("--iam-password-file", o.iam_password_file,
                 "File holding the IAM password (default: env HUAWEICLOUD_SDK_PASSWORD)");
  app.add_option("--token-lifetime", o.token_lifetime, "Validity of issued tokens")
      ->capture_default_str();
  app.add_option("--max-skew", o.max_skew, "Accepted X-Sdk-Date distance from the clock")
      ->capture_default_str();
  app.add_option("--lockout-threshold", o.lockout_threshold,
                 "Lock an AK after more than this many consecutive failures (0: never)")
      ->capture_default_str();
  app.add_option("--lockout-duration", o.lockout_duration, "How long a locked AK stays locked")
      ->capture_default_str();
  app.add_option("--journal-capacity", o.journal_capacity, "Requests kept in the journal")
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections, "Concurrent connections")
      ->capture_default_str();
  app.add_option("--read-timeout", o.read_timeout,
                 "Time a client has to send a request (and idle keep-alive limit)")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  app.add_flag("--version", o.version, "Print the version and exit");
  app.footer(
      "Exit status: 0 stopped by SIGTERM/SIGINT (or --help, --version, --dump-scenario); 2 an "
      "invalid option, scenario, credential or TLS setting (the message names it) or the "
      "address cannot be bound.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; usage errors exit 2 like the
    // other labelwatch programs, not with CLI11's own numbers.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (o.version) {
    std::cout << "labelwatch-sim " << lw::version << "\n";
    return 0;
  }
  lw::observe::init_diagnostics("labelwatch-sim", o.log_level);

  auto loaded = sim::load_scenario(o.scenario);
  if (!loaded) die("--scenario " + o.scenario + ": " + loaded.error().to_string());
  auto world = std::move(*loaded);
  if (!o.project_id.empty()) {
    if (o.project_id.find('/') != std::string::npos) die("--project-id must not contain '/'");
    world.project_id = o.project_id;
  }
  if (o.speed != 0) {
    if (!(o.speed > 0)) die("--speed must be > 0");
    world.speed = o.speed;
  }
  if (!o.pagination.empty()) world.pagination = *sim::parse_pagination_mode(o.pagination);
  if (o.not_found != 0) world.not_found_status = o.not_found;
  if (o.dump_scenario) {
    std::cout << boost::json::serialize(sim::scenario_to_json(world)) << "\n";
    return 0;
  }

  sim::simulator_options so;
  so.listen = o.listen;
  if (!o.tls_cert.empty() || !o.tls_key.empty() || o.tls == "files") {
    if (o.tls_cert.empty() || o.tls_key.empty())
      die("--tls files needs both --tls-cert and --tls-key");
    so.tls = sim::tls_mode::files;
    so.tls_cert = o.tls_cert;
    so.tls_key = o.tls_key;
  } else if (o.tls == "off") {
    so.tls = sim::tls_mode::off;
  } else {
    so.tls = sim::tls_mode::generate;
    so.tls_dir = o.tls_dir;
    if (!o.tls_names.empty()) {
      so.tls_dns_names.clear();
      so.tls_ip_addresses.clear();
      for (const auto& n : o.tls_names) {
        const bool ip = n.find_first_not_of("0123456789.") == std::string::npos ||
                        n.find(':') != std::string::npos;
        (ip ? so.tls_ip_addresses : so.tls_dns_names).push_back(n);
      }
    }
  }
  so.world = std::move(world);
  so.max_connections = o.max_connections;
  so.read_timeout = duration_arg("--read-timeout", o.read_timeout);

  auto& sv = so.service;
  sv.auth = *sim::parse_auth_mode(o.auth);
  sv.aksk.max_skew = duration_arg("--max-skew", o.max_skew);
  sv.aksk.lockout_threshold = o.lockout_threshold;
  sv.aksk.lockout_duration = duration_arg("--lockout-duration", o.lockout_duration);
  sv.token_lifetime = duration_arg("--token-lifetime", o.token_lifetime);
  if (sv.token_lifetime.count() <= 0) die("--token-lifetime must be > 0");
  sv.journal_capacity = o.journal_capacity;
  sv.iam_user = o.iam_user;
  sv.iam_domain = o.iam_domain;
  sv.iam_password = secret(o.iam_password_file, "HUAWEICLOUD_SDK_PASSWORD", "--iam-password-file");
  const auto ak = secret(o.access_key_file, "HUAWEICLOUD_SDK_AK", "--access-key-file");
  const auto sk = secret(o.secret_key_file, "HUAWEICLOUD_SDK_SK", "--secret-key-file");
  if (!ak.empty() && !sk.empty()) sv.keys.push_back({ak, sk});
  if (sv.auth == sim::auth_mode::aksk && sv.keys.empty())
    die("--auth aksk needs an access key pair: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or "
        "--access-key-file and --secret-key-file (or use --auth none)");
  if (sv.auth == sim::auth_mode::token && sv.iam_password.empty())
    die("--auth token needs an IAM password: set HUAWEICLOUD_SDK_PASSWORD or --iam-password-file");

  asio::io_context ioc{1};
  std::unique_ptr<sim::simulator> simulator;
  const auto scenario_name = so.world.name;
  try {
    simulator = std::make_unique<sim::simulator>(ioc.get_executor(), std::move(so));
  } catch (const std::exception& e) {
    die(e.what());
  }
  const auto& info = simulator->info();
  if (!o.ready_file.empty()) write_ready_file(o.ready_file, info, scenario_name);
  std::cout << "labelwatch-sim listening on " << info.base_url << " (project " << info.project_id
            << ", auth " << sim::to_string(info.auth)
            << (info.ca_file.empty() ? std::string() : ", CA " + info.ca_file.string()) << ")"
            << std::endl;

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("labelwatch-sim: signal {}, stopping", sig);
    simulator->stop();
  });
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await simulator->wait_stopped();
        signals.cancel();
      },
      asio::detached);
  ioc.run();
  spdlog::info("labelwatch-sim: stopped");
  return 0;
}
