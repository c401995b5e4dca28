#include "core/version.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"labelwatchd: watches ModelArts labeling tasks"};
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (show_version) {
    std::cout << "labelwatchd " << labelwatch::version << "\n";
    return 0;
  }
  std::cerr << "labelwatchd: the daemon is not built yet\n";
  return 2;
}
