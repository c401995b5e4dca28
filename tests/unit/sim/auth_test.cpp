#include "sim/auth.hpp"

#include "auth/signer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sim = labelwatch::sim;
namespace lwa = labelwatch::auth;
using namespace std::chrono_literals;
using labelwatch::sys_time;
using ::testing::HasSubstr;

namespace {

// Fact sheet §1.9 TV1.
constexpr std::string_view tv1_ak = "QTWAOYTTINDUT2QVKYUC";
constexpr std::string_view tv1_sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
constexpr std::string_view tv1_auth =
    "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "
    "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe";

const sys_time tv1_time = *labelwatch::parse_sdk_date("20191115T033655Z");

sim::request_view tv1_request(std::string_view authorization = tv1_auth) {
  sim::request_view r;
  r.method = "GET";
  r.target =
      "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/"
      "vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0";
  r.headers = {{"Content-Type", "application/json"},
               {"Host", "service.region.example.com"},
               {"X-Sdk-Date", "20191115T033655Z"},
               {"Authorization", authorization}};
  return r;
}

sim::aksk_verifier tv1_verifier(sim::aksk_policy p = {}) {
  return sim::aksk_verifier({{std::string(tv1_ak), std::string(tv1_sk)}}, p);
}

}  // namespace

TEST(sim_auth, accepts_the_published_test_vector) {
  auto v = tv1_verifier();
  const auto d = v.verify(tv1_request(), tv1_time);
  EXPECT_TRUE(d.ok());
  EXPECT_EQ(d.outcome, sim::auth_outcome::ok);
  // Within the 15-minute window on either side.
  EXPECT_TRUE(v.verify(tv1_request(), tv1_time + 15min).ok());
  EXPECT_TRUE(v.verify(tv1_request(), tv1_time - 15min).ok());
}

TEST(sim_auth, tampered_requests_fail_with_apig_0301) {
  auto v = tv1_verifier();
  auto r = tv1_request();
  r.target =
      "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/"
      "vpcs?limit=3&marker=13551d6b-755d-4757-b956-536f674975c0";
  auto d = v.verify(r, tv1_time);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.outcome, sim::auth_outcome::signature_mismatch);
  EXPECT_EQ(d.failure->http_status, 401);
  EXPECT_EQ(d.failure->error_code, "APIG.0301");
  EXPECT_EQ(d.failure->error_msg,
            "Incorrect IAM authentication information: verify aksk signature fail");
  EXPECT_THAT(d.canonical_request, HasSubstr("limit=3"));
  EXPECT_THAT(d.canonical_request, ::testing::Not(HasSubstr(tv1_sk)));

  r = tv1_request();
  r.headers[1].second = "other.example.com";  // a signed header changed
  EXPECT_EQ(v.verify(r, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  r = tv1_request();
  r.body = "{}";  // the body hash no longer matches
  EXPECT_EQ(v.verify(r, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  r = tv1_request();
  r.headers.erase(r.headers.begin());  // a signed header is missing
  EXPECT_EQ(v.verify(r, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  r = tv1_request();
  r.method = "POST";
  EXPECT_EQ(v.verify(r, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
}

TEST(sim_auth, header_problems_have_distinct_outcomes_and_messages) {
  auto v = tv1_verifier({.lockout_threshold = 0});
  auto r = tv1_request();
  r.headers.pop_back();
  auto d = v.verify(r, tv1_time);
  EXPECT_EQ(d.outcome, sim::auth_outcome::missing);
  EXPECT_THAT(d.failure->error_msg, HasSubstr("Authorization header not found"));

  d = v.verify(tv1_request("Bearer abc"), tv1_time);
  EXPECT_EQ(d.outcome, sim::auth_outcome::malformed);

  d = v.verify(
      tv1_request("SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=host;x-sdk-date, Signature=00"),
      tv1_time);
  EXPECT_EQ(d.outcome, sim::auth_outcome::unknown_ak);
  EXPECT_THAT(d.failure->error_msg, ::testing::Not(HasSubstr("NOPE"))) << "never echo the AK";

  r = tv1_request();
  r.headers[2].second = "2019-11-15 03:36:55";
  EXPECT_EQ(v.verify(r, tv1_time).outcome, sim::auth_outcome::bad_date);

  d = v.verify(
      tv1_request("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host, "
                  "Signature=00"),
      tv1_time);
  EXPECT_EQ(d.outcome, sim::auth_outcome::date_not_signed);

  d = v.verify(tv1_request(), tv1_time + 15min + 1s);
  EXPECT_EQ(d.outcome, sim::auth_outcome::skew);
  EXPECT_THAT(d.failure->error_msg, HasSubstr("not within 15m"));
  EXPECT_EQ(v.verify(tv1_request(), tv1_time - 16min).outcome, sim::auth_outcome::skew);
}

TEST(sim_auth, content_sha256_header_replaces_the_body_hash) {
  auto v = tv1_verifier();
  lwa::request_to_sign req{.method = "PUT",
                           .path = "/v2/p/x",
                           .query = "",
                           .headers = {{"host", "h"},
                                       {"x-sdk-date", "20191115T033655Z"},
                                       {"x-sdk-content-sha256", "UNSIGNED-PAYLOAD"}},
                           .body = "",
                           .content_sha256 = "UNSIGNED-PAYLOAD"};
  const auto auth = lwa::sign(req, "20191115T033655Z", tv1_ak, tv1_sk);
  sim::request_view r;
  r.method = "PUT";
  r.target = "/v2/p/x";
  r.body = R"({"action":0})";  // not hashed
  r.headers = {{"Host", "h"},
               {"X-Sdk-Date", "20191115T033655Z"},
               {"X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"},
               {"Authorization", auth}};
  EXPECT_TRUE(v.verify(r, tv1_time).ok());
}

TEST(sim_auth, more_than_five_consecutive_failures_lock_the_ak) {
  auto v = tv1_verifier();
  auto bad = tv1_request();
  bad.target = "/tampered";
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(v.verify(bad, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  }
  // Locked: even a correct request is refused, with the documented message.
  auto d = v.verify(tv1_request(), tv1_time + 1s);
  EXPECT_EQ(d.outcome, sim::auth_outcome::locked);
  EXPECT_EQ(
      d.failure->error_msg,
      "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden.");
  EXPECT_EQ(v.locked_count(tv1_time + 1s), 1u);
  EXPECT_EQ(v.locked_for(tv1_ak, tv1_time + 1s), 5min - 1s);
  EXPECT_EQ(v.verify(tv1_request(), tv1_time + 4min).outcome, sim::auth_outcome::locked);
  // Five minutes later it works again (the skew window is the test vector's own).
  EXPECT_TRUE(v.verify(tv1_request(), tv1_time + 5min).ok());
}

TEST(sim_auth, a_success_resets_the_failure_count) {
  auto v = tv1_verifier();
  auto bad = tv1_request();
  bad.target = "/tampered";
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(v.verify(bad, tv1_time).ok());
    EXPECT_TRUE(v.verify(tv1_request(), tv1_time).ok());
  }
}

TEST(sim_auth, lockout_can_be_disabled_or_tuned) {
  auto off = tv1_verifier({.lockout_threshold = 0});
  auto bad = tv1_request();
  bad.target = "/tampered";
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(off.verify(bad, tv1_time).ok());
  EXPECT_TRUE(off.verify(tv1_request(), tv1_time).ok());

  auto quick = tv1_verifier({.lockout_threshold = 1, .lockout_duration = 2s});
  EXPECT_EQ(quick.verify(bad, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  EXPECT_EQ(quick.verify(bad, tv1_time).outcome, sim::auth_outcome::signature_mismatch);
  EXPECT_EQ(quick.verify(tv1_request(), tv1_time).outcome, sim::auth_outcome::locked);
  EXPECT_TRUE(quick.verify(tv1_request(), tv1_time + 2s).ok());
}

TEST(sim_auth, tokens_issue_verify_expire) {
  sim::token_store store;
  std::uint64_t rng = 5;
  const auto now = tv1_time;
  const auto t = store.issue("p1", now, 1h, rng);
  EXPECT_GE(t.token.size(), 300u);
  EXPECT_EQ(t.expires_at, now + 1h);
  EXPECT_TRUE(store.verify(t.token, "p1", now).ok());
  EXPECT_TRUE(store.verify(t.token, "p1", now + 59min).ok());
  auto d = store.verify(t.token, "p1", now + 1h);
  EXPECT_EQ(d.outcome, sim::auth_outcome::token_expired);
  EXPECT_EQ(d.failure->error_msg,
            "Incorrect IAM authentication information: token expires, expires_at: " +
                sim::format_iam_time(now + 1h));
  EXPECT_EQ(store.verify(std::nullopt, "p1", now).outcome, sim::auth_outcome::token_missing);
  EXPECT_EQ(store.verify("MIIEnotissued", "p1", now).outcome, sim::auth_outcome::token_unknown);
  d = store.verify(t.token, "p2", now);
  EXPECT_EQ(d.outcome, sim::auth_outcome::token_project_mismatch);
  EXPECT_EQ(d.failure->http_status, 403);
  EXPECT_EQ(d.failure->error_code, "ModelArts.0210");
  const auto t2 = store.issue("p1", now, 1h, rng);
  EXPECT_NE(t2.token, t.token);
  store.expire_all(now + 1s);
  EXPECT_EQ(store.verify(t2.token, "p1", now + 1s).outcome, sim::auth_outcome::token_expired);
}

TEST(sim_auth, iam_time_format_has_microseconds) {
  EXPECT_EQ(sim::format_iam_time(labelwatch::from_unix_ms(1550040733855)),
            "2019-02-13T06:52:13.855000Z");
}
