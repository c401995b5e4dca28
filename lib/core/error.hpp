// labelwatch's error codes and their boost::system category.
//
// Expected failures travel as values: `result<T>` (boost::system::result) carrying one
// of these codes, usually with a human-readable detail next to it. Exceptions are left
// for "a dependency is down" and for bugs, and are caught at task boundaries.
//
// The first nine values are the API error classes that DESIGN.md and the metrics use
// as the `reason` label; their names are stable.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace labelwatch {

enum class errc : int {
  ok = 0,
  // API error classes (labelwatch_poll_errors_total{reason}, api_error events).
  auth_failed = 1,   // 401, APIG.0301, token errors, IAM refusal
  throttled,         // 429, APIG.0308, ModelArts.4206 / 2799
  not_found,         // 404, or 400 with ModelArts.4612 / 4619 / 4631 / 4636
  client_error,      // any other 4xx
  server_error,      // 5xx
  timeout,           // request_timeout elapsed
  network,           // resolve / connect / reset / truncated response
  tls,               // handshake or certificate verification failed
  decode,            // a body that cannot be understood
  // Everything else.
  invalid_argument = 100,
  config_invalid,
  store_failed,
  cancelled,
  body_too_large,
};

const boost::system::error_category& labelwatch_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), labelwatch_category()};
}

// Stable lower-case name of an error class, e.g. "auth_failed"; "other" outside 1..9.
std::string_view reason_name(errc e) noexcept;

template <class T>
using result = boost::system::result<T>;

}  // namespace labelwatch

namespace boost::system {
template <>
struct is_error_code_enum<labelwatch::errc> : std::true_type {};
}  // namespace boost::system
