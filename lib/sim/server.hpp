// labelwatch-sim on the network: the simulator service (service.hpp) behind
// net::http_server, with TLS from generated or given certificates. The entry point for
// the labelwatch-sim executable and for labelwatchd --demo, which embeds it on its own
// io_context.
#pragma once

#include "net/asio_fwd.hpp"
#include "sim/scenario.hpp"
#include "sim/service.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::net {
class http_server;
}

namespace labelwatch::sim {

namespace asio = boost::asio;
using net::awaitable;

enum class tls_mode : std::uint8_t {
  off,       // plain HTTP
  generate,  // a fresh CA + server certificate in `tls_dir` (ca.pem, server.pem, server.key)
  files,     // `tls_cert` (chain) and `tls_key`
};

struct simulator_options {
  std::string listen = "127.0.0.1:0";
  tls_mode tls = tls_mode::generate;
  // generate: where the PKI is written; empty = a new directory under $TMPDIR.
  std::filesystem::path tls_dir;
  // generate: subjectAltNames of the server certificate.
  std::vector<std::string> tls_dns_names{"localhost"};
  std::vector<std::string> tls_ip_addresses{"127.0.0.1", "::1"};
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;

  scenario world;
  service_options service;

  std::size_t max_connections = 1024;
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds hang_limit{std::chrono::minutes(10)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(3)};
};

struct simulator_info {
  std::uint16_t port = 0;
  std::string base_url;           // "https://127.0.0.1:PORT"
  std::filesystem::path ca_file;  // generate: the CA to trust; otherwise empty
  std::string project_id;
  auth_mode auth = auth_mode::aksk;
};

class simulator {
 public:
  // Generates or loads TLS material, binds and starts serving on `ex` (the server runs
  // on a strand of it). Throws std::runtime_error / std::system_error with a message
  // naming the file or address when TLS material or the listen address is unusable.
  simulator(asio::any_io_executor ex, simulator_options options);
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  const simulator_info& info() const noexcept { return info_; }
  // Graceful stop (see net::http_server::stop); returns at once.
  void stop();
  awaitable<void> wait_stopped();

 private:
  std::shared_ptr<service> service_;
  std::unique_ptr<net::http_server> server_;
  simulator_info info_;
};

// Loads "builtin:NAME" (see builtin_scenario) or reads and parses a scenario file.
// Errors name the file (or built-in) and, for content errors, the JSON path.
scenario_result<scenario> load_scenario(std::string_view spec);

}  // namespace labelwatch::sim
