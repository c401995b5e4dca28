#include "modelarts/api_error.hpp"

#include <array>

namespace labelwatch::modelarts {

std::string_view error_kind_name(errc e) noexcept {
  switch (e) {
    case errc::body_too_large: return "body_too_large";
    case errc::config_invalid: return "config_invalid";
    case errc::invalid_argument: return "invalid_argument";
    case errc::cancelled: return "cancelled";
    case errc::store_failed: return "store_failed";
    default: break;
  }
  return reason_name(e);
}

std::string api_error::summary() const {
  std::string out(error_kind_name(kind));
  if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ")";
  if (!error_code.empty()) out += " " + error_code;
  if (!error_msg.empty()) out += ": " + error_msg;
  if (!detail.empty()) out += (error_msg.empty() ? ": " : "; ") + detail;
  if (!request_id.empty()) out += " [request_id " + request_id + "]";
  return out;
}

bool is_gone_code(std::string_view code) noexcept {
  static constexpr std::array<std::string_view, 4> gone{"ModelArts.4612", "ModelArts.4619",
                                                        "ModelArts.4631", "ModelArts.4636"};
  for (auto g : gone)
    if (code == g) return true;
  return false;
}

errc classify_http(unsigned status, std::string_view code) noexcept {
  const bool gateway_auth = code == "APIG.0301" || code == "APIGW.0301";
  const bool token_error = code == "ModelArts.0201" || code == "ModelArts.0202" ||
                           code == "ModelArts.0207" || code == "ModelArts.0212" ||
                           code == "ModelArts.4127" || code == "ModelArts.0206";
  if (status == 401 || gateway_auth || token_error) return errc::auth_failed;
  if (status == 429 || code == "APIG.0308" || code == "APIGW.0308" || code == "ModelArts.4206" ||
      code == "ModelArts.2799")
    return errc::throttled;
  if (status == 404 || (status == 400 && is_gone_code(code))) return errc::not_found;
  if (status >= 500 && status <= 599) return errc::server_error;
  if (status == 408) return errc::timeout;
  return errc::client_error;
}

bool is_retryable(const api_error& e) noexcept {
  if (e.kind == errc::network) return true;
  if (e.kind == errc::throttled) return true;
  return e.http_status == 502 || e.http_status == 503 || e.http_status == 504;
}

}  // namespace labelwatch::modelarts
