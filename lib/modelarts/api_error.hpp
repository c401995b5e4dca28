// What a failed ModelArts (or IAM) call tells the caller, classified once so every
// consumer (retry policy, tracker, metrics, CLI) agrees on what kind of failure it was.
#pragma once

#include "core/error.hpp"
#include "core/time.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace labelwatch::modelarts {

struct api_error {
  errc kind = errc::network;
  unsigned http_status = 0;  // 0: no HTTP response was received
  std::string error_code;    // "ModelArts.4612", "APIG.0301", ...
  std::string error_msg;
  std::string request_id;    // body request_id, else the X-Request-Id header
  std::string detail;        // local cause: decode path, TLS reason, timeout phase
  std::optional<milliseconds> retry_after;  // from Retry-After, when given

  // One line for logs, events and the CLI: kind, status, code, message, request id.
  // Holds nothing secret: messages come from the server or from labelwatch itself.
  std::string summary() const;
};

// The name of an error class: reason_name() for the nine API classes, and for the local
// failures outside them "body_too_large", "config_invalid", "invalid_argument",
// "cancelled" (never "other", so a message always says what went wrong).
std::string_view error_kind_name(errc e) noexcept;

// Error codes that mean "this task does not exist" (documented as HTTP 400).
bool is_gone_code(std::string_view error_code) noexcept;

// Classifies an HTTP failure from its status and body error code:
//   401, or any status with an APIG(W).0301 / token error code   -> auth_failed
//   429, or APIG(W).0308 / ModelArts.4206 / ModelArts.2799        -> throttled
//   404, or 400 with a gone code (is_gone_code)                  -> not_found
//   500..599                                                     -> server_error
//   408                                                          -> timeout
//   other 4xx                                                    -> client_error
errc classify_http(unsigned status, std::string_view error_code) noexcept;

// Whether the same request may succeed when sent again soon: 429, 502, 503, 504 and
// network failures. Other 4xx never are; a 500 or a timeout is left to the next poll
// (the scheduler backs off per task) rather than multiplied inside one request.
bool is_retryable(const api_error& e) noexcept;

}  // namespace labelwatch::modelarts
