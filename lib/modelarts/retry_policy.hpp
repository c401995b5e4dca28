// When a failed API request is sent again, and after how long. Pure: the caller passes
// the elapsed time and a uniform random draw, so every decision is reproducible in tests.
//
// The rules (issue 3, DESIGN.md "Throttling and faults"):
// - Retried: 429 / throttling codes, 502, 503, 504 and network failures (is_retryable in
//   api_error.hpp); also any failure that certainly happened before the request reached
//   the server (resolve, connect, proxy CONNECT or TLS handshake failed or timed out),
//   except a TLS verification failure, which the same request cannot fix.
// - Never retried: other 4xx, 500, a timeout after the request was sent, a decode
//   failure, and auth failures (the one token refresh is the caller's business).
// - A request that is not idempotent (PUT, POST) is retried only when it certainly never
//   reached the server; anything else is left to the acceptance ledger.
// - The delay is the server's Retry-After when it sent one, else exponential backoff with
//   full jitter. The retry budget bounds both the number of attempts and the total time:
//   a retry whose delay would end past the budget is not made, so a Retry-After longer
//   than the budget gives up at once and reports the throttling error.
#pragma once

#include "core/time.hpp"
#include "modelarts/api_error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace labelwatch::modelarts {

struct retry_budget {
  std::uint32_t max_attempts = 4;                     // first attempt included; 1 = never retry
  milliseconds max_total{std::chrono::seconds{30}};   // from the first attempt's start
  milliseconds backoff_base{500};                     // first retry window: [0, base)
  milliseconds backoff_cap{std::chrono::seconds{8}};  // largest window
};

struct retry_decision {
  bool retry = false;
  milliseconds delay{0};
  // Why not (or why): "not retryable", "request may have reached the server",
  // "attempts exhausted", "retry budget exhausted", "retry-after", "backoff".
  std::string_view reason;
};

struct failed_attempt {
  const api_error& error;
  bool idempotent = true;             // GET: true; PUT/POST: false
  bool never_reached_server = false;  // failed before a byte of the request could be sent
};

// `attempts_made` >= 1 counts the attempts so far (including the one that failed);
// `elapsed` is the time since the first attempt started; `unit` is a uniform draw from
// [0, 1) for the jitter.
retry_decision decide_retry(const retry_budget& budget, const failed_attempt& attempt,
                            std::uint32_t attempts_made, milliseconds elapsed,
                            double unit) noexcept;

// Retry-After as delta-seconds ("3") or an HTTP date relative to `now` (a date in the
// past gives zero). nullopt when the value is neither; whitespace around it is ignored.
std::optional<milliseconds> parse_retry_after(std::string_view value, sys_time now) noexcept;

}  // namespace labelwatch::modelarts
