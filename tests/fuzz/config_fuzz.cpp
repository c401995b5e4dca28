// libFuzzer target: arbitrary bytes as a configuration file (properties in config_checks.cpp).
#include "config_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_config_document({reinterpret_cast<const char*>(data), size});
  return 0;
}
