// The webhook sink's pure decisions: signature, URL, retry rules, the bounded queue.
#include "observe/webhook_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace obs = labelwatch::observe;
using labelwatch::milliseconds;
using labelwatch::sys_time;
using obs::webhook_outcome;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint64_t> ids(const obs::webhook_queue& q) {
  // Reads the queue by popping a copy: the queue has no iteration on purpose.
  obs::webhook_queue copy = q;
  std::vector<std::uint64_t> out;
  while (!copy.empty()) {
    out.push_back(copy.front().id);
    copy.pop_front();
  }
  return out;
}

const sys_time k_now = labelwatch::from_unix_ms(1'764'000'000'000);

}  // namespace

// ---- signature -----------------------------------------------------------------------

TEST(webhook_signature, is_sha256_prefixed_lower_hex_hmac) {
  // RFC 4231 test case 2.
  EXPECT_EQ(obs::webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(webhook_signature, depends_on_every_byte_of_body_and_key) {
  const auto base = obs::webhook_signature("k", R"({"event":"a"})");
  EXPECT_NE(base, obs::webhook_signature("k", R"({"event":"b"})"));
  EXPECT_NE(base, obs::webhook_signature("K", R"({"event":"a"})"));
  EXPECT_EQ(base.size(), 7u + 64u);
}

// ---- URL -----------------------------------------------------------------------------

TEST(webhook_url, https_with_path_and_query) {
  const auto t = obs::parse_webhook_url("https://Hooks.Example:8443/in/labelwatch?channel=ops&x=%20");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->origin.scheme, "https");
  EXPECT_EQ(t->origin.host, "hooks.example");
  EXPECT_EQ(t->origin.port, 8443);
  EXPECT_EQ(t->target, "/in/labelwatch?channel=ops&x=%20");
}

TEST(webhook_url, defaults_path_and_port) {
  const auto t = obs::parse_webhook_url("https://hooks.example");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->origin.port, 443);
  EXPECT_EQ(t->target, "/");
  const auto v6 = obs::parse_webhook_url("http://[::1]:9000/h");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->origin.host, "::1");
  EXPECT_EQ(v6->origin.port, 9000);
}

TEST(webhook_url, plain_http_only_for_loopback) {
  EXPECT_TRUE(obs::parse_webhook_url("http://127.0.0.1:8080/h"));
  EXPECT_TRUE(obs::parse_webhook_url("http://localhost/h"));
  const auto remote = obs::parse_webhook_url("http://hooks.example/secret-token");
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error(),
            "[events] webhook_url must start with https://; plain http:// is allowed only for "
            "loopback hosts");
}

TEST(webhook_url, errors_never_repeat_the_url) {
  for (const std::string url :
       {"ftp://hooks.example/tok3n", "https://user:tok3n@hooks.example/", "not a url tok3n",
        "https://hooks.example:0/tok3n", "https://hooks.example:99999/tok3n"}) {
    const auto r = obs::parse_webhook_url(url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().find("tok3n"), std::string::npos) << r.error();
    EXPECT_EQ(r.error().rfind("[events] webhook_url ", 0), 0u) << r.error();
  }
}

// ---- decisions -----------------------------------------------------------------------

TEST(webhook_decision, two_hundreds_are_delivered) {
  const obs::webhook_retry_settings s;
  for (unsigned status : {200u, 201u, 202u, 204u, 299u}) {
    const auto d = obs::decide_webhook_response(s, status, "", 1, k_now, 0.5);
    EXPECT_EQ(d.outcome, webhook_outcome::delivered) << status;
  }
}

TEST(webhook_decision, other_4xx_and_3xx_are_dropped_not_retried) {
  const obs::webhook_retry_settings s;
  for (unsigned status : {100u, 301u, 302u, 304u, 400u, 401u, 403u, 404u, 405u, 410u, 413u, 422u}) {
    const auto d = obs::decide_webhook_response(s, status, "5", 1, k_now, 0.5);
    EXPECT_EQ(d.outcome, webhook_outcome::drop) << status;
    EXPECT_EQ(d.reason, "refused");
    EXPECT_FALSE(obs::webhook_status_retryable(status)) << status;
  }
}

TEST(webhook_decision, overload_and_server_errors_are_retried) {
  const obs::webhook_retry_settings s;
  for (unsigned status : {408u, 429u, 500u, 502u, 503u, 504u, 599u}) {
    const auto d = obs::decide_webhook_response(s, status, "", 1, k_now, 0.5);
    EXPECT_EQ(d.outcome, webhook_outcome::retry) << status;
    EXPECT_EQ(d.reason, "backoff");
    EXPECT_TRUE(obs::webhook_status_retryable(status)) << status;
  }
}

TEST(webhook_decision, retry_after_seconds_and_date_are_honoured) {
  const obs::webhook_retry_settings s;
  auto d = obs::decide_webhook_response(s, 503, "7", 1, k_now, 0.0);
  EXPECT_EQ(d.outcome, webhook_outcome::retry);
  EXPECT_EQ(d.reason, "retry-after");
  EXPECT_EQ(d.delay, 7s);
  d = obs::decide_webhook_response(s, 429, labelwatch::format_http_date(k_now + 42s), 9, k_now, 0.9);
  EXPECT_EQ(d.delay, 42s);
}

TEST(webhook_decision, retry_after_is_capped_and_floored) {
  obs::webhook_retry_settings s;
  s.retry_after_cap = 90s;
  EXPECT_EQ(obs::decide_webhook_response(s, 503, "86400", 1, k_now, 0.5).delay, 90s);
  // "0" and a date in the past would make a tight loop.
  EXPECT_EQ(obs::decide_webhook_response(s, 503, "0", 1, k_now, 0.5).delay, 100ms);
  EXPECT_EQ(obs::decide_webhook_response(s, 503, labelwatch::format_http_date(k_now - 1h), 1, k_now, 0.5)
                .delay,
            100ms);
}

TEST(webhook_decision, unreadable_retry_after_falls_back_to_backoff) {
  const obs::webhook_retry_settings s;
  const auto d = obs::decide_webhook_response(s, 503, "soon", 1, k_now, 0.5);
  EXPECT_EQ(d.reason, "backoff");
  EXPECT_EQ(d.delay, 250ms);
}

TEST(webhook_decision, transport_failures_back_off_exponentially_with_full_jitter) {
  obs::webhook_retry_settings s;
  s.backoff_base = 500ms;
  s.backoff_cap = 60s;
  // The window doubles with each consecutive failure, up to the cap; the draw picks a
  // point in [0, window).
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 1, 0.5).delay, 250ms);
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 2, 0.5).delay, 500ms);
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 3, 0.5).delay, 1000ms);
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 8, 0.5).delay, 30s);
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 9, 0.5).delay, 30s);  // capped
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 1000, 0.5).delay, 30s);
  EXPECT_EQ(obs::decide_webhook_transport_failure(s, 3, 0.0).delay, 0ms);
  EXPECT_LT(obs::decide_webhook_transport_failure(s, 3, 0.999999).delay, 2000ms);
  const auto d = obs::decide_webhook_transport_failure(s, 1, 0.1);
  EXPECT_EQ(d.outcome, webhook_outcome::retry);
  EXPECT_EQ(d.reason, "backoff");
}

// ---- queue ---------------------------------------------------------------------------

TEST(webhook_queue, keeps_order_and_ids) {
  obs::webhook_queue q(10);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.push("a", "{1}"), 0u);
  EXPECT_EQ(q.push("b", "{2}"), 0u);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front().event_name, "a");
  EXPECT_EQ(q.front().body, "{1}");
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{1, 2}));
  q.pop_front();
  EXPECT_EQ(q.front().event_name, "b");
  q.pop_front();
  EXPECT_TRUE(q.empty());
  q.push("c", "{3}");
  EXPECT_EQ(q.front().id, 3u);
}

TEST(webhook_queue, full_queue_drops_the_oldest_and_says_how_many) {
  obs::webhook_queue q(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.push("e", std::to_string(i)), 0u);
  EXPECT_EQ(q.push("e", "3"), 1u);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{2, 3, 4}));
  std::size_t dropped = 0;
  for (int i = 0; i < 10; ++i) dropped += q.push("e", "x");
  EXPECT_EQ(dropped, 10u);
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{12, 13, 14}));
}

TEST(webhook_queue, a_pinned_front_is_never_dropped_and_does_not_count) {
  obs::webhook_queue q(2);
  q.push("a", "1");
  q.push("b", "2");
  q.pin_front();  // "a" is on the wire
  EXPECT_TRUE(q.pinned());
  EXPECT_EQ(q.push("c", "3"), 0u);  // a + {b, c}
  EXPECT_EQ(q.push("d", "4"), 1u);  // b goes, a stays
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{1, 3, 4}));
  q.unpin();  // back to an ordinary waiting event (a backoff wait)
  EXPECT_EQ(q.push("e", "5"), 2u);
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{4, 5}));
}

TEST(webhook_queue, capacity_one_with_a_pinned_front) {
  obs::webhook_queue q(1);
  q.push("a", "1");
  q.pin_front();
  EXPECT_EQ(q.push("b", "2"), 0u);
  EXPECT_EQ(q.push("c", "3"), 1u);
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{1, 3}));
  q.pop_front();  // delivered; unpins
  EXPECT_FALSE(q.pinned());
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{3}));
}

TEST(webhook_queue, capacity_zero_keeps_nothing) {
  obs::webhook_queue q(0);
  EXPECT_EQ(q.push("a", "1"), 1u);
  EXPECT_TRUE(q.empty());
}

TEST(webhook_queue, pin_on_empty_queue_is_a_no_op) {
  obs::webhook_queue q(1);
  q.pin_front();
  EXPECT_FALSE(q.pinned());
  EXPECT_EQ(q.push("a", "1"), 0u);
  EXPECT_EQ(q.push("b", "2"), 1u);
}

TEST(webhook_queue, lowering_the_capacity_drops_the_oldest) {
  obs::webhook_queue q(5);
  for (int i = 0; i < 5; ++i) q.push("e", "x");
  q.pin_front();
  EXPECT_EQ(q.set_capacity(2), 2u);
  EXPECT_EQ(ids(q), (std::vector<std::uint64_t>{1, 4, 5}));
  EXPECT_EQ(q.set_capacity(10), 0u);
  EXPECT_EQ(q.capacity(), 10u);
}

TEST(webhook_queue, clear_removes_everything_including_the_pinned_one) {
  obs::webhook_queue q(5);
  for (int i = 0; i < 4; ++i) q.push("e", "x");
  q.pin_front();
  EXPECT_EQ(q.clear(), 4u);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.pinned());
}
