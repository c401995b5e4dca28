#include "sim/auth.hpp"

#include "auth/signer.hpp"
#include "core/crypto.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace labelwatch::sim {
namespace {

constexpr std::string_view k_prefix = "Incorrect IAM authentication information: ";

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

api_failure apig_0301(std::string_view detail) {
  return api_failure{401, "APIG.0301", std::string(k_prefix) + std::string(detail)};
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr std::array<std::string_view, 15> k_outcomes{
    "ok",       "disabled",        "not_required",  "missing",       "malformed",
    "bad_date", "date_not_signed", "skew",          "unknown_ak",    "signature_mismatch",
    "locked",   "token_missing",   "token_unknown", "token_expired", "token_project_mismatch"};

}  // namespace

// ---- request_view / response helpers (declared in request.hpp) ----------------------

std::optional<std::string_view> request_view::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return trim(v);
  return std::nullopt;
}

std::string_view request_view::path() const noexcept {
  return target.substr(0, target.find('?'));
}

std::string_view request_view::query() const noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::optional<std::string_view> response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

// ---- names -------------------------------------------------------------------------

std::string_view to_string(auth_mode m) noexcept {
  switch (m) {
    case auth_mode::aksk:
      return "aksk";
    case auth_mode::token:
      return "token";
    case auth_mode::none:
      return "none";
  }
  return "none";
}

std::optional<auth_mode> parse_auth_mode(std::string_view s) noexcept {
  if (s == "aksk") return auth_mode::aksk;
  if (s == "token") return auth_mode::token;
  if (s == "none") return auth_mode::none;
  return std::nullopt;
}

std::string_view to_string(auth_outcome o) noexcept {
  return k_outcomes[static_cast<std::size_t>(o)];
}

std::string format_iam_time(sys_time t) {
  auto s = format_rfc3339_ms(t);  // "2019-02-13T06:52:13.855Z"
  if (!s.empty() && s.back() == 'Z') s.insert(s.size() - 1, "000");
  return s;
}

// ---- AK/SK -------------------------------------------------------------------------

aksk_verifier::aksk_verifier(std::vector<access_key_pair> keys, aksk_policy policy)
    : keys_(std::move(keys)), policy_(policy) {}

auth_decision aksk_verifier::fail(key_state& st, auth_outcome why, std::string message,
                                  sys_time now) {
  auth_decision d;
  d.outcome = why;
  d.failure = apig_0301(message);
  if (policy_.lockout_threshold > 0 && ++st.failures > policy_.lockout_threshold) {
    st.failures = 0;
    st.locked_until = saturating_add(now, policy_.lockout_duration);
  }
  return d;
}

auth_decision aksk_verifier::verify(const request_view& r, sys_time now) {
  auth_decision d;
  const auto header = r.header("Authorization");
  if (!header) {
    d.outcome = auth_outcome::missing;
    d.failure = apig_0301("Authorization header not found");
    return d;
  }
  const auto parsed = auth::parse_authorization(*header);
  if (!parsed) {
    d.outcome = auth_outcome::malformed;
    d.failure = apig_0301(
        "Authorization header is not \"SDK-HMAC-SHA256 Access=..., SignedHeaders=..., "
        "Signature=...\"");
    return d;
  }
  const auto key = std::find_if(keys_.begin(), keys_.end(), [&](const access_key_pair& k) {
    return constant_time_equal(k.access_key, parsed->access_key);
  });
  if (key == keys_.end()) {
    d.outcome = auth_outcome::unknown_ak;
    d.failure = apig_0301("the access key does not exist");
    return d;
  }
  auto& st = states_[key->access_key];
  if (st.locked_until) {
    if (now < *st.locked_until) {
      d.outcome = auth_outcome::locked;
      d.failure = apig_0301("AK access failed to reach the limit,forbidden.");
      return d;
    }
    st.locked_until.reset();
    st.failures = 0;
  }
  const auto date_text = r.header(auth::k_header_date);
  const auto date = date_text ? parse_sdk_date(*date_text) : std::nullopt;
  if (!date)
    return fail(st, auth_outcome::bad_date,
                "X-Sdk-Date header not found or not in the form YYYYMMDDTHHMMSSZ", now);
  const auto& names = parsed->signed_headers;
  if (std::find(names.begin(), names.end(), "x-sdk-date") == names.end())
    return fail(st, auth_outcome::date_not_signed, "x-sdk-date must be one of the SignedHeaders",
                now);
  const auto skew = *date > now ? *date - now : now - *date;
  if (skew > policy_.max_skew)
    return fail(st, auth_outcome::skew,
                "X-Sdk-Date " + std::string(*date_text) + " is not within " +
                    format_duration(policy_.max_skew) + " of the server time " +
                    format_sdk_date(now),
                now);

  auth::request_to_sign req;
  req.method = r.method;
  req.path = r.path();
  req.query = r.query();
  req.body = r.body;
  req.content_sha256 = r.header(auth::k_header_content_sha256);
  bool missing_header = false;
  for (const auto& name : names) {
    const auto value = r.header(name);
    if (!value) missing_header = true;
    req.headers.push_back({name, std::string(value.value_or(""))});
  }
  const auto canonical = auth::canonical_request(req);
  const auto expected =
      auth::signature(key->secret_key, auth::string_to_sign(*date_text, canonical));
  if (missing_header || !constant_time_equal(expected, parsed->signature)) {
    auto out = fail(st, auth_outcome::signature_mismatch, "verify aksk signature fail", now);
    out.canonical_request = canonical;
    return out;
  }
  st.failures = 0;
  d.outcome = auth_outcome::ok;
  return d;
}

std::chrono::milliseconds aksk_verifier::locked_for(std::string_view access_key,
                                                    sys_time now) const {
  const auto it = states_.find(access_key);
  if (it == states_.end() || !it->second.locked_until || *it->second.locked_until <= now)
    return std::chrono::milliseconds{0};
  return *it->second.locked_until - now;
}

std::size_t aksk_verifier::locked_count(sys_time now) const {
  return static_cast<std::size_t>(std::count_if(
      states_.begin(), states_.end(),
      [&](const auto& kv) { return kv.second.locked_until && *kv.second.locked_until > now; }));
}

// ---- tokens ------------------------------------------------------------------------

token_store::issued token_store::issue(const std::string& project_id, sys_time now,
                                       std::chrono::milliseconds lifetime, std::uint64_t& rng) {
  static constexpr char chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token = "MIIE";  // real tokens are long PKI blobs starting like this
  while (token.size() < 320) token += chars[splitmix64(rng) % 64];
  constexpr std::size_t k_max_tokens = 100'000;
  if (order_.size() >= k_max_tokens) {
    tokens_.erase(order_.front());
    order_.erase(order_.begin());
  }
  const auto expires = saturating_add(now, lifetime);
  tokens_.emplace(token, entry{project_id, expires});
  order_.push_back(token);
  return issued{token, now, expires};
}

auth_decision token_store::verify(std::optional<std::string_view> token,
                                  std::string_view url_project_id, sys_time now) const {
  auth_decision d;
  if (!token || token->empty()) {
    d.outcome = auth_outcome::token_missing;
    d.failure = apig_0301("x-auth-token not found");
    return d;
  }
  const auto it = tokens_.find(*token);
  if (it == tokens_.end()) {
    d.outcome = auth_outcome::token_unknown;
    d.failure = apig_0301("decrypt token fail");
    return d;
  }
  if (now >= it->second.expires_at) {
    d.outcome = auth_outcome::token_expired;
    d.failure = apig_0301("token expires, expires_at: " + format_iam_time(it->second.expires_at));
    return d;
  }
  if (!url_project_id.empty() && it->second.project_id != url_project_id) {
    d.outcome = auth_outcome::token_project_mismatch;
    d.failure = api_failure{403, "ModelArts.0210",
                            "The project id in the request URL does not match the token."};
    return d;
  }
  d.outcome = auth_outcome::ok;
  return d;
}

void token_store::expire_all(sys_time now) {
  for (auto& [token, e] : tokens_)
    if (e.expires_at > now) e.expires_at = now;
}

}  // namespace labelwatch::sim
