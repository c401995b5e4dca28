// libFuzzer target: AK/SK signer canonicalisation and Authorization parsing (properties in fuzz_checks.cpp).
#include "fuzz_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_signer({reinterpret_cast<const char*>(data), size});
  return 0;
}
