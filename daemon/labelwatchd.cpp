// labelwatchd: argument parsing only; the work is in lib/app.
#include "app/check_config.hpp"
#include "core/version.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  namespace app = labelwatch::app;
  CLI::App cli{"labelwatchd: watches ModelArts labeling tasks"};
  cli.footer("Exit status: 0 success, 2 usage or configuration error.");
  bool show_version = false;
  std::string check_path;
  std::string config_path;
  cli.add_flag("--version", show_version, "Print the version and exit");
  auto* check = cli.add_option("--check-config", check_path,
                               "Validate the configuration file and the files it names, print "
                               "every problem as file:line: key: message, and exit "
                               "(0 valid, 2 invalid)")
                    ->type_name("PATH");
  auto* run = cli.add_option("--config", config_path, "Run with this configuration file")
                  ->type_name("PATH");
  check->excludes(run);
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
  if (run->count() > 0) {
    const auto cfg = app::load_config(config_path, std::cerr);
    if (!cfg) return app::exit_config_error;
    std::cerr << "labelwatchd: " << config_path << " is valid; the daemon is not built yet\n";
    return 1;
  }
  std::cerr << "labelwatchd: nothing to do; use --config PATH, --check-config PATH or --version "
               "(see --help)\n";
  return app::exit_config_error;
}
