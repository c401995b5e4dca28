// Turning what the server answered into an api_error, the same way for every operation
// and for IAM. Pure.
#pragma once

#include "core/time.hpp"
#include "modelarts/api_error.hpp"
#include "modelarts/decode.hpp"

#include <string>
#include <string_view>

namespace labelwatch::modelarts {

// A non-2xx response: error_code/error_msg/request_id from the body (decode_error_body:
// error_code/error_msg, else code/message, else nested, else the raw body), the
// X-Request-Id header when the body has no request_id, the class from classify_http,
// and Retry-After (delta seconds or HTTP date, relative to `now`) when present.
api_error error_from_response(unsigned http_status, std::string_view body,
                              std::string_view x_request_id, std::string_view retry_after,
                              sys_time now);

// A 2xx whose body does not decode: class decode, the JSON path message as detail.
api_error error_from_decode(unsigned http_status, const decode_error& error,
                            std::string_view x_request_id);

// An X-Request-Id header value as it may go into events and messages: visible ASCII
// only (anything else becomes '?'), at most 128 bytes. A header can carry any byte but
// control characters, and request ids are opaque tokens.
std::string request_id_from_header(std::string_view value);

}  // namespace labelwatch::modelarts
