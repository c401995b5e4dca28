// sim_load: a small keep-alive HTTPS load generator for labelwatch-sim (or any server
// speaking the ModelArts API). N connections each send requests back to back for a fixed
// time, every request signed with AK/SK like labelwatchd signs them, and the tool prints
// requests per second and latency percentiles.
//
//   sim_load --ready /tmp/sim/ready.json --connections 16 --duration 10s
//            --path /v2/PID/datasets/DS/tasks/TASK --path /v2/PID/datasets/DS/workforce-tasks/W
#include "auth/signer.hpp"
#include "core/time.hpp"

#include <openssl/ssl.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace lwa = labelwatch::auth;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct target {
  std::string host;  // for Host and SNI
  std::string port;
  bool tls = true;
  std::vector<std::string> paths;  // path?query
};

struct shared_stats {
  std::atomic<std::uint64_t> ok{0}, failed{0}, reconnects{0};
  std::mutex mutex;
  std::vector<std::uint32_t> latencies_us;
};

std::string sdk_date_now() {
  return labelwatch::format_sdk_date(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

http::request<http::string_body> make_request(const target& t, const std::string& path_query,
                                              const std::string& ak, const std::string& sk) {
  http::request<http::string_body> req{http::verb::get, path_query, 11};
  const bool default_port = (t.tls && t.port == "443") || (!t.tls && t.port == "80");
  const auto host = default_port ? t.host : t.host + ":" + t.port;
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "sim_load");
  if (!ak.empty()) {
    const auto date = sdk_date_now();
    req.set("X-Sdk-Date", date);
    const auto q = path_query.find('?');
    lwa::request_to_sign s;
    s.method = "GET";
    s.path = std::string_view(path_query).substr(0, q);
    s.query =
        q == std::string::npos ? std::string_view{} : std::string_view(path_query).substr(q + 1);
    s.headers = {{"host", host}, {"x-sdk-date", date}};
    s.body = "";
    req.set(http::field::authorization, lwa::sign(s, date, ak, sk));
  }
  return req;
}

template <class Stream>
asio::awaitable<bool> run_requests(Stream& stream, const target& t, std::size_t offset,
                                   std::chrono::steady_clock::time_point until,
                                   const std::string& ak, const std::string& sk,
                                   shared_stats& stats, std::vector<std::uint32_t>& latencies) {
  beast::flat_buffer buffer;
  std::size_t i = offset;
  while (std::chrono::steady_clock::now() < until) {
    auto req = make_request(t, t.paths[i++ % t.paths.size()], ak, sk);
    const auto start = std::chrono::steady_clock::now();
    beast::get_lowest_layer(stream).expires_after(30s);
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    (void)wn;
    if (wec) co_return false;
    http::response<http::string_body> res;
    auto [rec, rn] =
        co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
    (void)rn;
    if (rec) co_return false;
    latencies.push_back(
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count()));
    if (res.result() == http::status::ok)
      stats.ok.fetch_add(1, std::memory_order_relaxed);
    else
      stats.failed.fetch_add(1, std::memory_order_relaxed);
    if (!res.keep_alive()) co_return false;
  }
  co_return true;
}

asio::awaitable<void> connection(const target& t, asio::ssl::context* ctx, std::size_t index,
                                 std::chrono::steady_clock::time_point until, const std::string& ak,
                                 const std::string& sk, shared_stats& stats) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  std::vector<std::uint32_t> latencies;
  latencies.reserve(1 << 16);
  while (std::chrono::steady_clock::now() < until) {
    auto [rec, endpoints] =
        co_await resolver.async_resolve(t.host, t.port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      std::cerr << "sim_load: cannot resolve " << t.host << ": " << rec.message() << "\n";
      std::exit(2);
    }
    beast::tcp_stream tcp_stream(ex);
    tcp_stream.expires_after(10s);
    auto [cec, ep] =
        co_await tcp_stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    (void)ep;
    if (cec) {
      std::cerr << "sim_load: cannot connect: " << cec.message() << "\n";
      std::exit(2);
    }
    tcp_stream.socket().set_option(tcp::no_delay(true));
    bool clean = false;
    if (ctx) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *ctx);
      SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str());
      SSL_set1_host(stream.native_handle(), t.host.c_str());
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                   asio::as_tuple(asio::use_awaitable));
      if (hec) {
        std::cerr << "sim_load: TLS handshake failed: " << hec.message() << "\n";
        std::exit(2);
      }
      clean = co_await run_requests(stream, t, index, until, ak, sk, stats, latencies);
    } else {
      clean = co_await run_requests(tcp_stream, t, index, until, ak, sk, stats, latencies);
    }
    if (!clean) stats.reconnects.fetch_add(1, std::memory_order_relaxed);
  }
  std::lock_guard lock(stats.mutex);
  stats.latencies_us.insert(stats.latencies_us.end(), latencies.begin(), latencies.end());
}

std::string read_env_or_file(const std::string& file, const char* env) {
  if (!file.empty()) {
    std::ifstream in(file);
    std::string v;
    std::getline(in, v);
    return v;
  }
  const char* e = std::getenv(env);
  return e ? e : "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sim_load: keep-alive HTTP(S) load with AK/SK signing; prints requests/s"};
  std::string ready, base_url, ca_file, ak_file, sk_file, duration_text = "10s";
  std::vector<std::string> paths;
  std::size_t connections = 8, threads = 1;
  bool no_auth = false;
  app.add_option("--ready", ready, "labelwatch-sim ready file: takes base_url and ca_file from it");
  app.add_option("--base-url", base_url, "https://host:port (instead of --ready)");
  app.add_option("--ca", ca_file, "CA bundle to verify the server (instead of --ready)");
  app.add_option("--path", paths, "Request path (and query); repeat to rotate over several")
      ->required();
  app.add_option("--connections,-c", connections, "Concurrent keep-alive connections")
      ->capture_default_str();
  app.add_option("--duration,-d", duration_text, "How long to run")->capture_default_str();
  app.add_option("--threads", threads, "io_context threads of the load generator")
      ->capture_default_str();
  app.add_option("--access-key-file", ak_file, "AK (default: env HUAWEICLOUD_SDK_AK)");
  app.add_option("--secret-key-file", sk_file, "SK (default: env HUAWEICLOUD_SDK_SK)");
  app.add_flag("--no-auth", no_auth, "Send unsigned requests");
  CLI11_PARSE(app, argc, argv);

  if (!ready.empty()) {
    std::ifstream in(ready);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const auto v = boost::json::parse(text.str(), ec);
    if (ec || !v.is_object()) {
      std::cerr << "sim_load: cannot read " << ready << "\n";
      return 2;
    }
    base_url = std::string(v.at("base_url").as_string());
    if (const auto* ca = v.as_object().if_contains("ca_file"); ca && ca->is_string())
      ca_file = std::string(ca->get_string());
  }
  const auto url = boost::urls::parse_uri(base_url);
  if (!url) {
    std::cerr << "sim_load: --base-url \"" << base_url << "\" is not a URL\n";
    return 2;
  }
  target t;
  t.tls = url->scheme() == "https";
  t.host = std::string(url->host());
  t.port = url->has_port() ? std::string(url->port()) : (t.tls ? "443" : "80");
  t.paths = paths;
  const auto duration = labelwatch::parse_duration(duration_text);
  if (!duration) {
    std::cerr << "sim_load: --duration \"" << duration_text << "\" is not a duration\n";
    return 2;
  }
  std::string ak, sk;
  if (!no_auth) {
    ak = read_env_or_file(ak_file, "HUAWEICLOUD_SDK_AK");
    sk = read_env_or_file(sk_file, "HUAWEICLOUD_SDK_SK");
    if (ak.empty() || sk.empty()) {
      std::cerr << "sim_load: set HUAWEICLOUD_SDK_AK/SK (or --access-key-file/--secret-key-file, "
                   "or --no-auth)\n";
      return 2;
    }
  }

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (t.tls) {
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!ca_file.empty())
      ctx.load_verify_file(ca_file);
    else
      ctx.set_default_verify_paths();
  }

  asio::io_context ioc{static_cast<int>(threads)};
  shared_stats stats;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + *duration;
  for (std::size_t i = 0; i < connections; ++i)
    asio::co_spawn(ioc, connection(t, t.tls ? &ctx : nullptr, i, until, ak, sk, stats),
                   asio::detached);
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& th : pool) th.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto& l = stats.latencies_us;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0.0
                     : l[std::min(l.size() - 1,
                                  static_cast<std::size_t>(p * static_cast<double>(l.size())))] /
                           1000.0;
  };
  const auto total = stats.ok.load() + stats.failed.load();
  std::printf("requests %llu (ok %llu, non-200 %llu), reconnects %llu, %.1f s, %d connections\n",
              static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(stats.ok.load()),
              static_cast<unsigned long long>(stats.failed.load()),
              static_cast<unsigned long long>(stats.reconnects.load()), seconds,
              static_cast<int>(connections));
  std::printf("throughput %.0f requests/s\n", static_cast<double>(total) / seconds);
  std::printf("latency ms p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(0.50), pct(0.90),
              pct(0.99), l.empty() ? 0.0 : l.back() / 1000.0);
  return stats.failed.load() == 0 ? 0 : 1;
}
