// Properties of the HTTPS client's response path (net/http_response.hpp: the parser with
// the client's body and header limits, the classification of how a read ended) and of
// what the ModelArts client makes of a non-2xx answer (modelarts::error_from_response).
// Shared by the `http_response` libFuzzer target and the corpus replay in
// tests/unit/net/fuzz_corpus_test.cpp. A violated property aborts with a message.
#pragma once

#include <string_view>

namespace labelwatch::fuzz {

// Input: one control byte, then the bytes a server sends on the connection.
//   control bit 0: the connection ends with a TLS truncation (no close_notify) instead
//                  of a clean end of stream;
//   control bit 1: it ends with a TCP reset instead;
//   control bits 2..7: chunking of the bytes as they arrive (0: all at once).
// The bytes are read with http::read exactly as the client reads a response (its
// parser configuration, then finish_response_read), once all at once and once in the
// chunks the control byte asks for, with the client's default body limit and with a
// 64-byte one.
void check_http_response(std::string_view data);

}  // namespace labelwatch::fuzz
