// The client stack one configuration describes: HTTPS client (pool, limits, TLS, proxy),
// the IAM token provider for token auth, and the ModelArts API client on top. Shared by
// labelwatchd and the labelwatch CLI, so both read credentials and build clients the
// same way.
#pragma once

#include "config/config.hpp"
#include "net/asio_fwd.hpp"

#include <boost/system/result.hpp>

#include <memory>
#include <string>

namespace labelwatch::net {
class https_client;
}
namespace labelwatch::auth {
class token_provider;
}
namespace labelwatch::modelarts {
class api_client;
class api_observer;
}  // namespace labelwatch::modelarts

namespace labelwatch::app {

// Members are declared so that the API client, which refers to the others, is
// destroyed first.
struct api_stack {
  std::shared_ptr<net::https_client> http;
  std::unique_ptr<auth::token_provider> tokens;
  std::unique_ptr<modelarts::api_client> api;
  config::cloud_config cloud;
  config::auth_config auth;
  config::poll_config poll;

  ~api_stack();
};

// Whether two configurations need different HTTPS clients (endpoint, TLS trust, proxy,
// timeout, limits). When they don't, a reload keeps the open connections.
bool same_transport(const config::cloud_config& a, const config::poll_config& pa,
                    const config::cloud_config& b, const config::poll_config& pb) noexcept;

// Builds the stack: credentials are read now (files, environment, systemd credentials;
// see auth/credentials.hpp). `reuse_http`, when given, is used instead of a new HTTPS
// client (the caller checked same_transport). Errors name the setting or file, never
// a secret.
boost::system::result<std::shared_ptr<api_stack>, std::string> make_api_stack(
    net::asio::any_io_executor ex, const config::cloud_config& cloud, const config::auth_config& auth,
    const config::poll_config& poll, modelarts::api_observer* observer = nullptr,
    std::shared_ptr<net::https_client> reuse_http = nullptr);

// The API client of `stack`, sharing ownership of the whole stack: a job holding it
// keeps the HTTPS client and token provider alive across a reload.
std::shared_ptr<modelarts::api_client> shared_api(const std::shared_ptr<api_stack>& stack);

}  // namespace labelwatch::app
