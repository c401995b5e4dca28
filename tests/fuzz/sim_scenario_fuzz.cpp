// libFuzzer target: arbitrary bytes as a labelwatch-sim scenario file (properties in
// sim_checks.cpp).
#include "sim_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_sim_scenario({reinterpret_cast<const char*>(data), size});
  return 0;
}
