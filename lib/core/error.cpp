#include "core/error.hpp"

namespace labelwatch {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "labelwatch"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::auth_failed: return "authentication failed";
      case errc::throttled: return "request throttled";
      case errc::not_found: return "resource does not exist";
      case errc::client_error: return "request rejected by the API";
      case errc::server_error: return "API server error";
      case errc::timeout: return "request timed out";
      case errc::network: return "network error";
      case errc::tls: return "TLS error";
      case errc::decode: return "response could not be decoded";
      case errc::invalid_argument: return "invalid argument";
      case errc::config_invalid: return "invalid configuration";
      case errc::store_failed: return "state store failed";
      case errc::cancelled: return "cancelled";
      case errc::body_too_large: return "response body too large";
    }
    return "unknown labelwatch error";
  }
};

}  // namespace

const boost::system::error_category& labelwatch_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view reason_name(errc e) noexcept {
  switch (e) {
    case errc::auth_failed: return "auth_failed";
    case errc::throttled: return "throttled";
    case errc::not_found: return "not_found";
    case errc::client_error: return "client_error";
    case errc::server_error: return "server_error";
    case errc::timeout: return "timeout";
    case errc::network: return "network";
    case errc::tls: return "tls";
    case errc::decode: return "decode";
    default: break;
  }
  return "other";
}

}  // namespace labelwatch
