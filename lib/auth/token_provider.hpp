// IAM tokens for [auth] method = "token": POST {iam}/v3/auth/tokens with password
// authentication scoped to the project (fact sheet §2), the token from the
// X-Subject-Token header, its expiry from token.expires_at. The decisions (when to
// refresh, single flight, failure backoff) are token_state.hpp; this is the coroutine
// around it.
//
// Callers: `acquire()` before each request; on a 401 with that token, `reject(generation)`
// then `acquire()` again and retry once (api_client.cpp does exactly this).
//
// Thread safety: none; one executor, like https_client.
#pragma once

#include "auth/secret.hpp"
#include "auth/token_state.hpp"
#include "modelarts/api_error.hpp"
#include "modelarts/retry_policy.hpp"
#include "net/asio_fwd.hpp"
#include "net/origin.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace labelwatch::net {
class https_client;
}
namespace labelwatch::modelarts {
class api_observer;
}

namespace labelwatch::auth {

struct token_provider_options {
  std::string iam_endpoint;  // [auth] iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com"
  std::string domain_name;
  std::string user_name;
  secret password;
  iam_scope scope;  // [auth] project_name, else [cloud] project_id
  token_state_options state;
  modelarts::retry_budget retry;  // for 429/5xx/network failures of the IAM call itself
};

// A token to send, and the generation to name when the server rejects it.
struct token_lease {
  secret token;
  std::uint64_t generation = 0;
};

class token_provider {
 public:
  // Fails when the IAM endpoint, domain, user or password is missing or malformed; the
  // message names the [auth] key.
  static boost::system::result<std::unique_ptr<token_provider>, std::string> create(
      net::https_client& http, token_provider_options options,
      modelarts::api_observer* observer = nullptr);

  // A valid token, refreshing first when it is due. Failures are api_errors of the IAM
  // call (auth_failed for a wrong password: HTTP 401 from IAM), or the remembered
  // failure while the failure backoff lasts.
  net::awaitable<boost::system::result<token_lease, modelarts::api_error>> acquire();

  // The server rejected the token of `generation` (401): the next acquire() refreshes.
  void reject(std::uint64_t generation) noexcept { state_.rejected(generation); }

  // For labelwatch_auth_token_expiry_timestamp_seconds; nullopt before the first token.
  std::optional<sys_time> expires_at() const noexcept { return state_.expires_at(); }

 private:
  token_provider(net::https_client& http, token_provider_options options, net::origin iam,
                 std::string base_path, modelarts::api_observer* observer);
  net::awaitable<void> refresh();
  net::awaitable<boost::system::result<std::pair<secret, sys_time>, modelarts::api_error>>
  request_token();

  net::https_client& http_;
  token_provider_options options_;
  net::origin iam_;
  std::string base_path_;
  modelarts::api_observer* observer_;
  token_state state_;
  std::optional<modelarts::api_error> last_failure_;
  std::optional<boost::asio::steady_timer> refreshed_;  // woken when a refresh ends
  std::mt19937_64 rng_;
};

}  // namespace labelwatch::auth
