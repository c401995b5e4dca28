#include "core/backoff.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace std::chrono_literals;

TEST(backoff, ceiling_doubles_until_the_cap) {
  EXPECT_EQ(backoff_ceiling(0, 500ms, 30s), 500ms);
  EXPECT_EQ(backoff_ceiling(1, 500ms, 30s), 1000ms);
  EXPECT_EQ(backoff_ceiling(5, 500ms, 30s), 16000ms);
  EXPECT_EQ(backoff_ceiling(6, 500ms, 30s), 30s);
  EXPECT_EQ(backoff_ceiling(4000000000u, 500ms, 30s), 30s);  // no overflow, no long loop
}

TEST(backoff, full_jitter_spans_zero_to_ceiling) {
  EXPECT_EQ(full_jitter_backoff(3, 1s, 1min, 0.0), 0ms);
  EXPECT_EQ(full_jitter_backoff(3, 1s, 1min, 0.5), 4s);
  EXPECT_EQ(full_jitter_backoff(3, 1s, 1min, 0.999), 7992ms);
  EXPECT_EQ(full_jitter_backoff(3, 1s, 1min, 7.0), 8s);  // clamped draw
}
