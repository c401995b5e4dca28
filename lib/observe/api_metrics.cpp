#include "observe/api_metrics.hpp"

#include <spdlog/spdlog.h>

namespace labelwatch::observe {

void api_metrics::on_request(std::string_view op, unsigned http_status, errc outcome,
                             std::chrono::nanoseconds duration) noexcept {
  try {
    const double seconds = std::chrono::duration<double>(duration).count();
    if (http_status != 0) {
      metrics_.observe_api_response(op, http_status, seconds);
    } else {
      metrics_.observe_api_failure(op, outcome, seconds);
    }
  } catch (const std::exception& e) {
    // Only allocation can fail here; a lost sample must not take the client down.
    spdlog::warn("metrics: could not count an API request: {}", e.what());
  }
}

void api_metrics::on_token(sys_time expires_at) noexcept {
  try {
    metrics_.set_token_expiry(expires_at);
  } catch (const std::exception& e) {
    spdlog::warn("metrics: could not record the token expiry: {}", e.what());
  }
}

}  // namespace labelwatch::observe
