// decode_error_body: the documented error shapes, the fallbacks, and the never-fail rule.
#include "modelarts/decode.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::modelarts;

TEST(error_body, modelarts_shape) {
  const auto e = decode_error_body(R"({"error_msg": "The format of message is error", "error_code": "AS.0001"})");
  EXPECT_EQ(e.error_code, "AS.0001");
  EXPECT_EQ(e.error_msg, "The format of message is error");
  EXPECT_EQ(e.request_id, "");
}

TEST(error_body, gateway_shape_with_request_id) {
  const auto e = decode_error_body(
      R"({"error_msg": "Incorrect IAM authentication information: verify aksk signature fail", "error_code": "APIG.0301", "request_id": "0d8d2b4e5f6a"})");
  EXPECT_EQ(e, (error_body{"APIG.0301", "Incorrect IAM authentication information: verify aksk signature fail",
                           "0d8d2b4e5f6a"}));
}

TEST(error_body, code_and_message_fallback) {
  const auto e = decode_error_body(R"({"code": "ModelArts.4612", "message": "Task not found", "request_id": "r1"})");
  EXPECT_EQ(e, (error_body{"ModelArts.4612", "Task not found", "r1"}));
  const auto n = decode_error_body(R"({"code": 401, "message": "Unauthorized"})");
  EXPECT_EQ(n.error_code, "401");
  EXPECT_EQ(n.error_msg, "Unauthorized");
}

TEST(error_body, error_pair_wins_over_code_pair) {
  const auto e = decode_error_body(
      R"({"code": "ModelArts.4996", "message": "informational", "error_code": "ModelArts.4619", "error_msg": "Workforce task does not exist"})");
  EXPECT_EQ(e.error_code, "ModelArts.4619");
  EXPECT_EQ(e.error_msg, "Workforce task does not exist");
}

TEST(error_body, one_half_of_a_pair_is_enough) {
  const auto e = decode_error_body(R"({"error_code": "ModelArts.0010"})");
  EXPECT_EQ(e.error_code, "ModelArts.0010");
  EXPECT_EQ(e.error_msg, "");
  // Empty strings do not count as a pair.
  const auto f = decode_error_body(R"({"error_code": "", "error_msg": "", "code": "X.1", "message": "m"})");
  EXPECT_EQ(f.error_code, "X.1");
  EXPECT_EQ(f.error_msg, "m");
}

TEST(error_body, nested_objects_are_searched_depth_first) {
  const auto e = decode_error_body(
      R"({"request_id": "top", "status": "failed", "error": {"detail": {"error_code": "ModelArts.4623", "error_msg": "Workforce task is checking"}}})");
  EXPECT_EQ(e, (error_body{"ModelArts.4623", "Workforce task is checking", "top"}));
  const auto a = decode_error_body(
      R"({"errors": [{"note": 1}, {"code": "E1", "message": "first", "request_id": "inner"}, {"code": "E2"}]})");
  EXPECT_EQ(a, (error_body{"E1", "first", "inner"}));
  const auto top_array = decode_error_body(R"([{"error_code": "A.1", "error_msg": "in an array"}])");
  EXPECT_EQ(top_array.error_code, "A.1");
}

TEST(error_body, raw_body_when_nothing_matches) {
  const auto html = decode_error_body("<html>\r\n<body>502   Bad Gateway</body>\n</html>\n");
  EXPECT_EQ(html, (error_body{"", "<html> <body>502 Bad Gateway</body> </html>", ""}));
  const auto json = decode_error_body(R"({"status": 500, "request_id": "r9"})");
  EXPECT_EQ(json, (error_body{"", R"({"status": 500, "request_id": "r9"})", "r9"}));
  const auto truncated_json = decode_error_body(R"({"error_code": "X)");
  EXPECT_EQ(truncated_json.error_code, "");
  EXPECT_EQ(truncated_json.error_msg, R"({"error_code": "X)");
  EXPECT_EQ(decode_error_body(""), (error_body{}));
  EXPECT_EQ(decode_error_body("  \n"), (error_body{}));
}

TEST(error_body, raw_body_is_cut_to_512_bytes_on_a_character_boundary) {
  const std::string body = std::string(511, 'a') + "\xC3\xA9" + std::string(100, 'b');
  const auto e = decode_error_body(body);
  EXPECT_EQ(e.error_msg, std::string(511, 'a'));
  const auto exact = decode_error_body(std::string(2000, 'z'));
  EXPECT_EQ(exact.error_msg, std::string(512, 'z'));
}

TEST(error_body, fields_are_printable_utf8) {
  const auto e = decode_error_body("bad \xff\xfe bytes\x01\x02 and \xE2\x82\xAC");
  EXPECT_EQ(e.error_msg, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes and \xE2\x82\xAC");
  const auto j = decode_error_body(R"({"error_code": "A.1", "error_msg": "line one\nline two\ttab"})");
  EXPECT_EQ(j.error_msg, "line one line two tab");
  const auto long_code = decode_error_body(R"({"error_code": ")" + std::string(300, 'C') + "\"}");
  EXPECT_EQ(long_code.error_code, std::string(128, 'C'));
  // Overlong encodings and surrogates are malformed.
  EXPECT_EQ(decode_error_body("\xC0\xAF|\xED\xA0\x80").error_msg,
            "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}
