#include "observe/http_endpoints.hpp"

#include "fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <boost/json/parse.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace labelwatch;
using namespace labelwatch::observe;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
namespace fx = observe::fixtures;
namespace fs = std::filesystem;

namespace {

const sys_time k_now = from_unix_ms(1606188000000);

struct fake_state final : state_source {
  std::vector<task_view> task_list;
  health_view h;
  std::vector<task_view> tasks() const override { return task_list; }
  health_view health() const override { return h; }
};

std::string inflate_gzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);  // gzip wrapper only
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::string b64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

class endpoints : public ::testing::Test {
 protected:
  endpoints() : m("0.1.0"), ring(50) {
    state.h.now = k_now;
    state.h.last_loop_turn = k_now - 1s;
    state.h.config_loaded = state.h.auth_ok = state.h.first_poll_done = true;
    state.h.version = "0.1.0";
    auto a = make_task_view(fx::auto_key(), fx::seed_auto_task());
    a.status_since = k_now - 3h - 12min;
    a.last_success = k_now - 5s;
    state.task_list.push_back(a);
    auto w = make_task_view(fx::workforce_key(), fx::accepting_workforce_task());
    w.stalled = true;
    w.last_error = "timeout after 10s";
    w.last_error_at = k_now - 1min;
    state.task_list.push_back(w);
    m.update_auto_task(fx::auto_key(), fx::seed_auto_task(), k_now, k_now);
    m.update_workforce_task(fx::workforce_key(), fx::accepting_workforce_task(), k_now, k_now,
                            false);
    for (int i = 1; i <= 30; ++i) {
      auto e = make_task_event(k_now + std::chrono::seconds(i), event_level::info, "task_progress",
                               fx::auto_key(), "auto-label-cars");
      e.fields["i"] = i;
      ring.deliver(e, e.to_json_line());
    }
  }

  http_response get(std::string_view target, std::string_view method = "GET",
                    std::string_view accept_encoding = {}, std::string_view auth = {}) {
    http_endpoints ep(m, ring, state, options);
    return ep.handle(http_request{method, target, accept_encoding, auth});
  }

  metrics m;
  event_ring ring;
  fake_state state;
  endpoint_options options;
};

}  // namespace

TEST_F(endpoints, unknown_paths_are_404_whatever_the_method) {
  for (auto target : {"/nope", "/metrics/", "/metricsx", "/api/v1", "/api/v1/tasks/x", "//", ""}) {
    EXPECT_EQ(get(target).status, 404u) << target;
    EXPECT_EQ(get(target, "POST").status, 404u) << target;
  }
}

TEST_F(endpoints, other_methods_are_405_with_allow) {
  for (auto target : {"/metrics", "/", "/healthz", "/readyz", "/api/v1/tasks", "/api/v1/events"}) {
    for (auto method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"}) {
      const auto r = get(target, method);
      EXPECT_EQ(r.status, 405u) << method << " " << target;
      EXPECT_EQ(r.header("Allow"), "GET, HEAD");
    }
  }
}

TEST_F(endpoints, head_is_get_without_body) {
  for (auto target :
       {"/metrics", "/", "/healthz", "/api/v1/tasks", "/api/v1/events?limit=3", "/nope"}) {
    const auto g = get(target);
    const auto h = get(target, "HEAD");
    EXPECT_EQ(h.status, g.status) << target;
    EXPECT_TRUE(h.body.empty()) << target;
    EXPECT_EQ(h.content_length, g.body.size()) << target;
    EXPECT_EQ(g.content_length, g.body.size()) << target;
    EXPECT_EQ(h.header("Content-Type"), g.header("Content-Type")) << target;
  }
}

TEST_F(endpoints, metrics_plain) {
  const auto r = get("/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.header("Content-Encoding"), "");
  EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(r.body, m.serialize());
  EXPECT_THAT(r.body, HasSubstr("modelarts_workforce_acceptance_samples{"));
}

TEST_F(endpoints, metrics_gzip_round_trip) {
  const auto r = get("/metrics", "GET", "deflate, gzip;q=0.8, br");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  ASSERT_GE(r.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(r.body[1]), 0x8b);
  EXPECT_EQ(inflate_gzip(r.body), m.serialize());
  EXPECT_LT(r.body.size(), m.serialize().size());
  // Refused explicitly: plain text.
  EXPECT_EQ(get("/metrics", "GET", "gzip;q=0").header("Content-Encoding"), "");
}

TEST(accepts_gzip, negotiation) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate"));
  EXPECT_TRUE(accepts_gzip("deflate,gzip"));
  EXPECT_TRUE(accepts_gzip("GZIP;Q=0.001"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("identity, *;q=0.5"));
  EXPECT_TRUE(accepts_gzip(" gzip ; q=1.0 "));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("br;q=1, gzip;q=0, *"));
  EXPECT_FALSE(accepts_gzip("gzipx"));
}

TEST_F(endpoints, healthz_follows_the_loop) {
  auto r = get("/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  state.h.last_loop_turn = k_now - 2min;
  r = get("/healthz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "event loop stalled for 2m\n");
}

TEST_F(endpoints, readyz_gives_the_reasons) {
  EXPECT_EQ(get("/readyz").status, 200u);
  EXPECT_EQ(get("/readyz").body, "ready\n");
  state.h.first_poll_done = false;
  auto r = get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "not ready: first poll round not finished\n");
  state.h.first_poll_done = true;
  state.h.auth_ok = false;
  state.h.auth_problem = "401 APIG.0301 from ModelArts";
  r = get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "not ready: authentication not working: 401 APIG.0301 from ModelArts\n");
  state.h.config_loaded = false;
  EXPECT_THAT(get("/readyz").body, StartsWith("not ready: configuration not loaded; "));
}

TEST_F(endpoints, tasks_json) {
  const auto r = get("/api/v1/tasks");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto v = boost::json::parse(r.body);
  const auto& tasks = v.at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 2u);
  const auto& a = tasks[0].as_object();
  EXPECT_EQ(a.at("kind").as_string(), "auto");
  EXPECT_EQ(a.at("dataset_id").as_string(), "WxCREuCkBSAlQr9xrde");
  EXPECT_EQ(a.at("task_id").as_string(), "XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(a.at("task_name").as_string(), "auto-label-cars");
  EXPECT_EQ(a.at("status").as_string(), "running");
  EXPECT_EQ(a.at("status_code").as_int64(), 1);
  EXPECT_DOUBLE_EQ(a.at("progress_ratio").as_double(), 0.1);
  EXPECT_EQ(a.at("samples").at("total").as_int64(), 49);
  EXPECT_EQ(a.at("samples").at("annotated").as_int64(), 30);
  EXPECT_EQ(a.at("status_since").as_string(), "2020-11-24T00:08:00.000Z");
  EXPECT_EQ(a.at("seconds_in_status").as_int64(), 3 * 3600 + 12 * 60);
  EXPECT_EQ(a.at("last_success").as_string(), "2020-11-24T03:19:55.000Z");
  EXPECT_TRUE(a.at("last_error").is_null());
  EXPECT_TRUE(a.at("api_error").is_null());
  EXPECT_FALSE(a.at("stalled").as_bool());
  EXPECT_FALSE(a.contains("acceptance"));

  const auto& w = tasks[1].as_object();
  EXPECT_EQ(w.at("kind").as_string(), "workforce");
  EXPECT_EQ(w.at("status").as_string(), "accepting");
  EXPECT_TRUE(w.at("stalled").as_bool());
  EXPECT_EQ(w.at("acceptance").at("checked").as_int64(), 50);
  EXPECT_DOUBLE_EQ(w.at("acceptance_pass_rate").as_double(), 0.96);
  EXPECT_EQ(w.at("acceptance_score").as_string(), "A");
  EXPECT_EQ(w.at("last_error").at("message").as_string(), "timeout after 10s");
  EXPECT_EQ(w.at("last_error").at("at").as_string(), "2020-11-24T03:19:00.000Z");
  EXPECT_TRUE(w.at("status_since").is_null());
  EXPECT_TRUE(w.at("seconds_in_status").is_null());
}

TEST_F(endpoints, events_default_and_limit) {
  auto r = get("/api/v1/events");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("events").as_array().size(), 30u);  // default 100, ring holds 30

  r = get("/api/v1/events?foo=1&limit=5");
  v = boost::json::parse(r.body);
  const auto& ev = v.at("events").as_array();
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].at("i").as_int64(), 30);  // newest first
  EXPECT_EQ(ev[4].at("i").as_int64(), 26);
  EXPECT_EQ(ev[0].at("event").as_string(), "task_progress");
  EXPECT_EQ(ev[0].at("task_name").as_string(), "auto-label-cars");
}

TEST_F(endpoints, bad_events_limit_is_400_with_a_message) {
  options.events_max_limit = 500;
  for (auto q : {"limit=0", "limit=-1", "limit=abc", "limit=", "limit", "limit=501", "limit=5x",
                 "limit=1e3", "limit=99999999999999999999999"}) {
    const auto r = get(std::string("/api/v1/events?") + q);
    EXPECT_EQ(r.status, 400u) << q;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto v = boost::json::parse(r.body);
    EXPECT_THAT(std::string(v.at("error").as_string()),
                StartsWith("limit must be an integer from 1 to 500, got \""))
        << q;
  }
  EXPECT_EQ(get("/api/v1/events?limit=500").status, 200u);
  EXPECT_EQ(get("/api/v1/events?limit=1").status, 200u);
}

TEST(parse_events_limit, cases) {
  std::string err;
  EXPECT_EQ(parse_events_limit("", 100, 1000, err), 100u);
  EXPECT_EQ(parse_events_limit("x=1", 100, 1000, err), 100u);
  EXPECT_EQ(parse_events_limit("limit=7&limit=9", 100, 1000, err), 7u);
  EXPECT_EQ(parse_events_limit("limits=3", 100, 1000, err), 100u);
  EXPECT_FALSE(parse_events_limit("limit=%31", 100, 1000, err));
  EXPECT_EQ(err, "limit must be an integer from 1 to 1000, got \"%31\"");
  EXPECT_FALSE(parse_events_limit("limit=" + std::string(100, '9'), 100, 1000, err));
  EXPECT_EQ(err,
            "limit must be an integer from 1 to 1000, got \"" + std::string(32, '9') + "...\"");
}

TEST_F(endpoints, status_page_headers_and_content) {
  const auto r = get("/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_THAT(std::string(r.header("Content-Security-Policy")),
              StartsWith("default-src 'none'; style-src 'sha256-"));
  EXPECT_THAT(r.body, HasSubstr("id=\"task-auto-WxCREuCkBSAlQr9xrde-XGrRZuCV1qmMxnsmD5u\""));
  EXPECT_THAT(r.body, HasSubstr("data-event=\"task_progress\""));
}

TEST_F(endpoints, basic_auth) {
  options.basic_auth = basic_auth_credentials{"prom", "s3cr:et"};
  for (auto target : {"/metrics", "/", "/healthz", "/nope"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 401u) << target;
    EXPECT_EQ(r.header("WWW-Authenticate"), R"(Basic realm="labelwatch", charset="UTF-8")");
    EXPECT_THAT(r.body, Not(HasSubstr("s3cr")));
  }
  const auto ok = "Basic " + b64("prom:s3cr:et");
  EXPECT_EQ(get("/metrics", "GET", {}, ok).status, 200u);
  EXPECT_EQ(get("/metrics", "GET", {}, "basic  " + b64("prom:s3cr:et") + " ").status, 200u);
  EXPECT_EQ(get("/nope", "GET", {}, ok).status, 404u);
  EXPECT_EQ(get("/metrics", "POST", {}, ok).status, 405u);
  EXPECT_EQ(get("/metrics", "HEAD", {}, ok).status, 200u);
  EXPECT_EQ(get("/metrics", "HEAD").status, 401u);
  EXPECT_TRUE(get("/metrics", "HEAD").body.empty());

  for (const std::string& bad :
       {"Basic " + b64("prom:wrong"), "Basic " + b64("other:s3cr:et"), "Basic " + b64("prom"),
        "Basic " + b64("prom:s3cr:et\n"), "Basic " + b64("prom:s3cr:e"), std::string("Basic !!!!"),
        std::string("Basic"), "Bearer " + b64("prom:s3cr:et"), "Basic " + b64(":"),
        std::string("Basic cHJvbTpzM2NyOmV0=")}) {
    EXPECT_EQ(get("/metrics", "GET", {}, bad).status, 401u) << bad;
  }
}

namespace {
struct temp_file {
  fs::path path;
  explicit temp_file(const std::string& content) {
    path = fs::temp_directory_path() /
           ("lw-pass-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { fs::remove(path); }
  static inline int counter = 0;
};
}  // namespace

TEST(load_basic_auth, reads_the_password_file) {
  config::server_config s;
  EXPECT_FALSE(*load_basic_auth(s));  // auth off

  temp_file f("hunter2\n");
  s.basic_auth_user = "prom";
  s.basic_auth_password_file = f.path.string();
  const auto c = load_basic_auth(s);
  ASSERT_TRUE(c);
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->user, "prom");
  EXPECT_EQ((*c)->password, "hunter2");

  temp_file crlf("pa ss\r\n");
  s.basic_auth_password_file = crlf.path.string();
  EXPECT_EQ((*load_basic_auth(s))->password, "pa ss");
}

TEST(load_basic_auth, errors_name_the_file) {
  config::server_config s;
  s.basic_auth_user = "prom";
  s.basic_auth_password_file = "/nonexistent/lw-pass";
  auto r = load_basic_auth(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "[server] basic_auth_password_file /nonexistent/lw-pass: No such file or directory");

  temp_file empty("\n");
  s.basic_auth_password_file = empty.path.string();
  r = load_basic_auth(s);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("is empty"));

  s.basic_auth_password_file.clear();
  EXPECT_FALSE(load_basic_auth(s));
  s.basic_auth_user.clear();
  s.basic_auth_password_file = empty.path.string();
  r = load_basic_auth(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "[server] basic_auth_password_file is set but basic_auth_user is not");
}
