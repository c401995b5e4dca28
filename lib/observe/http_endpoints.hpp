// labelwatch's HTTP endpoints as a function from request to response, with no socket in
// sight (DESIGN.md "HTTP endpoints"). The Beast server adapts its messages to these
// plain types; every route, status and header is unit-tested here.
//
// Routes (GET and HEAD only; HEAD answers as GET without a body):
//   /metrics         Prometheus text 0.0.4; gzip when Accept-Encoding allows it
//   /healthz         200 "ok" while the event loop turns, 503 with the reason otherwise
//   /readyz          200 "ready" once config, auth and the first poll round are good,
//                    503 with every unmet condition otherwise
//   /api/v1/tasks    {"tasks":[...]} every watched task
//   /api/v1/events   {"events":[...]} newest first; ?limit=N (1..max, default 100)
//   /                the status page
// Unknown paths: 404. Other methods on a known path: 405 with `Allow: GET, HEAD`.
// With basic auth configured every route requires it (401 with
// `WWW-Authenticate: Basic realm="labelwatch"`), checked before routing so an
// unauthenticated client learns nothing about the routes.
//
// Threading: handle() is const and reads its sources; call it from the thread that
// owns them (the event loop).
#pragma once

#include "config/config.hpp"
#include "observe/events.hpp"
#include "observe/io_error.hpp"
#include "observe/metrics.hpp"
#include "observe/views.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::observe {

struct http_request {
  std::string_view method;           // "GET", "HEAD", ...
  std::string_view target;           // origin-form: "/api/v1/events?limit=5"
  std::string_view accept_encoding;  // the Accept-Encoding header, if any
  std::string_view authorization;    // the Authorization header, if any
};

struct http_response {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, ... in order
  std::string body;                                          // empty for HEAD
  std::size_t content_length = 0;                            // of the GET body, also for HEAD

  // The value of the first header named `name` (case-insensitive), or "".
  std::string_view header(std::string_view name) const noexcept;
};

// What the app supplies on each request: the current task views and health.
class state_source {
 public:
  virtual ~state_source() = default;
  virtual std::vector<task_view> tasks() const = 0;
  virtual health_view health() const = 0;
};

struct basic_auth_credentials {
  std::string user;
  std::string password;
};

// Reads [server] basic_auth_password_file once at start-up (one trailing newline is
// dropped). nullopt when basic_auth_user is empty (auth off). Fails with a message
// naming the file when the user is set and the file is missing, unreadable or empty,
// or when a password file is given without a user.
io_result<std::optional<basic_auth_credentials>> load_basic_auth(const config::server_config& s);

struct endpoint_options {
  std::optional<basic_auth_credentials> basic_auth;
  std::size_t events_default_limit = 100;
  std::size_t events_max_limit = 1000;
  std::chrono::seconds page_refresh{10};
  std::size_t page_events = 20;  // latest events on the status page
};

// `metrics`, `events` and `state` must outlive the endpoints.
class http_endpoints {
 public:
  http_endpoints(const metrics& m, const event_ring& events, const state_source& state,
                 endpoint_options options);

  http_response handle(const http_request& req) const;

 private:
  http_response metrics_page(const http_request& req) const;
  http_response healthz() const;
  http_response readyz() const;
  http_response tasks_json() const;
  http_response events_json(std::string_view query) const;
  http_response status_page() const;

  const metrics& metrics_;
  const event_ring& events_;
  const state_source& state_;
  endpoint_options options_;
};

// True when an Accept-Encoding value allows gzip (a "gzip" or "*" coding whose q is
// not 0).
bool accepts_gzip(std::string_view accept_encoding) noexcept;

// Parses the ?limit= of /api/v1/events. nullopt with `error` set when it is not an
// integer in 1..max; `fallback` when absent.
std::optional<std::size_t> parse_events_limit(std::string_view query, std::size_t fallback,
                                              std::size_t max, std::string& error);

// The JSON object /api/v1/tasks emits for one task.
boost::json::object task_to_json(const task_view& t, sys_time now);

}  // namespace labelwatch::observe
