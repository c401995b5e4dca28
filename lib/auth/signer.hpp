// Huawei Cloud AK/SK request signing ("SDK-HMAC-SHA256"), as the API Gateway verifies
// it (fact sheet §1). Pure: no clock, no I/O; the caller supplies the X-Sdk-Date value.
//
// The algorithm is SigV4 without credential scope or key derivation:
//   canonical request = METHOD \n canonical URI \n canonical query \n
//                       canonical headers (each "name:value\n") \n signed headers \n
//                       hex(sha256(body))
//   string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(canonical request))
//   signature         = hex(hmac_sha256(SK, string to sign))
// The simulator verifies with the same functions, so client and server cannot drift.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::auth {

inline constexpr std::string_view k_algorithm = "SDK-HMAC-SHA256";
inline constexpr std::string_view k_header_date = "X-Sdk-Date";
inline constexpr std::string_view k_header_content_sha256 = "X-Sdk-Content-Sha256";

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ with upper-case hex
// (space -> %20, never '+').
std::string uri_encode(std::string_view s);

// Percent-decodes; '+' is kept as '+' unless `plus_is_space`. Malformed escapes are
// kept literally.
std::string uri_decode(std::string_view s, bool plus_is_space = false);

// Each '/'-separated segment decoded then encoded; always ends in '/'; "" -> "/".
std::string canonical_uri(std::string_view path);

// The raw query (no leading '?') parsed, decoded ('+' as space), re-encoded and sorted
// by key then value; "key" without '=' becomes "key=". "" -> "".
std::string canonical_query(std::string_view raw_query);

struct header_field {
  std::string name;
  std::string value;
};

// The headers to sign, lower-cased, trimmed and sorted. Returns the canonical block
// (each "name:value\n") and the signed-header list ("a;b;c").
struct canonical_headers_result {
  std::string block;
  std::string signed_headers;
};
canonical_headers_result canonical_headers(const std::vector<header_field>& headers);

struct request_to_sign {
  std::string_view method;  // upper-cased by the signer
  std::string_view path;    // as sent on the wire, without the query
  std::string_view query;   // as sent on the wire, without '?'
  // Exactly the headers to sign; must contain Host and X-Sdk-Date.
  std::vector<header_field> headers;
  std::string_view body;
  // Set when the request carries X-Sdk-Content-Sha256: its value replaces the body hash.
  std::optional<std::string_view> content_sha256;
};

std::string canonical_request(const request_to_sign& r);
std::string string_to_sign(std::string_view sdk_date, std::string_view canonical_request);
std::string signature(std::string_view secret_key, std::string_view string_to_sign);

// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex"
std::string authorization_value(std::string_view access_key, std::string_view signed_headers,
                                std::string_view signature);

// Signs `r` (whose headers include X-Sdk-Date = `sdk_date`) and returns the value of the
// Authorization header.
std::string sign(const request_to_sign& r, std::string_view sdk_date,
                 std::string_view access_key, std::string_view secret_key);

// The parts of an Authorization header, for verification. nullopt when it is not an
// SDK-HMAC-SHA256 header with Access, SignedHeaders and Signature.
struct parsed_authorization {
  std::string access_key;
  std::vector<std::string> signed_headers;  // lower-case, trimmed, in the order given
  std::string signature;
};
std::optional<parsed_authorization> parse_authorization(std::string_view value);

}  // namespace labelwatch::auth
