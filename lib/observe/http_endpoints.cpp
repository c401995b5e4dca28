// Routing and rendering of labelwatch's HTTP endpoints.
#include "observe/http_endpoints.hpp"

#include "core/json_text.hpp"

#include "core/crypto.hpp"
#include "observe/gzip.hpp"
#include "observe/status_page.hpp"

#include <openssl/evp.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace labelwatch::observe {
namespace {

constexpr std::string_view k_text = "text/plain; charset=utf-8";
constexpr std::string_view k_json = "application/json";
constexpr std::string_view k_metrics_type = "text/plain; version=0.0.4; charset=utf-8";

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

http_response make(unsigned status, std::string_view type, std::string body) {
  http_response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string(type));
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.body = std::move(body);
  return r;
}

// Strict base64 (RFC 4648 with padding); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const bool alnum = std::isalnum(static_cast<unsigned char>(c)) != 0;
    const bool pad_ok = c == '=' && i >= in.size() - 2 && (i == in.size() - 1 || in.back() == '=');
    if (!alnum && c != '+' && c != '/' && !pad_ok) return std::nullopt;
  }
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for; drop them.
  std::size_t len = static_cast<std::size_t>(n);
  if (in.back() == '=') --len;
  if (in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

bool authorized(const std::optional<basic_auth_credentials>& creds, std::string_view header) {
  if (!creds) return true;
  header = trim(header);
  const auto space = header.find(' ');
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "Basic")) return false;
  const auto decoded = base64_decode(trim(header.substr(space + 1)));
  if (!decoded) return false;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  // Both comparisons always run, each in time independent of where the inputs differ.
  const bool user_ok =
      constant_time_equal(std::string_view(*decoded).substr(0, colon), creds->user);
  const bool pass_ok =
      constant_time_equal(std::string_view(*decoded).substr(colon + 1), creds->password);
  return user_ok & pass_ok;
}

boost::json::value opt_time(const std::optional<sys_time>& t) {
  if (!t) return nullptr;
  return boost::json::value(format_rfc3339_ms(*t));
}

boost::json::value opt_number(const std::optional<double>& d) {
  if (!d) return nullptr;
  return boost::json::value(*d);
}

boost::json::object counts(const std::vector<std::pair<std::string, std::int64_t>>& c) {
  boost::json::object o;
  for (const auto& [k, v] : c) o[k] = v;
  return o;
}

}  // namespace

std::string_view http_response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

io_result<std::optional<basic_auth_credentials>> load_basic_auth(const config::server_config& s) {
  if (s.basic_auth_user.empty()) {
    if (!s.basic_auth_password_file.empty())
      return io_error{"[server] basic_auth_password_file is set but basic_auth_user is not"};
    return std::optional<basic_auth_credentials>{};
  }
  if (s.basic_auth_password_file.empty())
    return io_error{"[server] basic_auth_user is set but basic_auth_password_file is not"};
  std::ifstream in(s.basic_auth_password_file, std::ios::binary);
  if (!in) {
    return io_error{"[server] basic_auth_password_file " + s.basic_auth_password_file + ": " +
                    std::strerror(errno)};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string password = ss.str();
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty())
    return io_error{"[server] basic_auth_password_file " + s.basic_auth_password_file +
                    " is empty"};
  return std::optional<basic_auth_credentials>{
      basic_auth_credentials{s.basic_auth_user, std::move(password)}};
}

bool accepts_gzip(std::string_view accept_encoding) noexcept {
  std::optional<double> gzip_q, star_q;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    auto item = trim(accept_encoding.substr(0, comma));
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    const auto coding = trim(item.substr(0, semi));
    double q = 1.0;
    if (semi != std::string_view::npos) {
      auto params = trim(item.substr(semi + 1));
      if (params.size() > 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
        params.remove_prefix(2);
        // q-values are "0", "0.5", "1", "1.000": at most three decimals.
        q = 0.0;
        bool dot = false;
        double scale = 1.0;
        for (char c : params) {
          if (c == '.' && !dot) {
            dot = true;
          } else if (c >= '0' && c <= '9') {
            if (dot) {
              scale /= 10.0;
              q += (c - '0') * scale;
            } else {
              q = q * 10.0 + (c - '0');
            }
          } else {
            break;
          }
        }
      }
    }
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip_q = q;
    } else if (coding == "*") {
      star_q = q;
    }
  }
  if (gzip_q) return *gzip_q > 0.0;
  return star_q && *star_q > 0.0;
}

std::optional<std::size_t> parse_events_limit(std::string_view query, std::size_t fallback,
                                              std::size_t max, std::string& error) {
  std::optional<std::string_view> raw;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = param.find('=');
    if (param.substr(0, eq) == "limit") {
      raw = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
      break;
    }
  }
  if (!raw) return fallback;
  std::size_t n = 0;
  const auto* end = raw->data() + raw->size();
  const auto [ptr, ec] = std::from_chars(raw->data(), end, n);
  if (raw->empty() || ec != std::errc{} || ptr != end || n < 1 || n > max) {
    const std::string shown(raw->substr(0, 32));
    error = "limit must be an integer from 1 to " + std::to_string(max) + ", got \"" + shown +
            (raw->size() > 32 ? "...\"" : "\"");
    return std::nullopt;
  }
  return n;
}

boost::json::object task_to_json(const task_view& t, sys_time now) {
  boost::json::object o;
  o["kind"] = to_string(t.kind);
  o["dataset_id"] = t.dataset_id;
  o["task_id"] = t.task_id;
  o["task_name"] = t.task_name;
  o["status"] = t.status();
  o["status_code"] = t.status_code;
  o["progress_ratio"] = opt_number(t.progress_ratio);
  o["samples"] = counts(t.samples);
  if (t.kind == task_kind::workforce) {
    o["acceptance"] = counts(t.acceptance);
    o["acceptance_pass_rate"] = opt_number(t.acceptance_pass_rate);
    o["acceptance_score"] = t.acceptance_score.empty() ? boost::json::value(nullptr)
                                                       : boost::json::value(t.acceptance_score);
    o["pass_rate"] = opt_number(t.pass_rate);
    o["score"] = opt_number(t.score);
    o["check_rate"] = opt_number(t.check_rate);
  }
  if (!t.api_error_code.empty() || !t.api_error_msg.empty()) {
    o["api_error"] = boost::json::object{{"code", t.api_error_code}, {"message", t.api_error_msg}};
  } else {
    o["api_error"] = nullptr;
  }
  o["status_since"] = opt_time(t.status_since);
  if (t.status_since) {
    o["seconds_in_status"] =
        std::chrono::duration_cast<std::chrono::seconds>(now - *t.status_since).count();
  } else {
    o["seconds_in_status"] = nullptr;
  }
  o["last_success"] = opt_time(t.last_success);
  if (!t.last_error.empty()) {
    o["last_error"] =
        boost::json::object{{"at", opt_time(t.last_error_at)}, {"message", t.last_error}};
  } else {
    o["last_error"] = nullptr;
  }
  o["stalled"] = t.stalled;
  return o;
}

http_endpoints::http_endpoints(const metrics& m, const event_ring& events,
                               const state_source& state, endpoint_options options)
    : metrics_(m), events_(events), state_(state), options_(std::move(options)) {}

http_response http_endpoints::handle(const http_request& req) const {
  if (!authorized(options_.basic_auth, req.authorization)) {
    auto r = make(401, k_text, "authentication required\n");
    r.headers.emplace_back("WWW-Authenticate", R"(Basic realm="labelwatch", charset="UTF-8")");
    r.content_length = r.body.size();
    if (req.method == "HEAD") r.body.clear();
    return r;
  }

  const auto q = req.target.find('?');
  const auto path = req.target.substr(0, q);
  const auto query = q == std::string_view::npos ? std::string_view{} : req.target.substr(q + 1);

  enum class route { metrics, healthz, readyz, tasks, events, page, none };
  route which = route::none;
  if (path == "/metrics")
    which = route::metrics;
  else if (path == "/healthz")
    which = route::healthz;
  else if (path == "/readyz")
    which = route::readyz;
  else if (path == "/api/v1/tasks")
    which = route::tasks;
  else if (path == "/api/v1/events")
    which = route::events;
  else if (path == "/")
    which = route::page;

  http_response r;
  if (which == route::none) {
    r = make(404, k_text, "not found\n");
  } else if (req.method != "GET" && req.method != "HEAD") {
    r = make(405, k_text, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
  } else {
    switch (which) {
      case route::metrics:
        r = metrics_page(req);
        break;
      case route::healthz:
        r = healthz();
        break;
      case route::readyz:
        r = readyz();
        break;
      case route::tasks:
        r = tasks_json();
        break;
      case route::events:
        r = events_json(query);
        break;
      case route::page:
        r = status_page();
        break;
      case route::none:
        break;
    }
  }
  r.content_length = r.body.size();
  if (req.method == "HEAD") r.body.clear();
  return r;
}

http_response http_endpoints::metrics_page(const http_request& req) const {
  auto text = metrics_.serialize();
  if (accepts_gzip(req.accept_encoding)) {
    auto r = make(200, k_metrics_type, gzip_compress(text));
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.headers.emplace_back("Vary", "Accept-Encoding");
    return r;
  }
  auto r = make(200, k_metrics_type, std::move(text));
  r.headers.emplace_back("Vary", "Accept-Encoding");
  return r;
}

http_response http_endpoints::healthz() const {
  const auto c = evaluate_liveness(state_.health());
  return make(c.ok ? 200 : 503, k_text, c.reason + "\n");
}

http_response http_endpoints::readyz() const {
  const auto c = evaluate_readiness(state_.health());
  return make(c.ok ? 200 : 503, k_text, c.reason + "\n");
}

http_response http_endpoints::tasks_json() const {
  const auto now = state_.health().now;
  boost::json::array arr;
  const auto tasks = state_.tasks();
  arr.reserve(tasks.size());
  for (const auto& t : tasks) arr.push_back(task_to_json(t, now));
  return make(200, k_json, json_text(boost::json::object{{"tasks", std::move(arr)}}));
}

http_response http_endpoints::events_json(std::string_view query) const {
  std::string error;
  const auto limit =
      parse_events_limit(query, options_.events_default_limit, options_.events_max_limit, error);
  if (!limit)
    return make(400, k_json, json_text(boost::json::object{{"error", error}}));
  // The ring keeps each event's rendered line: join them instead of re-serialising.
  std::string body = "{\"events\":[";
  bool first = true;
  for (const auto* e : events_.latest(*limit)) {
    if (!first) body.push_back(',');
    first = false;
    body += e->json_line;
  }
  body += "]}";
  return make(200, k_json, std::move(body));
}

http_response http_endpoints::status_page() const {
  status_page_input in;
  in.tasks = state_.tasks();
  in.health = state_.health();
  in.refresh = options_.page_refresh;
  for (const auto* e : events_.latest(options_.page_events)) in.events.push_back(&e->ev);
  auto r = make(200, "text/html; charset=utf-8", render_status_page(in));
  r.headers.emplace_back("Content-Security-Policy", status_page_csp());
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace labelwatch::observe
