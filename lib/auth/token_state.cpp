// IAM token refresh decisions and the IAM request/response shapes (see token_state.hpp).
#include "auth/token_state.hpp"

#include "core/backoff.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace labelwatch::auth {

std::string_view to_string(token_action a) noexcept {
  switch (a) {
    case token_action::use:
      return "use";
    case token_action::refresh:
      return "refresh";
    case token_action::wait:
      return "wait";
    case token_action::fail:
      return "fail";
  }
  return "use";
}

bool token_state::valid(sys_time now) const noexcept {
  return generation_ != 0 && !rejected_ && now < expires_at_;
}

std::optional<sys_time> token_state::expires_at() const noexcept {
  if (generation_ == 0) return std::nullopt;
  return expires_at_;
}

std::optional<sys_time> token_state::refresh_at() const noexcept {
  if (generation_ == 0) return std::nullopt;
  const auto lifetime = std::max(milliseconds{0}, expires_at_ - obtained_at_);
  const auto margin = std::min(options_.refresh_before, lifetime / 2);
  return expires_at_ - margin;
}

std::optional<sys_time> token_state::retry_at() const noexcept {
  if (consecutive_failures_ == 0) return std::nullopt;
  return failed_at_ + backoff_ceiling(consecutive_failures_ - 1, options_.failure_backoff_min,
                                      options_.failure_backoff_max);
}

token_action token_state::next(sys_time now) const noexcept {
  const bool ok = valid(now);
  if (refreshing_) return ok ? token_action::use : token_action::wait;
  if (ok && now < *refresh_at()) return token_action::use;
  if (const auto again = retry_at(); again && now < *again)
    return ok ? token_action::use : token_action::fail;
  return token_action::refresh;
}

void token_state::refresh_succeeded(sys_time now, secret token, sys_time expires_at) noexcept {
  token_ = std::move(token);
  ++generation_;
  obtained_at_ = now;
  expires_at_ = expires_at;
  rejected_ = false;
  refreshing_ = false;
  consecutive_failures_ = 0;
}

void token_state::refresh_failed(sys_time now) noexcept {
  refreshing_ = false;
  ++consecutive_failures_;
  failed_at_ = now;
}

void token_state::rejected(std::uint64_t generation) noexcept {
  if (generation != 0 && generation == generation_) rejected_ = true;
}

std::string iam_password_token_body(std::string_view domain_name, std::string_view user_name,
                                    const secret& password, const iam_scope& scope) {
  boost::json::object project;
  if (!scope.project_name.empty())
    project["name"] = scope.project_name;
  else
    project["id"] = scope.project_id;
  boost::json::value body = {{"auth",
                              {{"identity",
                                {{"methods", boost::json::array{"password"}},
                                 {"password",
                                  {{"user",
                                    {{"name", user_name},
                                     {"password", password.reveal()},
                                     {"domain", {{"name", domain_name}}}}}}}}},
                               {"scope", {{"project", std::move(project)}}}}}};
  return boost::json::serialize(body);
}

boost::system::result<sys_time, std::string> parse_iam_token_expiry(std::string_view body) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(body, ec);
  if (ec) return "IAM token response is not JSON (" + ec.message() + ")";
  const auto* root = doc.if_object();
  const auto* token = root ? root->if_contains("token") : nullptr;
  if (!token || !token->is_object())
    return std::string("IAM token response: token: missing object");
  const auto* expires = token->as_object().if_contains("expires_at");
  if (!expires) return std::string("IAM token response: token.expires_at: missing");
  if (!expires->is_string())
    return std::string("IAM token response: token.expires_at: expected a string");
  const auto t = parse_rfc3339(expires->as_string());
  if (!t)
    return "IAM token response: token.expires_at: not an RFC 3339 time: \"" +
           std::string(expires->as_string()) + "\"";
  return *t;
}

}  // namespace labelwatch::auth
