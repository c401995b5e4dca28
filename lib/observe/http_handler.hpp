// Serves observe::http_endpoints through net::http_server: the few lines that turn a
// Beast request into an observe::http_request and the answer back into a Beast response.
#pragma once

#include "net/http_server.hpp"
#include "observe/http_endpoints.hpp"

namespace labelwatch::observe {

// Converts one Beast request/response pair. Pure apart from Beast's message types.
http_request to_observe_request(const net::http_request& req);
net::http_response to_beast_response(const http_response& r, unsigned version, bool keep_alive);

// A handler for net::http_server answering every request with `endpoints`. The
// endpoints (and what they read) must outlive the server; the handler runs on the
// server's strand, which must be the thread that owns those sources.
// Note: net::http_server calls prepare_payload() on every response, so a HEAD answer
// goes out with Content-Length: 0 rather than the GET body's length.
net::handler make_http_handler(const http_endpoints& endpoints);

}  // namespace labelwatch::observe
