#include "sim/server.hpp"

#include "net/http_server.hpp"
#include "net/pki.hpp"
#include "net/tls_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace labelwatch::sim {
namespace {

sys_time wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::uint64_t entropy() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

std::filesystem::path make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/labelwatch-sim-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("cannot create a directory for the TLS files under " +
                             std::string(base && *base ? base : "/tmp"));
  return tmpl;
}

net::reply to_reply(response&& r) {
  net::reply out;
  auto& res = out.response;
  res.result(static_cast<unsigned>(r.status == 0 ? 200 : r.status));
  res.set(net::http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  switch (r.action) {
    case wire_action::respond:
      out.action = net::reply_action::respond;
      break;
    case wire_action::hang:
      out.action = net::reply_action::hang;
      break;
    case wire_action::close:
      out.action = net::reply_action::close;
      break;
    case wire_action::reset_mid_body:
      out.action = net::reply_action::reset_mid_body;
      break;
  }
  out.delay = r.delay;
  out.partial_body_bytes = r.partial_body_bytes;
  return out;
}

}  // namespace

simulator::simulator(asio::any_io_executor ex, simulator_options options) {
  std::shared_ptr<asio::ssl::context> tls;
  switch (options.tls) {
    case tls_mode::off:
      break;
    case tls_mode::generate: {
      auto dir =
          std::filesystem::absolute(options.tls_dir.empty() ? make_temp_dir() : options.tls_dir);
      net::pki_options po;
      po.dns_names = options.tls_dns_names;
      po.ip_addresses = options.tls_ip_addresses;
      const auto files = net::write_pki(dir, net::generate_pki(po));
      tls = net::make_server_tls_context(files.server_cert, files.server_key);
      info_.ca_file = files.ca_cert;
      break;
    }
    case tls_mode::files:
      tls = net::make_server_tls_context(options.tls_cert, options.tls_key);
      break;
  }
  info_.project_id = options.world.project_id;
  info_.auth = options.service.auth;
  const auto scenario_name = options.world.name;
  service_ = std::make_shared<service>(std::move(options.world), std::move(options.service),
                                       wall_now(), entropy());

  net::server_options so;
  so.listen = options.listen;
  so.tls = std::move(tls);
  so.max_connections = options.max_connections;
  so.read_timeout = options.read_timeout;
  so.body_limit = options.body_limit;
  so.hang_limit = options.hang_limit;
  so.shutdown_grace = options.shutdown_grace;
  so.server_header = "labelwatch-sim";
  so.name = "sim";
  auto svc = service_;
  server_ = std::make_unique<net::http_server>(
      std::move(ex), std::move(so),
      [svc](const net::http_request& req, const net::peer_info& peer) -> awaitable<net::reply> {
        const auto started = std::chrono::steady_clock::now();
        request_view rv;
        rv.method = req.method_string();
        rv.target = req.target();
        rv.body = req.body();
        rv.from_loopback = peer.loopback;
        rv.headers.reserve(16);
        for (const auto& f : req) rv.headers.emplace_back(f.name_string(), f.value());
        auto resp = svc->handle(rv, wall_now());
        const auto seq = resp.journal_seq;
        auto reply = to_reply(std::move(resp));
        if (seq != 0)
          reply.on_complete = [svc, seq, started] {
            svc->record_duration(seq, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started));
          };
        co_return reply;
      });
  info_.port = server_->port();
  info_.base_url = server_->base_url();
  spdlog::info("labelwatch-sim: scenario \"{}\", project {}, auth {}, listening on {}",
               scenario_name, info_.project_id, to_string(info_.auth), info_.base_url);
}

simulator::~simulator() = default;

void simulator::stop() {
  server_->stop();
}

awaitable<void> simulator::wait_stopped() {
  return server_->wait_stopped();
}

scenario_result<scenario> load_scenario(std::string_view spec) {
  if (spec.starts_with("builtin:")) return builtin_scenario(spec.substr(8));
  const std::string path(spec);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return scenario_error{"", "cannot read scenario file " + path + ": " +
                                  std::error_code(errno, std::generic_category()).message()};
  std::ostringstream text;
  text << in.rdbuf();
  auto s = parse_scenario(text.str(), path);
  if (!s) {
    auto e = s.error();
    // Name the file in content errors too.
    if (!e.path.empty()) e.path = path + ": " + e.path;
    return e;
  }
  if (s->name.empty()) s->name = std::filesystem::path(path).stem().string();
  return s;
}

}  // namespace labelwatch::sim
