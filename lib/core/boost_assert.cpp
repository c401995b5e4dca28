// Debug builds only (BOOST_ENABLE_ASSERT_DEBUG_HANDLER, see labelwatch_settings.cmake):
// Boost's assertions report here instead of calling assert() directly, so that one
// assertion known to be wrong can be let through while every other one still aborts.
//
// Boost 1.81's Beast asserts `n >= 5` when basic_parser::parse_chunk_header re-enters
// for the final chunk. That holds only when the previous chunk's CRLF is still unread;
// without it the final chunk can be re-entered with "0\r\n" (3 bytes), and the code
// after the assertion handles that correctly (it finds no end of message and asks for
// more). Beast fixed the assertion upstream (boostorg/beast PR 2861, May 2024); our
// fuzz target http_response found it by feeding a response in small pieces, as TCP may.
// Release builds are unaffected: NDEBUG removes the assertion.
#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(BOOST_ENABLE_ASSERT_DEBUG_HANDLER) && !defined(NDEBUG)
namespace boost {

namespace {
bool known_false_assertion(const char* expr, const char* file) noexcept {
  return std::strcmp(expr, "n >= 5") == 0 &&
         std::strstr(file, "boost/beast/http/impl/basic_parser.ipp") != nullptr;
}
}  // namespace

void assertion_failed_msg(const char* expr, const char* msg, const char* function,
                          const char* file, long line) {
  if (known_false_assertion(expr, file)) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr,
               msg != nullptr ? ": " : "", msg != nullptr ? msg : "");
  std::abort();
}

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost
#endif
