// The `[poll] max_rate` limiter: a token bucket over request starts. Pure: the caller
// passes `now` (a steady-clock reading it took itself), so tests drive it with plain values.
//
// Reservation semantics: `reserve` always takes a token, borrowing from the future when
// the bucket is empty, and returns how long the caller must wait before sending. Callers
// therefore start in the order they reserved and the long-run rate never exceeds `rate`,
// however many wait at once. A reservation that is abandoned (its waiter cancelled) is
// not refunded: the limiter errs on the side of sending less.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace labelwatch {

class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  // `rate_per_second` <= 0 (or not finite) means unlimited. `burst` is the bucket size,
  // at least 1: how many requests may start back to back after an idle period. The
  // bucket starts full.
  explicit token_bucket(double rate_per_second, double burst = 1.0) noexcept
      : rate_(std::isfinite(rate_per_second) && rate_per_second > 0 ? rate_per_second : 0.0),
        burst_(std::isfinite(burst) ? std::max(1.0, burst) : 1.0),
        tokens_(burst_) {}

  bool unlimited() const noexcept { return rate_ == 0.0; }
  double rate() const noexcept { return rate_; }
  double burst() const noexcept { return burst_; }

  // Takes one token; returns zero when one was available, else the wait until the
  // borrowed token will have accrued.
  duration reserve(time_point now) noexcept {
    if (unlimited()) return duration::zero();
    refill(now);
    tokens_ -= 1.0;
    if (tokens_ >= 0.0) return duration::zero();
    const double seconds = -tokens_ / rate_;
    return duration{static_cast<duration::rep>(std::ceil(seconds * 1e9))};
  }

  // Takes a token only when one is available now.
  bool try_acquire(time_point now) noexcept {
    if (unlimited()) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Tokens available at `now` (negative while reservations are outstanding).
  double available(time_point now) noexcept {
    if (!unlimited()) refill(now);
    return tokens_;
  }

 private:
  void refill(time_point now) noexcept {
    if (!started_) {
      started_ = true;
      last_ = now;
      return;
    }
    if (now <= last_) return;  // a caller with an older reading: nothing accrued
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  time_point last_{};
  bool started_ = false;
};

}  // namespace labelwatch
