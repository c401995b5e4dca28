// labelwatchd: argument parsing only; the work is in lib/app.
#include "app/check_config.hpp"
#include "app/daemon.hpp"
#include "app/demo.hpp"
#include "core/version.hpp"
#include "observe/diag.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  namespace app = labelwatch::app;
  CLI::App cli{"labelwatchd: watches Huawei Cloud ModelArts labeling tasks"};
  cli.footer(
      "Exit status: 0 clean stop or valid configuration; 1 unexpected failure; 2 usage, "
      "configuration, credentials or state store unusable at start-up.\n"
      "Signals: SIGHUP reloads the configuration (an invalid one keeps the old); SIGTERM and "
      "SIGINT stop gracefully.");
  bool show_version = false;
  bool demo = false;
  bool reset_state = false;
  std::string check_path;
  std::string config_path;
  std::string log_level = "info";
  std::string demo_listen = "127.0.0.1:9464";
  cli.add_flag("--version", show_version, "Print the version and exit");
  auto* check = cli.add_option("--check-config", check_path,
                               "Validate the configuration file and the files it names, print "
                               "every problem as file:line: key: message, and exit "
                               "(0 valid, 2 invalid)")
                    ->type_name("PATH");
  auto* run = cli.add_option("--config", config_path, "Run with this configuration file")
                  ->type_name("PATH");
  auto* demo_flag = cli.add_flag(
      "--demo", demo,
      "Run the embedded ModelArts simulator on loopback and watch it (state in a temporary "
      "directory)");
  cli.add_option("--demo-listen", demo_listen,
                 "Status page and /metrics address for --demo (default 127.0.0.1:9464)")
      ->type_name("HOST:PORT");
  cli.add_flag("--reset-state", reset_state,
               "If the state database cannot be used (corrupt, newer schema), move it aside "
               "(renamed with a timestamp, never deleted) and start with a fresh one");
  cli.add_option("--log-level", log_level,
                 "Diagnostics on stderr: trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  check->excludes(run);
  demo_flag->excludes(run);
  demo_flag->excludes(check);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : app::exit_config_error;
  }
  if (show_version) {
    std::cout << "labelwatchd " << labelwatch::version << "\n";
    return 0;
  }
  if (check->count() > 0) return app::check_config(check_path, std::cout, std::cerr);
  labelwatch::observe::init_diagnostics("labelwatchd", log_level);
  if (demo) return app::run_demo(app::demo_options{.listen = demo_listen});
  if (run->count() > 0) {
    return app::run_daemon(app::daemon_options{.config_path = config_path,
                                               .reset_state = reset_state});
  }
  std::cerr << "labelwatchd: nothing to do; use --config PATH, --demo, --check-config PATH or "
               "--version (see --help)\n";
  return app::exit_config_error;
}
