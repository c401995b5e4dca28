#include "app/api_stack.hpp"

#include "auth/credentials.hpp"
#include "auth/token_provider.hpp"
#include "modelarts/api_client.hpp"
#include "net/https_client.hpp"

namespace labelwatch::app {

api_stack::~api_stack() = default;

bool same_transport(const config::cloud_config& a, const config::poll_config& pa,
                    const config::cloud_config& b, const config::poll_config& pb) noexcept {
  return a.endpoint == b.endpoint && a.ca_file == b.ca_file && a.proxy == b.proxy &&
         pa.request_timeout == pb.request_timeout && pa.max_in_flight == pb.max_in_flight &&
         pa.max_rate == pb.max_rate;
}

boost::system::result<std::shared_ptr<api_stack>, std::string> make_api_stack(
    net::asio::any_io_executor ex, const config::cloud_config& cloud, const config::auth_config& auth,
    const config::poll_config& poll, modelarts::api_observer* observer,
    std::shared_ptr<net::https_client> reuse_http) {
  auto stack = std::make_shared<api_stack>();
  stack->cloud = cloud;
  stack->auth = auth;
  stack->poll = poll;
  if (reuse_http) {
    stack->http = std::move(reuse_http);
  } else {
    net::https_client_options http_options;
    http_options.request_timeout = poll.request_timeout;
    http_options.max_in_flight = poll.max_in_flight;
    http_options.max_rate = poll.max_rate;
    // A burst of one second's worth: a round of due polls may start together, the
    // average stays at max_rate.
    http_options.rate_burst = std::max(1.0, poll.max_rate);
    http_options.ca_file = cloud.ca_file;
    http_options.proxy = cloud.proxy;
    auto http = net::https_client::create(ex, http_options);
    if (!http) return http.error();
    stack->http = std::move(*http);
  }

  modelarts::api_auth api_auth = modelarts::no_auth{};
  switch (auth.method) {
    case config::auth_method::none: break;
    case config::auth_method::aksk: {
      auto creds = auth::load_aksk(auth);
      if (!creds) return creds.error();
      api_auth = modelarts::aksk_auth{std::move(*creds)};
      break;
    }
    case config::auth_method::token: {
      auto password = auth::load_password(auth);
      if (!password) return password.error();
      auth::token_provider_options t;
      t.iam_endpoint = auth.iam_endpoint;
      t.domain_name = auth.domain_name;
      t.user_name = auth.user_name;
      t.password = std::move(*password);
      t.scope = auth::iam_scope{auth.project_name, cloud.project_id};
      t.state.refresh_before = auth.token_refresh_before;
      auto p = auth::token_provider::create(*stack->http, std::move(t), observer);
      if (!p) return p.error();
      stack->tokens = std::move(*p);
      api_auth = modelarts::token_auth{stack->tokens.get()};
      break;
    }
  }

  modelarts::api_client_options options;
  options.endpoint = cloud.endpoint;
  options.project_id = cloud.project_id;
  options.locale = cloud.locale;
  auto client = modelarts::api_client::create(*stack->http, std::move(api_auth), options, observer);
  if (!client) return client.error();
  stack->api = std::move(*client);
  return stack;
}

std::shared_ptr<modelarts::api_client> shared_api(const std::shared_ptr<api_stack>& stack) {
  return std::shared_ptr<modelarts::api_client>(stack, stack->api.get());
}

}  // namespace labelwatch::app
