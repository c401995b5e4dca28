#include "modelarts/error_mapping.hpp"

#include "modelarts/api_observer.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::modelarts;
using namespace std::chrono_literals;

namespace {
const sys_time now = *parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(error_mapping, modelarts_error_body) {
  const auto e = error_from_response(
      400, R"({"error_code":"ModelArts.4612","error_msg":"Task not found"})", "hdr-id", "", now);
  EXPECT_EQ(e.kind, errc::not_found);
  EXPECT_EQ(e.http_status, 400u);
  EXPECT_EQ(e.error_code, "ModelArts.4612");
  EXPECT_EQ(e.error_msg, "Task not found");
  EXPECT_EQ(e.request_id, "hdr-id");  // the body has none: the X-Request-Id header
  EXPECT_FALSE(e.retry_after);
  EXPECT_EQ(e.summary(), "not_found (HTTP 400) ModelArts.4612: Task not found [request_id hdr-id]");
}

TEST(error_mapping, gateway_body_request_id_wins_over_the_header) {
  const auto e = error_from_response(
      401,
      R"({"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIG.0301","request_id":"body-id"})",
      "hdr-id", "", now);
  EXPECT_EQ(e.kind, errc::auth_failed);
  EXPECT_EQ(e.request_id, "body-id");
  EXPECT_NE(e.summary().find("APIG.0301"), std::string::npos);
}

TEST(error_mapping, throttling_with_retry_after_in_both_forms) {
  auto e =
      error_from_response(429, R"({"error_code":"ModelArts.4206","error_msg":"x"})", "", "3", now);
  EXPECT_EQ(e.kind, errc::throttled);
  EXPECT_EQ(e.retry_after, 3s);
  e = error_from_response(429, R"({"error_code":"APIG.0308","error_msg":"x"})", "",
                          "Sun, 06 Nov 1994 08:49:47 GMT", now);
  EXPECT_EQ(e.retry_after, 10s);
  e = error_from_response(503, "", "", "soon", now);  // unreadable: ignored
  EXPECT_EQ(e.kind, errc::server_error);
  EXPECT_FALSE(e.retry_after);
}

TEST(error_mapping, code_message_and_nested_and_raw_bodies) {
  auto e = error_from_response(403, R"({"code":"ModelArts.0108","message":"denied"})", "", "", now);
  EXPECT_EQ(e.error_code, "ModelArts.0108");
  EXPECT_EQ(e.kind, errc::client_error);
  e = error_from_response(
      401, R"({"error":{"code":401,"message":"The username or password is wrong."}})", "", "", now);
  EXPECT_EQ(e.kind, errc::auth_failed);
  EXPECT_EQ(e.error_msg, "The username or password is wrong.");
  e = error_from_response(502, "<html>Bad Gateway</html>", "", "", now);
  EXPECT_EQ(e.kind, errc::server_error);
  EXPECT_NE(e.error_msg.find("Bad Gateway"), std::string::npos);
}

TEST(error_mapping, decode_failures_carry_the_json_path) {
  const auto e = error_from_decode(
      200, decode_error{"sample_stats.total_sample_count", "expected integer, got \"abc\""}, "rid");
  EXPECT_EQ(e.kind, errc::decode);
  EXPECT_EQ(e.summary(),
            "decode (HTTP 200): sample_stats.total_sample_count: expected integer, got \"abc\" "
            "[request_id rid]");
}

TEST(error_mapping, code_labels) {
  EXPECT_EQ(request_code_label(200, errc::ok), "200");
  EXPECT_EQ(request_code_label(429, errc::throttled), "429");
  EXPECT_EQ(request_code_label(200, errc::decode), "200");
  EXPECT_EQ(request_code_label(0, errc::timeout), "timeout");
  EXPECT_EQ(request_code_label(0, errc::tls), "tls");
  EXPECT_EQ(request_code_label(0, errc::body_too_large), "body_too_large");
  EXPECT_EQ(request_code_label(0, errc::network), "network");
}

// Found by fuzz.http_response (corpus/http_response/edge-obs-text-request-id.http): a
// header may carry bytes above 0x7F and tabs, which went raw into api_error events.
TEST(error_mapping, a_request_id_header_is_made_printable_and_bounded) {
  const auto e = error_from_response(500, "", " \xff\xfe\tid-1 ", "", now);
  EXPECT_EQ(e.request_id, "???id-1");
  const auto d = error_from_decode(200, decode_error{"a", "b"}, std::string(300, 'x'));
  EXPECT_EQ(d.request_id, std::string(128, 'x'));
  EXPECT_EQ(request_id_from_header("4d0c-\x01-ok"), "4d0c-?-ok");
}
