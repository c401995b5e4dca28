#include "auth/token_state.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::auth;
using namespace std::chrono_literals;

namespace {

// A fake clock: plain sys_time values moved by hand.
struct fake_clock {
  sys_time now = from_unix_ms(1'700'000'000'000);
  void advance(milliseconds d) { now += d; }
};

token_state_options opts(milliseconds before = 30min) {
  token_state_options o;
  o.refresh_before = before;
  o.failure_backoff_min = 5s;
  o.failure_backoff_max = 40s;
  return o;
}

}  // namespace

TEST(token_state, first_caller_refreshes_others_wait_single_flight) {
  fake_clock c;
  token_state s(opts());
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  EXPECT_EQ(s.next(c.now), token_action::wait);  // a concurrent caller
  EXPECT_EQ(s.next(c.now), token_action::wait);  // and another: still one refresh
  s.refresh_succeeded(c.now, secret("tok-1"), c.now + 24h);
  EXPECT_EQ(s.next(c.now), token_action::use);
  EXPECT_EQ(s.generation(), 1u);
  EXPECT_EQ(s.token().reveal(), "tok-1");
  EXPECT_EQ(s.expires_at(), c.now + 24h);
}

TEST(token_state, refreshes_before_expiry_by_the_margin) {
  fake_clock c;
  token_state s(opts(30min));
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t"), c.now + 24h);
  EXPECT_EQ(s.refresh_at(), c.now + 24h - 30min);
  c.advance(24h - 30min - 1ms);
  EXPECT_EQ(s.next(c.now), token_action::use);
  c.advance(1ms);
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  // While the proactive refresh runs, the still-valid token keeps being used.
  s.begin_refresh();
  EXPECT_EQ(s.next(c.now), token_action::use);
  s.refresh_succeeded(c.now, secret("t2"), c.now + 24h);
  EXPECT_EQ(s.generation(), 2u);
}

TEST(token_state, short_lived_tokens_use_half_their_lifetime_as_margin) {
  fake_clock c;
  token_state s(opts(30min));
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t"), c.now + 10s);
  EXPECT_EQ(s.refresh_at(), c.now + 5s);
  c.advance(4s);
  EXPECT_EQ(s.next(c.now), token_action::use);
  c.advance(1s);
  EXPECT_EQ(s.next(c.now), token_action::refresh);
}

TEST(token_state, an_expired_token_is_not_used_while_refreshing) {
  fake_clock c;
  token_state s(opts());
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t"), c.now + 1h);
  c.advance(2h);
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  EXPECT_EQ(s.next(c.now), token_action::wait);
}

TEST(token_state, rejection_of_the_current_generation_forces_one_refresh) {
  fake_clock c;
  token_state s(opts());
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t1"), c.now + 24h);
  const auto g1 = s.generation();
  s.rejected(g1);
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  EXPECT_EQ(s.next(c.now), token_action::wait);
  s.refresh_succeeded(c.now, secret("t2"), c.now + 24h);
  EXPECT_EQ(s.next(c.now), token_action::use);
  // A second request that was in flight with t1 reports its 401 late: ignored, t2 stays.
  s.rejected(g1);
  EXPECT_EQ(s.next(c.now), token_action::use);
  s.rejected(0);
  EXPECT_EQ(s.next(c.now), token_action::use);
}

TEST(token_state, failures_back_off_and_never_storm) {
  fake_clock c;
  token_state s(opts());
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  s.refresh_failed(c.now);
  EXPECT_EQ(s.retry_at(), c.now + 5s);
  EXPECT_EQ(s.next(c.now), token_action::fail);
  c.advance(4999ms);
  EXPECT_EQ(s.next(c.now), token_action::fail);
  c.advance(1ms);
  EXPECT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  s.refresh_failed(c.now);
  EXPECT_EQ(s.retry_at(), c.now + 10s);  // doubled
  for (int i = 0; i < 10; ++i) {
    c.advance(*s.retry_at() - c.now);
    ASSERT_EQ(s.next(c.now), token_action::refresh);
    s.begin_refresh();
    s.refresh_failed(c.now);
  }
  EXPECT_EQ(*s.retry_at() - c.now, 40s);  // capped
  // Success clears the backoff.
  c.advance(40s);
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t"), c.now + 24h);
  EXPECT_FALSE(s.retry_at());
  EXPECT_EQ(s.next(c.now), token_action::use);
}

TEST(token_state, a_failed_proactive_refresh_keeps_the_valid_token) {
  fake_clock c;
  token_state s(opts(30min));
  s.begin_refresh();
  s.refresh_succeeded(c.now, secret("t"), c.now + 2h);
  c.advance(95min);  // inside the margin
  ASSERT_EQ(s.next(c.now), token_action::refresh);
  s.begin_refresh();
  s.refresh_failed(c.now);
  EXPECT_EQ(s.next(c.now), token_action::use);  // still valid for 25 min
  c.advance(5s);
  EXPECT_EQ(s.next(c.now), token_action::refresh);  // tries again after the backoff
}

TEST(iam, password_body_has_the_documented_shape) {
  const auto body =
      iam_password_token_body("my-domain", "alice", secret("pa\"ss"), iam_scope{"cn-north-4", ""});
  const auto v = boost::json::parse(body);
  const auto& auth = v.at("auth");
  EXPECT_EQ(auth.at("identity").at("methods").as_array().size(), 1u);
  EXPECT_EQ(auth.at("identity").at("methods").at(0).as_string(), "password");
  const auto& user = auth.at("identity").at("password").at("user");
  EXPECT_EQ(user.at("name").as_string(), "alice");
  EXPECT_EQ(user.at("password").as_string(), "pa\"ss");
  EXPECT_EQ(user.at("domain").at("name").as_string(), "my-domain");
  EXPECT_EQ(auth.at("scope").at("project").at("name").as_string(), "cn-north-4");
  EXPECT_FALSE(auth.at("scope").at("project").as_object().contains("id"));

  const auto by_id =
      boost::json::parse(iam_password_token_body("d", "u", secret("p"), iam_scope{"", "0123abcd"}));
  EXPECT_EQ(by_id.at("auth").at("scope").at("project").at("id").as_string(), "0123abcd");
}

TEST(iam, expiry_from_the_response_body) {
  const auto t = parse_iam_token_expiry(
      R"({"token":{"expires_at":"2019-02-13T06:52:13.855000Z","issued_at":"2019-02-12T06:52:13.855000Z","methods":["password"]}})");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(format_rfc3339_ms(*t), "2019-02-13T06:52:13.855Z");
  EXPECT_NE(parse_iam_token_expiry("nope").error().find("not JSON"), std::string::npos);
  EXPECT_NE(parse_iam_token_expiry("{}").error().find("token"), std::string::npos);
  EXPECT_NE(parse_iam_token_expiry(R"({"token":{}})").error().find("token.expires_at: missing"),
            std::string::npos);
  EXPECT_NE(
      parse_iam_token_expiry(R"({"token":{"expires_at":5}})").error().find("expected a string"),
      std::string::npos);
  EXPECT_NE(
      parse_iam_token_expiry(R"({"token":{"expires_at":"tomorrow"}})").error().find("RFC 3339"),
      std::string::npos);
}
