// libFuzzer target: a script of HTTP requests against the simulator's request handler,
// including its control API (format and properties in sim_checks.cpp).
#include "sim_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_sim_requests({reinterpret_cast<const char*>(data), size});
  return 0;
}
