#include "auth/signer.hpp"

#include <gtest/gtest.h>

namespace lw = labelwatch::auth;

namespace {

// Fact sheet §1.9 TV1: the official "API Request Signing Guide" example.
constexpr std::string_view tv1_ak = "QTWAOYTTINDUT2QVKYUC";
constexpr std::string_view tv1_sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
constexpr std::string_view tv1_date = "20191115T033655Z";

lw::request_to_sign tv1_request() {
  return lw::request_to_sign{
      .method = "GET",
      .path = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
      .query = "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
      .headers = {{"Content-Type", "application/json"},
                  {"Host", "service.region.example.com"},
                  {"X-Sdk-Date", std::string(tv1_date)}},
      .body = "",
      .content_sha256 = std::nullopt,
  };
}

}  // namespace

TEST(signer, tv1_canonical_request_byte_for_byte) {
  EXPECT_EQ(lw::canonical_request(tv1_request()),
            "GET\n"
            "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n"
            "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
            "content-type:application/json\n"
            "host:service.region.example.com\n"
            "x-sdk-date:20191115T033655Z\n"
            "\n"
            "content-type;host;x-sdk-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(signer, tv1_string_to_sign_and_signature) {
  const auto sts = lw::string_to_sign(tv1_date, lw::canonical_request(tv1_request()));
  EXPECT_EQ(sts,
            "SDK-HMAC-SHA256\n20191115T033655Z\n"
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
  EXPECT_EQ(lw::signature(tv1_sk, sts),
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
}

TEST(signer, tv1_authorization_header) {
  EXPECT_EQ(lw::sign(tv1_request(), tv1_date, tv1_ak, tv1_sk),
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, "
            "SignedHeaders=content-type;host;x-sdk-date, "
            "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
}

TEST(signer, go_sdk_query_vector_sorts_keys_and_repeated_values) {
  // huaweicloud-sdk-go-v3 signer_test.go (fact sheet §1.2), raw query in scrambled order.
  EXPECT_EQ(lw::canonical_query("test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29&multi=3&limit=1"
                                "&multi=1&enable=true&path=%2Ftmp%2F123&multi=2"),
            "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&"
            "test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29");
}

TEST(signer, query_edge_cases) {
  EXPECT_EQ(lw::canonical_query(""), "");
  EXPECT_EQ(lw::canonical_query("flag"), "flag=");
  EXPECT_EQ(lw::canonical_query("a=1&&b=2"), "a=1&b=2");
  EXPECT_EQ(lw::canonical_query("q=a+b"), "q=a%20b");  // '+' in a query is a space
  EXPECT_EQ(lw::canonical_query("q=~x*"), "q=~x%2A");
  EXPECT_EQ(lw::canonical_query("b=2&a=3&a=1"), "a=1&a=3&b=2");
}

TEST(signer, canonical_uri_encodes_segments_and_appends_slash) {
  EXPECT_EQ(lw::canonical_uri(""), "/");
  EXPECT_EQ(lw::canonical_uri("/"), "/");
  EXPECT_EQ(lw::canonical_uri("/v2/p/datasets/d/workforce-tasks/w/acceptance/status"),
            "/v2/p/datasets/d/workforce-tasks/w/acceptance/status/");
  EXPECT_EQ(lw::canonical_uri("/a b/c"), "/a%20b/c/");
  EXPECT_EQ(lw::canonical_uri("/a%20b/"), "/a%20b/");  // decoded, then encoded once
  EXPECT_EQ(lw::canonical_uri("/x/\xe4\xb8\x80"), "/x/%E4%B8%80/");
}

TEST(signer, body_hash_and_unsigned_payload) {
  auto r = tv1_request();
  r.method = "put";
  r.body = R"({"action":0})";
  const auto with_body = lw::canonical_request(r);
  EXPECT_EQ(with_body.substr(0, 4), "PUT\n");
  // sha256 of {"action":0}, computed independently with Python's hashlib.
  EXPECT_EQ(with_body.substr(with_body.size() - 64),
            "66a06e0ce8990c8cc76f356bed400141dd6b2f1beac130c4d61333d1acb85137");

  r.content_sha256 = "UNSIGNED-PAYLOAD";
  const auto unsigned_body = lw::canonical_request(r);
  EXPECT_EQ(unsigned_body.substr(unsigned_body.size() - 17), "\nUNSIGNED-PAYLOAD");
}

TEST(signer, header_values_trimmed_names_lowered_and_sorted) {
  const auto h = lw::canonical_headers({{"X-Sdk-Date", " 20191115T033655Z "},
                                        {"HOST", "h.example.com:8443"},
                                        {"Content-Type", "application/json"}});
  EXPECT_EQ(h.block,
            "content-type:application/json\nhost:h.example.com:8443\n"
            "x-sdk-date:20191115T033655Z\n");
  EXPECT_EQ(h.signed_headers, "content-type;host;x-sdk-date");
}

TEST(signer, tampering_changes_the_signature) {
  const auto good = lw::sign(tv1_request(), tv1_date, tv1_ak, tv1_sk);
  auto r = tv1_request();
  r.query = "limit=3&marker=13551d6b-755d-4757-b956-536f674975c0";
  EXPECT_NE(lw::sign(r, tv1_date, tv1_ak, tv1_sk), good);
  EXPECT_NE(lw::sign(tv1_request(), tv1_date, tv1_ak, "wrong-secret"), good);
}

TEST(signer, parse_authorization_round_trip) {
  const auto parsed = lw::parse_authorization(lw::sign(tv1_request(), tv1_date, tv1_ak, tv1_sk));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->access_key, tv1_ak);
  EXPECT_EQ(parsed->signed_headers, (std::vector<std::string>{"content-type", "host", "x-sdk-date"}));
  EXPECT_EQ(parsed->signature, "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
}

TEST(signer, parse_authorization_rejects_malformed_values) {
  EXPECT_FALSE(lw::parse_authorization(""));
  EXPECT_FALSE(lw::parse_authorization("Bearer abc"));
  EXPECT_FALSE(lw::parse_authorization("SDK-HMAC-SHA256 Access=a, Signature=b"));
  EXPECT_FALSE(lw::parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=, Signature=b"));
  EXPECT_FALSE(lw::parse_authorization("SDK-HMAC-SHA256 Credential=x/y, SignedHeaders=h, Signature=b"));
  EXPECT_FALSE(lw::parse_authorization("SDK-HMAC-SHA256Access=a, SignedHeaders=h, Signature=b"));
}

TEST(signer, uri_encode_keeps_only_unreserved) {
  EXPECT_EQ(lw::uri_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(lw::uri_encode(" /+*"), "%20%2F%2B%2A");
  EXPECT_EQ(lw::uri_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(lw::uri_decode("a+b", true), "a b");
  EXPECT_EQ(lw::uri_decode("a+b"), "a+b");
}

// Found by fuzz.signer (tests/fuzz/corpus/signer/regress-empty-header-name.txt): a
// leading header with an empty name lost its ';' slot in SignedHeaders, so the list no
// longer named the lines of the canonical block one to one.
TEST(signer, signed_headers_name_every_canonical_line) {
  const auto h = lw::canonical_headers({{"Host", "h"}, {"", "a"}, {"", "b"}});
  EXPECT_EQ(h.block, ":a\n:b\nhost:h\n");
  EXPECT_EQ(h.signed_headers, ";;host");
}
