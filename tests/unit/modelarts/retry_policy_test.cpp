#include "modelarts/retry_policy.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::modelarts;
using namespace std::chrono_literals;

namespace {

api_error http_error(unsigned status, std::string code = "") {
  api_error e;
  e.http_status = status;
  e.error_code = std::move(code);
  e.kind = classify_http(status, e.error_code);
  return e;
}

api_error transport_error(errc kind) {
  api_error e;
  e.kind = kind;
  return e;
}

retry_decision get(const api_error& e, std::uint32_t attempts = 1, milliseconds elapsed = 0ms,
                   double unit = 0.5, const retry_budget& b = {}) {
  return decide_retry(b, failed_attempt{e, true, false}, attempts, elapsed, unit);
}

}  // namespace

TEST(retry_policy, retried_statuses_for_get) {
  for (unsigned s : {429u, 502u, 503u, 504u}) EXPECT_TRUE(get(http_error(s)).retry) << s;
  EXPECT_TRUE(get(transport_error(errc::network)).retry);
  EXPECT_TRUE(get(http_error(400, "APIG.0308")).retry);  // throttling by code
}

TEST(retry_policy, never_retried) {
  for (unsigned s : {400u, 403u, 404u, 409u, 500u}) {
    const auto d = get(http_error(s));
    EXPECT_FALSE(d.retry) << s;
    EXPECT_EQ(d.reason, "not retryable");
  }
  EXPECT_FALSE(get(http_error(401, "APIG.0301")).retry);
  EXPECT_FALSE(get(http_error(400, "ModelArts.4612")).retry);
  EXPECT_FALSE(get(transport_error(errc::timeout)).retry);  // sent and hung: next poll
  EXPECT_FALSE(get(transport_error(errc::decode)).retry);
  EXPECT_FALSE(get(transport_error(errc::body_too_large)).retry);
  EXPECT_FALSE(get(transport_error(errc::tls)).retry);
}

TEST(retry_policy, failures_before_sending_are_retried_except_tls_verification) {
  retry_budget b;
  for (errc k : {errc::network, errc::timeout}) {
    const auto e = transport_error(k);
    EXPECT_TRUE(decide_retry(b, {e, true, true}, 1, 0ms, 0.5).retry);
    EXPECT_TRUE(decide_retry(b, {e, false, true}, 1, 0ms, 0.5).retry);  // even a PUT
  }
  const auto tls = transport_error(errc::tls);
  EXPECT_FALSE(decide_retry(b, {tls, true, true}, 1, 0ms, 0.5).retry);
  EXPECT_FALSE(decide_retry(b, {tls, false, true}, 1, 0ms, 0.5).retry);
}

TEST(retry_policy, put_only_when_it_certainly_never_reached_the_server) {
  retry_budget b;
  for (unsigned s : {429u, 502u, 503u, 504u}) {
    const auto e = http_error(s);
    const auto d = decide_retry(b, {e, false, false}, 1, 0ms, 0.5);
    EXPECT_FALSE(d.retry) << s;
    EXPECT_EQ(d.reason, "request may have reached the server");
  }
  const auto reset = transport_error(errc::network);  // reset while reading the response
  EXPECT_FALSE(decide_retry(b, {reset, false, false}, 1, 0ms, 0.5).retry);
  EXPECT_TRUE(decide_retry(b, {reset, false, true}, 1, 0ms, 0.5).retry);
}

TEST(retry_policy, retry_after_is_honoured_verbatim) {
  auto e = http_error(429, "ModelArts.4206");
  e.retry_after = 3s;
  const auto d = get(e, 1, 0ms, 0.99);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 3s);
  EXPECT_EQ(d.reason, "retry-after");
  e.retry_after = 0s;
  EXPECT_EQ(get(e).delay, 0s);
}

TEST(retry_policy, backoff_is_full_jitter_within_a_doubling_window) {
  const auto e = http_error(503);
  retry_budget b;
  b.backoff_base = 500ms;
  b.backoff_cap = 4s;
  b.max_attempts = 10;
  b.max_total = 1h;
  EXPECT_EQ(get(e, 1, 0ms, 0.0, b).delay, 0ms);
  EXPECT_EQ(get(e, 1, 0ms, 0.5, b).delay, 250ms);
  EXPECT_EQ(get(e, 2, 0ms, 0.5, b).delay, 500ms);
  EXPECT_EQ(get(e, 3, 0ms, 0.5, b).delay, 1000ms);
  EXPECT_EQ(get(e, 9, 0ms, 0.5, b).delay, 2000ms);  // capped window 4 s
  EXPECT_EQ(get(e, 1, 0ms, 0.5, b).reason, "backoff");
}

TEST(retry_policy, budget_bounds_attempts_and_time) {
  const auto e = http_error(503);
  retry_budget b;
  b.max_attempts = 3;
  b.max_total = 10s;
  EXPECT_TRUE(get(e, 2, 0ms, 0.5, b).retry);
  const auto exhausted = get(e, 3, 0ms, 0.5, b);
  EXPECT_FALSE(exhausted.retry);
  EXPECT_EQ(exhausted.reason, "attempts exhausted");

  auto slow = http_error(429);
  slow.retry_after = 8s;
  EXPECT_TRUE(get(slow, 1, 2s, 0.5, b).retry);  // ends exactly at the budget
  const auto late = get(slow, 1, 2001ms, 0.5, b);
  EXPECT_FALSE(late.retry);
  EXPECT_EQ(late.reason, "retry budget exhausted");
  slow.retry_after = 1h;  // longer than the whole budget: give up at once
  EXPECT_FALSE(get(slow, 1, 0ms, 0.5, b).retry);

  b.max_attempts = 1;
  EXPECT_FALSE(get(e, 1, 0ms, 0.5, b).retry);
}

TEST(retry_after, delta_seconds) {
  const sys_time now = from_unix_ms(1'700'000'000'000);
  EXPECT_EQ(parse_retry_after("3", now), 3s);
  EXPECT_EQ(parse_retry_after(" 120 ", now), 120s);
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_FALSE(parse_retry_after("3.5", now));
  EXPECT_FALSE(parse_retry_after("-1", now));
  EXPECT_FALSE(parse_retry_after("3s", now));
  EXPECT_FALSE(parse_retry_after("", now));
  // Absurd values saturate instead of overflowing.
  const auto huge = parse_retry_after("99999999999999999999999", now);
  ASSERT_TRUE(huge);
  EXPECT_GT(*huge, 24h * 365 * 1000);
}

TEST(retry_after, http_date) {
  const sys_time now = *parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now), 3s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:59:37 GMT", now), 10min);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), 0s);  // in the past
  EXPECT_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now));  // obsolete form
}
