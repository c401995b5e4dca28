#include "core/token_bucket.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace std::chrono_literals;

namespace {
const token_bucket::time_point t0{std::chrono::seconds{1000}};
}

TEST(token_bucket, starts_full_then_spaces_requests_at_the_rate) {
  token_bucket b(20.0);  // burst 1
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 50ms);   // borrowed: one token accrues in 1/20 s
  EXPECT_EQ(b.reserve(t0), 100ms);  // queued behind the previous reservation
  // After the waits have passed, the bucket is empty but not in debt.
  EXPECT_EQ(b.reserve(t0 + 150ms), 0ns);
}

TEST(token_bucket, burst_allows_back_to_back_starts_after_idle) {
  token_bucket b(10.0, 3.0);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 100ms);
  // Idle for a long time: refills to the burst size, never beyond.
  const auto later = t0 + 1h;
  EXPECT_NEAR(b.available(later), 3.0, 1e-9);
}

TEST(token_bucket, never_exceeds_the_rate_over_a_window) {
  token_bucket b(5.0);
  // 100 callers reserve at once; their start times must be at least 200 ms apart.
  std::vector<token_bucket::time_point> starts;
  for (int i = 0; i < 100; ++i) starts.push_back(t0 + b.reserve(t0));
  for (std::size_t i = 1; i < starts.size(); ++i) EXPECT_GE(starts[i] - starts[i - 1], 199ms) << i;
  EXPECT_GE(starts.back() - starts.front(), 19800ms);
}

TEST(token_bucket, try_acquire_does_not_borrow) {
  token_bucket b(2.0);
  EXPECT_TRUE(b.try_acquire(t0));
  EXPECT_FALSE(b.try_acquire(t0));
  EXPECT_FALSE(b.try_acquire(t0 + 400ms));
  EXPECT_TRUE(b.try_acquire(t0 + 500ms));
}

TEST(token_bucket, zero_negative_or_nan_rate_is_unlimited) {
  for (double r : {0.0, -3.0, std::nan("")}) {
    token_bucket b(r);
    EXPECT_TRUE(b.unlimited());
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(b.reserve(t0), 0ns);
  }
}

TEST(token_bucket, an_older_reading_accrues_nothing) {
  token_bucket b(1.0);
  EXPECT_EQ(b.reserve(t0 + 10s), 0ns);
  EXPECT_EQ(b.reserve(t0), 1s);  // time did not go backwards for the bucket
}

TEST(token_bucket, fractional_rates) {
  token_bucket b(0.5);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 2s);
}
