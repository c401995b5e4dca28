// Authentication as ModelArts' API gateway does it (fact sheet §1, §2): AK/SK signature
// verification with the 15-minute date window and the AK lockout, and IAM tokens this
// simulator issued. Pure: `now` comes in, nothing is read from a clock.
//
// Secrets: the SK, tokens and signatures never appear in a decision's messages; the
// canonical request (which holds neither) does, to help debug a client's signer.
#pragma once

#include "core/time.hpp"
#include "sim/request.hpp"
#include "sim/world.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::sim {

enum class auth_mode : std::uint8_t { aksk, token, none };
std::string_view to_string(auth_mode m) noexcept;
std::optional<auth_mode> parse_auth_mode(std::string_view s) noexcept;

// How a request's authentication ended, as the journal records it.
enum class auth_outcome : std::uint8_t {
  ok,               // verified (AK/SK or token)
  disabled,         // --auth none
  not_required,     // IAM token endpoint, control API
  missing,          // no Authorization header
  malformed,        // not "SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…"
  bad_date,         // X-Sdk-Date missing or not YYYYMMDDTHHMMSSZ
  date_not_signed,  // x-sdk-date not among SignedHeaders
  skew,             // X-Sdk-Date more than max_skew away from now
  unknown_ak,
  signature_mismatch,  // includes a signed header that is absent from the request
  locked,              // the AK is locked after too many consecutive failures
  token_missing,
  token_unknown,
  token_expired,
  token_project_mismatch,
};
std::string_view to_string(auth_outcome o) noexcept;

struct auth_decision {
  auth_outcome outcome = auth_outcome::ok;
  std::optional<api_failure> failure;  // set when the request must be refused
  std::string canonical_request;       // on signature_mismatch: what the simulator signed
  bool ok() const noexcept { return !failure; }
};

struct access_key_pair {
  std::string access_key;
  std::string secret_key;
};

struct aksk_policy {
  std::chrono::milliseconds max_skew{std::chrono::minutes(15)};
  // More than `lockout_threshold` consecutive failures lock the AK for
  // `lockout_duration` (fact sheet §1.8: five, five minutes). 0 disables the lockout.
  std::size_t lockout_threshold = 5;
  std::chrono::milliseconds lockout_duration{std::chrono::minutes(5)};
};

class aksk_verifier {
 public:
  aksk_verifier(std::vector<access_key_pair> keys, aksk_policy policy);

  // Verifies r's Authorization header by recomputing the signature over the received
  // method, path, query, the listed signed headers and the body (or the
  // X-Sdk-Content-Sha256 value). Updates the AK's failure count and lockout.
  auth_decision verify(const request_view& r, sys_time now);

  aksk_policy& policy() noexcept { return policy_; }
  void reset_lockouts() { states_.clear(); }
  // Remaining lockout of an AK at `now` (0 when not locked); for the view.
  std::chrono::milliseconds locked_for(std::string_view access_key, sys_time now) const;
  std::size_t locked_count(sys_time now) const;

 private:
  struct key_state {
    std::size_t failures = 0;
    std::optional<sys_time> locked_until;
  };
  auth_decision fail(key_state& st, auth_outcome why, std::string message, sys_time now);

  std::vector<access_key_pair> keys_;
  aksk_policy policy_;
  string_map<key_state> states_;
};

// IAM tokens issued by POST /v3/auth/tokens.
class token_store {
 public:
  struct issued {
    std::string token;
    sys_time issued_at;
    sys_time expires_at;
  };
  // A new opaque token valid for `lifetime`, scoped to `project_id`.
  issued issue(const std::string& project_id, sys_time now, std::chrono::milliseconds lifetime,
               std::uint64_t& rng);
  auth_decision verify(std::optional<std::string_view> token, std::string_view url_project_id,
                       sys_time now) const;
  // Every token expires at `now` (tests of a client's refresh path).
  void expire_all(sys_time now);
  std::size_t size() const noexcept { return tokens_.size(); }

 private:
  struct entry {
    std::string project_id;
    sys_time expires_at;
  };
  string_map<entry> tokens_;
  std::vector<std::string> order_;  // oldest first, to bound memory
};

// "2019-02-13T06:52:13.855000Z": IAM's expires_at form (microseconds).
std::string format_iam_time(sys_time t);

}  // namespace labelwatch::sim
