// libFuzzer target: the HTTPS client's response path (properties in http_response_checks.cpp).
#include "http_response_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  labelwatch::fuzz::check_http_response({reinterpret_cast<const char*>(data), size});
  return 0;
}
