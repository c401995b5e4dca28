// libFuzzer target: team labeling task detail and list decoding (properties in fuzz_checks.cpp).
#include "fuzz_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_workforce_task_documents({reinterpret_cast<const char*>(data), size});
  return 0;
}
