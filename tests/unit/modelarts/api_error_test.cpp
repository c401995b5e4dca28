#include "modelarts/api_error.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::modelarts;

TEST(api_error, gone_codes_are_the_four_documented_ones) {
  for (auto c : {"ModelArts.4612", "ModelArts.4619", "ModelArts.4631", "ModelArts.4636"})
    EXPECT_TRUE(is_gone_code(c)) << c;
  EXPECT_FALSE(is_gone_code("ModelArts.4700"));
  EXPECT_FALSE(is_gone_code(""));
}

TEST(api_error, classification_table) {
  EXPECT_EQ(classify_http(401, ""), errc::auth_failed);
  EXPECT_EQ(classify_http(401, "APIG.0301"), errc::auth_failed);
  EXPECT_EQ(classify_http(400, "APIGW.0301"), errc::auth_failed);
  EXPECT_EQ(classify_http(401, "ModelArts.0202"), errc::auth_failed);
  EXPECT_EQ(classify_http(429, "ModelArts.4206"), errc::throttled);
  EXPECT_EQ(classify_http(429, "APIG.0308"), errc::throttled);
  EXPECT_EQ(classify_http(429, ""), errc::throttled);
  EXPECT_EQ(classify_http(404, ""), errc::not_found);
  EXPECT_EQ(classify_http(400, "ModelArts.4612"), errc::not_found);
  EXPECT_EQ(classify_http(400, "ModelArts.4619"), errc::not_found);
  EXPECT_EQ(classify_http(400, "ModelArts.4623"), errc::client_error);
  EXPECT_EQ(classify_http(403, "ModelArts.4600"), errc::client_error);
  EXPECT_EQ(classify_http(500, "ModelArts.0010"), errc::server_error);
  EXPECT_EQ(classify_http(503, "ModelArts.4700"), errc::server_error);
  EXPECT_EQ(classify_http(408, "ModelArts.4205"), errc::timeout);
}

TEST(api_error, retry_only_what_may_succeed_soon) {
  EXPECT_TRUE(is_retryable({.kind = errc::throttled, .http_status = 429}));
  EXPECT_TRUE(is_retryable({.kind = errc::server_error, .http_status = 503}));
  EXPECT_TRUE(is_retryable({.kind = errc::server_error, .http_status = 502}));
  EXPECT_TRUE(is_retryable({.kind = errc::server_error, .http_status = 504}));
  EXPECT_TRUE(is_retryable({.kind = errc::network}));
  EXPECT_FALSE(is_retryable({.kind = errc::server_error, .http_status = 500}));
  EXPECT_FALSE(is_retryable({.kind = errc::not_found, .http_status = 404}));
  EXPECT_FALSE(is_retryable({.kind = errc::client_error, .http_status = 400}));
  EXPECT_FALSE(is_retryable({.kind = errc::auth_failed, .http_status = 401}));
  EXPECT_FALSE(is_retryable({.kind = errc::timeout}));
}

TEST(api_error, summary_names_code_and_request_id) {
  api_error e{.kind = errc::auth_failed, .http_status = 401, .error_code = "APIG.0301",
              .error_msg = "Incorrect IAM authentication information: verify aksk signature fail",
              .request_id = "abc123"};
  EXPECT_EQ(e.summary(),
            "auth_failed (HTTP 401) APIG.0301: Incorrect IAM authentication information: verify "
            "aksk signature fail [request_id abc123]");
}
