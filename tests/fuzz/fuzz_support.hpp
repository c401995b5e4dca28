// What the property files share: how a property failure is reported, and a UTF-8
// check written independently of lib/core/utf8 so that it can judge that code's output.
#pragma once

#include <string_view>

namespace labelwatch::fuzz {

// Prints "fuzz property violated: <what>" and up to 2,000 bytes of detail, then aborts.
[[noreturn]] void violated(const char* what, std::string_view detail);

#define FUZZ_REQUIRE(cond, detail)          \
  do {                                      \
    if (!(cond)) violated(#cond, (detail)); \
  } while (false)

// Whether `s` is well-formed UTF-8 (RFC 3629).
bool valid_utf8(std::string_view s);

}  // namespace labelwatch::fuzz
