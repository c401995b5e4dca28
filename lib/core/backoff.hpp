// Exponential backoff with full jitter ("sleep = random(0, min(cap, base * 2^attempt))"),
// shared by request retries and per-task poll backoff. Pure: the caller supplies the
// random draw, so tests are exact.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace labelwatch {

// The ceiling of the attempt's window: min(cap, base * 2^attempt). attempt 0 is the
// first retry. Saturates instead of overflowing.
constexpr std::chrono::milliseconds backoff_ceiling(std::uint32_t attempt,
                                                    std::chrono::milliseconds base,
                                                    std::chrono::milliseconds cap) noexcept {
  auto ceiling = base;
  for (std::uint32_t i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

// Full jitter: `unit` is a uniform draw from [0, 1).
constexpr std::chrono::milliseconds full_jitter_backoff(std::uint32_t attempt,
                                                        std::chrono::milliseconds base,
                                                        std::chrono::milliseconds cap,
                                                        double unit) noexcept {
  const auto ceiling = backoff_ceiling(attempt, base, cap);
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds{
      static_cast<std::chrono::milliseconds::rep>(static_cast<double>(ceiling.count()) * u)};
}

}  // namespace labelwatch
