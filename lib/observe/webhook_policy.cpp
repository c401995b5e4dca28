// Webhook delivery decisions and the bounded queue (see webhook_policy.hpp).
#include "observe/webhook_policy.hpp"

#include "core/backoff.hpp"
#include "core/crypto.hpp"
#include "modelarts/retry_policy.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace labelwatch::observe {
namespace {

// A receiver answering "Retry-After: 0" to every attempt would otherwise have us send
// in a tight loop.
constexpr milliseconds k_min_retry_after{100};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

boost::system::result<webhook_target, std::string> parse_webhook_url(std::string_view url) {
  using fail = boost::system::result<webhook_target, std::string>;
  const auto error = [](std::string_view why) -> fail {
    return {boost::system::in_place_error, "[events] webhook_url " + std::string(why)};
  };
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return error("is not an absolute URL");
  const auto& u = *parsed;
  webhook_target out;
  out.origin.scheme = lower(u.scheme());
  if (out.origin.scheme != "https" && out.origin.scheme != "http")
    return error("must start with https://");
  if (u.has_userinfo()) return error("must not contain user:password@");
  if (u.host_type() == boost::urls::host_type::ipv6) {
    std::string h(u.encoded_host_address());
    if (h.size() >= 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
    out.origin.host = lower(h);
  } else if (u.host_type() == boost::urls::host_type::ipvfuture) {
    return error("has an unsupported host form");
  } else {
    out.origin.host = lower(u.host());
  }
  if (out.origin.host.empty()) return error("has no host");
  out.origin.port = out.origin.tls() ? 443 : 80;
  if (u.has_port()) {
    const auto p = u.port();
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || v == 0 || v > 65535)
      return error("has a port that is not a number in 1..65535");
    out.origin.port = static_cast<std::uint16_t>(v);
  }
  if (!out.origin.tls() && !out.origin.loopback())
    return error("must start with https://; plain http:// is allowed only for loopback hosts");
  out.target = std::string(u.encoded_path());
  if (out.target.empty()) out.target = "/";
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  return out;
}

std::string webhook_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

bool webhook_status_retryable(unsigned status) noexcept {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

webhook_decision decide_webhook_response(const webhook_retry_settings& s, unsigned status,
                                         std::string_view retry_after,
                                         std::uint32_t failed_attempts, sys_time now,
                                         double unit) noexcept {
  if (status >= 200 && status <= 299) return {webhook_outcome::delivered, milliseconds{0}, "delivered"};
  if (!webhook_status_retryable(status)) return {webhook_outcome::drop, milliseconds{0}, "refused"};
  if (const auto wait = modelarts::parse_retry_after(retry_after, now)) {
    const auto delay = std::clamp(*wait, k_min_retry_after, std::max(s.retry_after_cap, k_min_retry_after));
    return {webhook_outcome::retry, delay, "retry-after"};
  }
  return decide_webhook_transport_failure(s, failed_attempts, unit);
}

webhook_decision decide_webhook_transport_failure(const webhook_retry_settings& s,
                                                  std::uint32_t failed_attempts,
                                                  double unit) noexcept {
  // The first failure waits within [0, base), the next within [0, 2 base), ...
  const auto attempt = failed_attempts > 0 ? failed_attempts - 1 : 0;
  return {webhook_outcome::retry, full_jitter_backoff(attempt, s.backoff_base, s.backoff_cap, unit),
          "backoff"};
}

webhook_queue::webhook_queue(std::size_t capacity) noexcept : capacity_(capacity) {}

std::size_t webhook_queue::push(std::string event_name, std::string body) {
  items_.push_back(item{next_id_++, std::move(event_name), std::move(body)});
  return trim();
}

void webhook_queue::pop_front() noexcept {
  if (!items_.empty()) items_.pop_front();
  pinned_ = false;
}

std::size_t webhook_queue::set_capacity(std::size_t capacity) {
  capacity_ = capacity;
  return trim();
}

std::size_t webhook_queue::clear() noexcept {
  const auto n = items_.size();
  items_.clear();
  pinned_ = false;
  return n;
}

std::size_t webhook_queue::trim() {
  const std::size_t keep = pinned_ ? 1 : 0;  // the pinned front stays where it is
  const std::size_t excess = items_.size() - keep > capacity_ ? items_.size() - keep - capacity_ : 0;
  if (excess == 0) return 0;
  const auto first = items_.begin() + static_cast<std::ptrdiff_t>(keep);
  items_.erase(first, first + static_cast<std::ptrdiff_t>(excess));
  return excess;
}

}  // namespace labelwatch::observe
