// The seam between the API client and whatever counts its work (the metrics layer
// implements it; tests record with it). Called on the client's executor, synchronously,
// so implementations must be quick and must not throw.
#pragma once

#include "core/error.hpp"
#include "core/time.hpp"
#include "modelarts/api_error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace labelwatch::modelarts {

// Stable operation labels: get_auto_task, get_workforce_task, get_sample,
// list_auto_tasks, list_workforce_tasks, list_samples, list_datasets,
// update_acceptance_status, iam_token.
namespace operation {
inline constexpr std::string_view get_auto_task = "get_auto_task";
inline constexpr std::string_view get_workforce_task = "get_workforce_task";
inline constexpr std::string_view get_sample = "get_sample";
inline constexpr std::string_view list_auto_tasks = "list_auto_tasks";
inline constexpr std::string_view list_workforce_tasks = "list_workforce_tasks";
inline constexpr std::string_view list_samples = "list_samples";
inline constexpr std::string_view list_datasets = "list_datasets";
inline constexpr std::string_view update_acceptance_status = "update_acceptance_status";
inline constexpr std::string_view iam_token = "iam_token";
}  // namespace operation

class api_observer {
 public:
  virtual ~api_observer() = default;

  // One HTTP exchange of `op`: every attempt, retries and the token-refresh retry
  // included (each is a request the server saw, or tried to).
  //   http_status  the response status, 0 when no response arrived
  //   outcome      errc::ok for a 2xx that decoded; else the error class (a 2xx that
  //                did not decode is errc::decode with its status)
  //   duration     from the first byte of work on the exchange (after waiting for an
  //                in-flight slot and the rate limiter) to its end
  virtual void on_request(std::string_view op, unsigned http_status, errc outcome,
                          std::chrono::nanoseconds duration) noexcept = 0;

  // A failed attempt will be sent again after `delay`.
  virtual void on_retry(std::string_view op, const api_error& error,
                        std::chrono::milliseconds delay) noexcept {
    (void)op, (void)error, (void)delay;
  }

  // A new IAM token was obtained; `expires_at` feeds
  // labelwatch_auth_token_expiry_timestamp_seconds.
  virtual void on_token(sys_time expires_at) noexcept { (void)expires_at; }
};

// The `code` label of labelwatch_api_requests_total{operation,code}: the HTTP status
// ("200", "429") when a response arrived, else the error class name ("timeout",
// "network", "tls", "body_too_large", ...; see error_kind_name in api_error.hpp).
std::string request_code_label(unsigned http_status, errc outcome);

}  // namespace labelwatch::modelarts
