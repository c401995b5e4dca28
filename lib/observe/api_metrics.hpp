// The API client's observer (modelarts::api_observer) implemented with labelwatch's
// metrics: labelwatch_api_requests_total{operation,code},
// labelwatch_api_request_duration_seconds{operation} and
// labelwatch_auth_token_expiry_timestamp_seconds.
#pragma once

#include "modelarts/api_observer.hpp"
#include "observe/metrics.hpp"

namespace labelwatch::observe {

// Same thread rules as metrics: the client calls it on the event loop.
class api_metrics final : public modelarts::api_observer {
 public:
  explicit api_metrics(metrics& m) noexcept : metrics_(m) {}

  // code label: the HTTP status, or the error class when no response arrived
  // (modelarts::request_code_label).
  void on_request(std::string_view op, unsigned http_status, errc outcome,
                  std::chrono::nanoseconds duration) noexcept override;
  void on_token(sys_time expires_at) noexcept override;

 private:
  metrics& metrics_;
};

}  // namespace labelwatch::observe
