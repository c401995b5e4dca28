// IAM token bookkeeping as a pure state machine: when to refresh, who refreshes, what
// the others do meanwhile, how failures are throttled. token_provider.hpp is the thin
// coroutine around it. Time comes in as `now`; nothing here reads a clock.
//
// Rules:
// - A token is refreshed `margin` before it expires, where margin is
//   min(refresh_before, lifetime / 2) and lifetime = expires_at - time obtained, so a
//   short-lived token is not refreshed on every request.
// - One refresh at a time (single flight): the first caller that finds the token due
//   becomes the refresher; callers that arrive while it runs use the current token if it
//   is still valid, else wait for the refresh to finish.
// - A token the server rejected (401) is never used again once `rejected` was called
//   with its generation; a rejection of an older generation is ignored (someone already
//   refreshed).
// - A failed refresh is not repeated at once: for a backoff that doubles from
//   failure_backoff_min to failure_backoff_max, callers get `fail` (the caller reports
//   the failure it kept) unless a still-valid token exists. A wrong password therefore
//   costs one IAM request per backoff window, never a storm.
#pragma once

#include "auth/secret.hpp"
#include "core/time.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labelwatch::auth {

enum class token_action : std::uint8_t {
  use,      // token() is valid: send with it
  refresh,  // become the refresher: begin_refresh(), fetch, then refresh_succeeded/failed
  wait,     // another refresh is running and no valid token exists: wait, then ask again
  fail,     // the last refresh failed within the backoff and no valid token exists
};

std::string_view to_string(token_action a) noexcept;

struct token_state_options {
  milliseconds refresh_before{std::chrono::minutes{30}};
  milliseconds failure_backoff_min{std::chrono::seconds{5}};
  milliseconds failure_backoff_max{std::chrono::minutes{5}};
};

class token_state {
 public:
  explicit token_state(token_state_options options = {}) noexcept : options_(options) {}

  token_action next(sys_time now) const noexcept;

  // The caller that got `refresh` calls this before fetching.
  void begin_refresh() noexcept { refreshing_ = true; }
  // A new token: bumps the generation and clears the failure backoff.
  void refresh_succeeded(sys_time now, secret token, sys_time expires_at) noexcept;
  void refresh_failed(sys_time now) noexcept;
  bool refreshing() const noexcept { return refreshing_; }

  // A request sent with token generation `generation` was rejected as unauthenticated.
  void rejected(std::uint64_t generation) noexcept;

  // The current token and its generation (0: none yet). Valid when next() says `use`.
  const secret& token() const noexcept { return token_; }
  std::uint64_t generation() const noexcept { return generation_; }
  std::optional<sys_time> expires_at() const noexcept;
  // When the current token becomes due for refresh; nullopt without a token.
  std::optional<sys_time> refresh_at() const noexcept;
  // When a failed refresh may be tried again; nullopt when not in a failure backoff.
  std::optional<sys_time> retry_at() const noexcept;

 private:
  bool valid(sys_time now) const noexcept;

  token_state_options options_;
  secret token_;
  std::uint64_t generation_ = 0;
  sys_time obtained_at_{};
  sys_time expires_at_{};
  bool rejected_ = false;
  bool refreshing_ = false;
  std::uint32_t consecutive_failures_ = 0;
  sys_time failed_at_{};
};

// ---- the IAM request and response (fact sheet §2) ------------------------------------

// The token scope: a project name ("cn-north-4") or, when that is empty, a project id.
struct iam_scope {
  std::string project_name;
  std::string project_id;
};

// The JSON body of POST /v3/auth/tokens for password authentication scoped to a project,
// the shape the ModelArts documentation gives. Contains the password: send it, never
// log it.
std::string iam_password_token_body(std::string_view domain_name, std::string_view user_name,
                                    const secret& password, const iam_scope& scope);

// `token.expires_at` from a 201 response body. The error names what is missing or
// malformed (never echoes the body, which is not secret but is large).
boost::system::result<sys_time, std::string> parse_iam_token_expiry(std::string_view body);

}  // namespace labelwatch::auth
