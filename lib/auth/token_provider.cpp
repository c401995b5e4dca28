// The IAM token coroutine around token_state (see token_provider.hpp).
#include "auth/token_provider.hpp"

#include "modelarts/api_observer.hpp"
#include "modelarts/api_url.hpp"
#include "modelarts/error_mapping.hpp"
#include "net/https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace labelwatch::auth {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

sys_time wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

template <class T>
boost::system::result<T, std::string> fail(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

}  // namespace

boost::system::result<std::unique_ptr<token_provider>, std::string> token_provider::create(
    net::https_client& http, token_provider_options options, modelarts::api_observer* observer) {
  using R = std::unique_ptr<token_provider>;
  if (options.iam_endpoint.empty())
    return fail<R>("[auth] iam_endpoint: required for method = \"token\"");
  auto url = net::parse_endpoint_url(options.iam_endpoint, "[auth] iam_endpoint");
  if (!url) return fail<R>(url.error());
  if (options.domain_name.empty())
    return fail<R>("[auth] domain_name: required for method = \"token\"");
  if (options.user_name.empty())
    return fail<R>("[auth] user_name: required for method = \"token\"");
  if (options.password.empty()) return fail<R>("IAM password is empty");
  if (options.scope.project_name.empty() && options.scope.project_id.empty())
    return fail<R>("[auth] project_name or [cloud] project_id: one is required to scope the token");
  return R(new token_provider(http, std::move(options), url->origin, url->base_path, observer));
}

token_provider::token_provider(net::https_client& http, token_provider_options options,
                               net::origin iam, std::string base_path,
                               modelarts::api_observer* observer)
    : http_(http),
      options_(std::move(options)),
      iam_(std::move(iam)),
      base_path_(std::move(base_path)),
      observer_(observer),
      state_(options_.state),
      rng_(std::random_device{}()) {}

net::awaitable<boost::system::result<token_lease, modelarts::api_error>> token_provider::acquire() {
  for (;;) {
    switch (state_.next(wall_now())) {
      case token_action::use:
        co_return token_lease{state_.token(), state_.generation()};
      case token_action::refresh:
        co_await refresh();
        break;
      case token_action::wait:
        if (!refreshed_) {
          refreshed_.emplace(co_await asio::this_coro::executor);
          refreshed_->expires_at(asio::steady_timer::time_point::max());
        }
        co_await refreshed_->async_wait(use_tuple);
        break;
      case token_action::fail:
        if (last_failure_) co_return *last_failure_;
        co_return modelarts::api_error{errc::auth_failed, 0, "", "", "", "no IAM token", {}};
    }
  }
}

net::awaitable<void> token_provider::refresh() {
  state_.begin_refresh();
  // Whatever happens (cancellation included), the refresh ends and waiters wake.
  struct finish {
    token_provider* self;
    bool done = false;
    ~finish() {
      if (!done) {
        self->state_.refresh_failed(wall_now());
        self->last_failure_ =
            modelarts::api_error{errc::cancelled, 0, "", "", "", "IAM token request cancelled", {}};
      }
      if (self->refreshed_) self->refreshed_->cancel();
    }
  } guard{this};

  auto got = co_await request_token();
  const auto now = wall_now();
  if (got) {
    const auto expires = got->second;
    state_.refresh_succeeded(now, std::move(got->first), expires);
    last_failure_.reset();
    if (observer_) observer_->on_token(expires);
  } else {
    state_.refresh_failed(now);
    last_failure_ = got.error();
  }
  guard.done = true;
}

net::awaitable<boost::system::result<std::pair<secret, sys_time>, modelarts::api_error>>
token_provider::request_token() {
  using modelarts::api_error;
  const auto target = modelarts::iam_token_target(base_path_).target();
  const secret body(iam_password_token_body(options_.domain_name, options_.user_name,
                                            options_.password, options_.scope));
  const auto started = steady::now();
  for (std::uint32_t attempt = 1;; ++attempt) {
    net::client_request req{
        net::http_method::post,
        target,
        {{"Content-Type", "application/json;charset=utf8"}, {"Accept", "application/json"}},
        std::string(body.reveal())};
    auto res = co_await http_.send(iam_, std::move(req));
    const auto took = res ? res->duration : res.error().duration;

    api_error err;
    bool never_sent = false;
    if (!res) {
      err.kind = res.error().kind;
      err.detail = "IAM " + res.error().detail;
      never_sent = res.error().never_sent();
      if (observer_) observer_->on_request(modelarts::operation::iam_token, 0, err.kind, took);
    } else if (res->status / 100 == 2) {
      const auto request_id = res->header("X-Request-Id");
      const auto token = res->header("X-Subject-Token");
      auto expiry = parse_iam_token_expiry(res->body);
      if (!token.empty() && expiry) {
        if (observer_)
          observer_->on_request(modelarts::operation::iam_token, res->status, errc::ok, took);
        co_return std::pair<secret, sys_time>{secret(std::string(token)), *expiry};
      }
      err.kind = errc::decode;
      err.http_status = res->status;
      err.request_id = modelarts::request_id_from_header(request_id);
      err.detail = token.empty() ? "IAM response has no X-Subject-Token header" : expiry.error();
      if (observer_)
        observer_->on_request(modelarts::operation::iam_token, res->status, err.kind, took);
      co_return err;
    } else {
      err = modelarts::error_from_response(res->status, res->body, res->header("X-Request-Id"),
                                           res->header("Retry-After"), wall_now());
      if (err.detail.empty()) err.detail = "IAM refused the token request";
      if (observer_)
        observer_->on_request(modelarts::operation::iam_token, res->status, err.kind, took);
    }
    // Creating a token has no side effect worth protecting: retried like a GET.
    const auto elapsed = std::chrono::duration_cast<milliseconds>(steady::now() - started);
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const auto decision = modelarts::decide_retry(
        options_.retry, modelarts::failed_attempt{err, true, never_sent}, attempt, elapsed, unit);
    if (!decision.retry) co_return err;
    if (observer_) observer_->on_retry(modelarts::operation::iam_token, err, decision.delay);
    asio::steady_timer pause(co_await asio::this_coro::executor, decision.delay);
    co_await pause.async_wait(use_tuple);
  }
}

}  // namespace labelwatch::auth
