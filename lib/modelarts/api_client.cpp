// The ModelArts operations: request building, signing, retries, decoding (see
// api_client.hpp).
#include "modelarts/api_client.hpp"

#include "auth/signer.hpp"
#include "modelarts/api_observer.hpp"
#include "modelarts/api_url.hpp"
#include "modelarts/decode.hpp"
#include "modelarts/error_mapping.hpp"
#include "modelarts/pagination.hpp"
#include "net/https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace labelwatch::modelarts {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view k_json = "application/json";

constexpr std::uint32_t k_max_auto_task_page = 100;
constexpr std::uint32_t k_max_workforce_task_page = 1000;
constexpr std::uint32_t k_max_sample_page = 100;
constexpr std::uint32_t k_max_dataset_page = 100;

sys_time wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

query_params page_query(page_request p, std::uint32_t max_limit) {
  const auto limit = p.limit == 0 ? max_limit : std::min(p.limit, max_limit);
  return {{"limit", std::to_string(limit)}, {"offset", std::to_string(p.offset)}};
}

std::uint32_t effective_limit(page_request p, std::uint32_t max_limit) {
  return p.limit == 0 ? max_limit : std::min(p.limit, max_limit);
}

api_error local_error(errc kind, std::string detail) {
  api_error e;
  e.kind = kind;
  e.detail = std::move(detail);
  return e;
}

// Adds X-Sdk-Date and Authorization: host;x-sdk-date (+ content-type with a body).
void sign_request(net::client_request& req, const auth::aksk_credentials& creds,
                  const net::origin& to, const request_target& target, sys_time now) {
  const auto date = format_sdk_date(now);
  std::vector<auth::header_field> to_sign{{"Host", to.host_header()}, {"X-Sdk-Date", date}};
  if (!req.body.empty()) to_sign.push_back({"Content-Type", std::string(k_json)});
  const auth::request_to_sign r{net::to_string(req.method), target.path, target.query,
                                std::move(to_sign),         req.body,    std::nullopt};
  auto authorization = auth::sign(r, date, creds.access_key.reveal(), creds.secret_key.reveal());
  req.headers.push_back({"X-Sdk-Date", date});
  req.headers.push_back({"Authorization", std::move(authorization)});
}

}  // namespace

struct api_client::call_spec {
  std::string_view operation;
  net::http_method method = net::http_method::get;
  api_url::result target;
  std::string body;
};

boost::system::result<std::unique_ptr<api_client>, std::string> api_client::create(
    net::https_client& http, api_auth auth, api_client_options options, api_observer* observer) {
  using R = boost::system::result<std::unique_ptr<api_client>, std::string>;
  auto url = net::parse_endpoint_url(options.endpoint, "[cloud] endpoint");
  if (!url) return R(boost::system::in_place_error, url.error());
  if (options.project_id.empty())
    return R(boost::system::in_place_error, std::string("[cloud] project_id: is empty"));
  if (options.locale.empty()) options.locale = "en-us";
  if (const auto* t = std::get_if<token_auth>(&auth); t && t->provider == nullptr)
    return R(boost::system::in_place_error,
             std::string("token authentication needs a token provider"));
  auto urls = std::make_unique<api_url>(url->base_path, options.project_id);
  return std::unique_ptr<api_client>(new api_client(http, std::move(auth), std::move(options),
                                                    url->origin, std::move(urls), observer));
}

api_client::api_client(net::https_client& http, api_auth auth, api_client_options options,
                       net::origin origin, std::unique_ptr<api_url> urls, api_observer* observer)
    : http_(http),
      auth_(std::move(auth)),
      options_(std::move(options)),
      origin_(std::move(origin)),
      urls_(std::move(urls)),
      observer_(observer),
      rng_(std::random_device{}()) {}

api_client::~api_client() = default;

template <class T, class Decode>
net::awaitable<api_result<T>> api_client::call(call_spec spec, const Decode& decode) {
  if (!spec.target)
    co_return local_error(errc::invalid_argument,
                          std::string(spec.operation) + ": " + spec.target.error());
  const auto& target = *spec.target;
  const bool idempotent = spec.method == net::http_method::get;
  const auto started = steady::now();
  bool token_refreshed = false;

  for (std::uint32_t attempt = 1;; ++attempt) {
    net::client_request req{
        spec.method, target.target(), {{"Accept", std::string(k_json)}}, spec.body};
    if (!req.body.empty()) req.headers.push_back({"Content-Type", std::string(k_json)});
    std::uint64_t token_generation = 0;
    if (const auto* aksk = std::get_if<aksk_auth>(&auth_)) {
      sign_request(req, aksk->credentials, origin_, target, wall_now());
    } else if (const auto* tok = std::get_if<token_auth>(&auth_)) {
      auto lease = co_await tok->provider->acquire();
      if (!lease) co_return lease.error();
      token_generation = lease->generation;
      req.headers.push_back({"X-Auth-Token", std::string(lease->token.reveal())});
    }

    auto res = co_await http_.send(origin_, std::move(req));
    const auto took = res ? res->duration : res.error().duration;

    api_error err;
    bool never_sent = false;
    if (!res) {
      err = local_error(res.error().kind, std::move(res.error().detail));
      never_sent = res.error().never_sent();
      if (observer_) observer_->on_request(spec.operation, 0, err.kind, took);
    } else if (res->status / 100 == 2) {
      auto decoded = decode(*res);
      if (decoded) {
        if (observer_) observer_->on_request(spec.operation, res->status, errc::ok, took);
        co_return std::move(*decoded);
      }
      err = error_from_decode(res->status, decoded.error(), res->header("X-Request-Id"));
      if (observer_) observer_->on_request(spec.operation, res->status, err.kind, took);
      co_return err;  // the same document would not decode any better a second time
    } else {
      err = error_from_response(res->status, res->body, res->header("X-Request-Id"),
                                res->header("Retry-After"), wall_now());
      if (observer_) observer_->on_request(spec.operation, res->status, err.kind, took);
    }

    // An expired or revoked token: one refresh (shared with concurrent requests), one
    // more try. A second auth failure is the answer.
    if (err.kind == errc::auth_failed && token_generation != 0 && !token_refreshed) {
      token_refreshed = true;
      std::get<token_auth>(auth_).provider->reject(token_generation);
      continue;
    }

    const auto elapsed = std::chrono::duration_cast<milliseconds>(steady::now() - started);
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const auto decision = decide_retry(options_.retry, failed_attempt{err, idempotent, never_sent},
                                       attempt, elapsed, unit);
    if (!decision.retry) co_return err;
    if (observer_) observer_->on_retry(spec.operation, err, decision.delay);
    asio::steady_timer pause(co_await asio::this_coro::executor, decision.delay);
    auto [ec] = co_await pause.async_wait(use_tuple);
    if (ec) co_return local_error(errc::cancelled, std::string(spec.operation) + ": cancelled");
  }
}

template <class T, class Fetch, class IdOf>
net::awaitable<api_result<std::vector<T>>> api_client::collect_all(std::string_view op,
                                                                   std::uint32_t limit,
                                                                   const Fetch& fetch,
                                                                   const IdOf& id_of,
                                                                   std::size_t max_items) {
  pagination pages(limit);
  std::vector<T> out;
  while (!pages.done()) {
    auto got = co_await fetch(page_request{pages.next_offset(), limit});
    if (!got) co_return got.error();
    std::vector<std::string_view> ids;
    ids.reserve(got->items.size());
    for (const auto& item : got->items) ids.push_back(id_of(item));
    const auto fresh = pages.on_page(ids, got->total);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (!fresh[i]) continue;
      out.push_back(std::move(got->items[i]));
      if (max_items != 0 && out.size() >= max_items) co_return out;
    }
  }
  if (pages.capped())
    co_return local_error(errc::decode, std::string(op) + ": the list did not end after " +
                                            std::to_string(pages.pages_fetched()) + " pages (" +
                                            std::to_string(pages.items_collected()) +
                                            " distinct items, offsets read as " +
                                            std::string(to_string(pages.reading())) + ")");
  co_return out;
}

net::awaitable<api_result<auto_task>> api_client::get_auto_task(std::string dataset_id,
                                                                std::string task_id,
                                                                std::string* raw_body) {
  call_spec spec{
      operation::get_auto_task, net::http_method::get, urls_->auto_task(dataset_id, task_id), {}};
  const auto decode = [&](const net::client_response& r) {
    auto t = decode_auto_task(r.body);
    if (t) {
      if (t->task_id.empty()) t->task_id = task_id;
      if (t->dataset_id.empty()) t->dataset_id = dataset_id;
      if (raw_body) *raw_body = r.body;
    }
    return t;
  };
  co_return co_await call<auto_task>(std::move(spec), decode);
}

net::awaitable<api_result<workforce_task>> api_client::get_workforce_task(std::string dataset_id,
                                                                          std::string task_id,
                                                                          bool label_stats,
                                                                          std::string* raw_body) {
  query_params q{{"sample_stats", "true"}, {"workforce_stats", "true"}};
  if (label_stats) q.emplace_back("label_stats", "true");
  call_spec spec{operation::get_workforce_task,
                 net::http_method::get,
                 urls_->workforce_task(dataset_id, task_id, q),
                 {}};
  const auto decode = [&](const net::client_response& r) {
    auto t = decode_workforce_task(r.body);
    if (t && t->dataset_id.empty()) t->dataset_id = dataset_id;
    if (t && raw_body) *raw_body = r.body;
    return t;
  };
  co_return co_await call<workforce_task>(std::move(spec), decode);
}

net::awaitable<api_result<sample>> api_client::get_sample(std::string dataset_id,
                                                          std::string sample_id) {
  call_spec spec{
      operation::get_sample, net::http_method::get, urls_->sample(dataset_id, sample_id), {}};
  const auto decode = [](const net::client_response& r) { return decode_sample(r.body); };
  co_return co_await call<sample>(std::move(spec), decode);
}

net::awaitable<api_result<page<auto_task>>> api_client::list_auto_tasks(std::string dataset_id,
                                                                        page_request p,
                                                                        std::string type) {
  auto q = page_query(p, k_max_auto_task_page);
  if (!type.empty()) q.emplace_back("type", type);
  call_spec spec{
      operation::list_auto_tasks, net::http_method::get, urls_->auto_task_list(dataset_id, q), {}};
  const auto decode = [&](const net::client_response& r) {
    auto pg = decode_auto_task_list(r.body);
    if (pg)
      for (auto& t : pg->items)
        if (t.dataset_id.empty()) t.dataset_id = dataset_id;
    return pg;
  };
  co_return co_await call<page<auto_task>>(std::move(spec), decode);
}

net::awaitable<api_result<page<workforce_task>>> api_client::list_workforce_tasks(
    std::string dataset_id, page_request p) {
  call_spec spec{operation::list_workforce_tasks,
                 net::http_method::get,
                 urls_->workforce_task_list(dataset_id, page_query(p, k_max_workforce_task_page)),
                 {}};
  const auto decode = [&](const net::client_response& r) {
    auto pg = decode_workforce_task_list(r.body);
    if (pg)
      for (auto& t : pg->items)
        if (t.dataset_id.empty()) t.dataset_id = dataset_id;
    return pg;
  };
  co_return co_await call<page<workforce_task>>(std::move(spec), decode);
}

net::awaitable<api_result<page<sample>>> api_client::list_samples(std::string dataset_id,
                                                                  page_request p, sample_filter f) {
  auto q = page_query(p, k_max_sample_page);
  if (!f.high_score.empty()) q.emplace_back("high_score", f.high_score);
  if (!f.low_score.empty()) q.emplace_back("low_score", f.low_score);
  if (!f.label_name.empty()) q.emplace_back("label_name", f.label_name);
  if (f.label_type) q.emplace_back("label_type", std::to_string(*f.label_type));
  if (!f.order.empty()) q.emplace_back("order", f.order);
  call_spec spec{
      operation::list_samples, net::http_method::get, urls_->sample_list(dataset_id, q), {}};
  const auto decode = [](const net::client_response& r) { return decode_sample_list(r.body); };
  co_return co_await call<page<sample>>(std::move(spec), decode);
}

net::awaitable<api_result<page<dataset>>> api_client::list_datasets(page_request p) {
  call_spec spec{operation::list_datasets,
                 net::http_method::get,
                 urls_->dataset_list(page_query(p, k_max_dataset_page)),
                 {}};
  const auto decode = [](const net::client_response& r) { return decode_dataset_list(r.body); };
  co_return co_await call<page<dataset>>(std::move(spec), decode);
}

// The fetchers are named locals passed by reference: gcc 12 destroys a lambda passed as
// a prvalue argument to a coroutine twice.
net::awaitable<api_result<std::vector<auto_task>>> api_client::list_all_auto_tasks(
    std::string dataset_id, std::string type, std::uint32_t page_size) {
  const auto fetch = [&](page_request p) { return list_auto_tasks(dataset_id, p, type); };
  const auto id_of = [](const auto_task& t) -> std::string_view { return t.task_id; };
  co_return co_await collect_all<auto_task>(operation::list_auto_tasks,
                                            effective_limit({0, page_size}, k_max_auto_task_page),
                                            fetch, id_of, 0);
}

net::awaitable<api_result<std::vector<workforce_task>>> api_client::list_all_workforce_tasks(
    std::string dataset_id, std::uint32_t page_size) {
  const auto fetch = [&](page_request p) { return list_workforce_tasks(dataset_id, p); };
  const auto id_of = [](const workforce_task& t) -> std::string_view { return t.task_id; };
  co_return co_await collect_all<workforce_task>(
      operation::list_workforce_tasks, effective_limit({0, page_size}, k_max_workforce_task_page),
      fetch, id_of, 0);
}

net::awaitable<api_result<std::vector<sample>>> api_client::list_all_samples(
    std::string dataset_id, sample_filter filter, std::size_t max_items, std::uint32_t page_size) {
  const auto fetch = [&](page_request p) { return list_samples(dataset_id, p, filter); };
  const auto id_of = [](const sample& s) -> std::string_view { return s.sample_id; };
  co_return co_await collect_all<sample>(operation::list_samples,
                                         effective_limit({0, page_size}, k_max_sample_page), fetch,
                                         id_of, max_items);
}

net::awaitable<api_result<std::vector<dataset>>> api_client::list_all_datasets(
    std::uint32_t page_size) {
  const auto fetch = [&](page_request p) { return list_datasets(p); };
  const auto id_of = [](const dataset& d) -> std::string_view { return d.dataset_id; };
  co_return co_await collect_all<dataset>(operation::list_datasets,
                                          effective_limit({0, page_size}, k_max_dataset_page),
                                          fetch, id_of, 0);
}

net::awaitable<api_result<acceptance_status_response>> api_client::update_acceptance_status(
    std::string dataset_id, std::string task_id, acceptance_action_code action,
    bool overwrite_last_result) {
  const boost::json::value body = {{"action", static_cast<int>(action)},
                                   {"overwrite_last_result", overwrite_last_result}};
  call_spec spec{operation::update_acceptance_status, net::http_method::put,
                 urls_->acceptance_status(dataset_id, task_id, options_.locale),
                 boost::json::serialize(body)};
  const auto decode = [](const net::client_response& r) {
    return decode_acceptance_status(r.body);
  };
  co_return co_await call<acceptance_status_response>(std::move(spec), decode);
}

}  // namespace labelwatch::modelarts
