// labelwatch: the one-shot CLI. All logic is in lib/app/cli.cpp.
#include "app/cli.hpp"

#include <unistd.h>

#include <iostream>

int main(int argc, char** argv) {
  return labelwatch::app::run_cli(argc, argv, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
}
