// The retry decision (see retry_policy.hpp for the rules).
#include "modelarts/retry_policy.hpp"

#include "core/backoff.hpp"

#include <charconv>
#include <limits>

namespace labelwatch::modelarts {
namespace {

bool pre_send_failure_retryable(const failed_attempt& a) noexcept {
  // A certificate that failed verification stays failed; everything else that broke
  // before the request left (DNS, refused connection, proxy, handshake reset or timeout)
  // may well work a moment later.
  return a.never_reached_server && a.error.kind != errc::tls &&
         a.error.kind != errc::invalid_argument && a.error.kind != errc::config_invalid;
}

}  // namespace

retry_decision decide_retry(const retry_budget& budget, const failed_attempt& a,
                            std::uint32_t attempts_made, milliseconds elapsed,
                            double unit) noexcept {
  const bool pre_send = pre_send_failure_retryable(a);
  if (!a.idempotent && !pre_send) {
    return {false, milliseconds{0},
            a.error.http_status != 0 || !a.never_reached_server
                ? std::string_view{"request may have reached the server"}
                : std::string_view{"not retryable"}};
  }
  if (a.error.kind == errc::auth_failed || !(pre_send || is_retryable(a.error)))
    return {false, milliseconds{0}, "not retryable"};
  if (attempts_made >= budget.max_attempts) return {false, milliseconds{0}, "attempts exhausted"};

  milliseconds delay{0};
  std::string_view why;
  if (a.error.retry_after) {
    delay = *a.error.retry_after < milliseconds{0} ? milliseconds{0} : *a.error.retry_after;
    why = "retry-after";
  } else {
    // attempts_made == 1 is the first retry: window [0, base).
    delay = full_jitter_backoff(attempts_made - 1, budget.backoff_base, budget.backoff_cap, unit);
    why = "backoff";
  }
  if (elapsed + delay > budget.max_total) return {false, delay, "retry budget exhausted"};
  return {true, delay, why};
}

std::optional<milliseconds> parse_retry_after(std::string_view v, sys_time now) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (v.front() >= '0' && v.front() <= '9') {
    std::uint64_t seconds = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (p != v.data() + v.size()) return std::nullopt;
    // An absurd delta saturates; the retry budget turns it into "give up".
    constexpr std::uint64_t k_max = std::numeric_limits<std::int64_t>::max() / 1000;
    if (ec == std::errc::result_out_of_range || seconds > k_max)
      return milliseconds{static_cast<milliseconds::rep>(k_max) * 1000};
    if (ec != std::errc{}) return std::nullopt;
    return milliseconds{static_cast<milliseconds::rep>(seconds) * 1000};
  }
  const auto when = parse_http_date(v);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds{0};
  return std::chrono::duration_cast<milliseconds>(*when - now);
}

}  // namespace labelwatch::modelarts
