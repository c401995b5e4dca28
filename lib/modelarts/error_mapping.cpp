// Server answers to api_error (see error_mapping.hpp).
#include "modelarts/error_mapping.hpp"

#include "modelarts/api_observer.hpp"
#include "modelarts/retry_policy.hpp"

namespace labelwatch::modelarts {

api_error error_from_response(unsigned http_status, std::string_view body,
                              std::string_view x_request_id, std::string_view retry_after,
                              sys_time now) {
  auto parsed = decode_error_body(body);
  api_error e;
  e.http_status = http_status;
  e.error_code = std::move(parsed.error_code);
  e.error_msg = std::move(parsed.error_msg);
  e.request_id = parsed.request_id.empty() ? request_id_from_header(x_request_id)
                                           : std::move(parsed.request_id);
  e.kind = classify_http(http_status, e.error_code);
  if (!retry_after.empty()) e.retry_after = parse_retry_after(retry_after, now);
  return e;
}

api_error error_from_decode(unsigned http_status, const decode_error& error,
                            std::string_view x_request_id) {
  api_error e;
  e.kind = errc::decode;
  e.http_status = http_status;
  e.request_id = request_id_from_header(x_request_id);
  e.detail = error.message();
  return e;
}

std::string request_id_from_header(std::string_view value) {
  constexpr std::size_t k_max = 128;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::string out(value.substr(0, k_max));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) c = '?';
  return out;
}

std::string request_code_label(unsigned http_status, errc outcome) {
  if (http_status != 0) return std::to_string(http_status);
  return std::string(error_kind_name(outcome));
}

}  // namespace labelwatch::modelarts
