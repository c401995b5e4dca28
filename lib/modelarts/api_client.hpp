// The ModelArts v2 data-management operations labelwatch uses, over https_client:
// URL building (api_url.hpp), authentication (AK/SK signature, IAM token or none),
// retries (retry_policy.hpp), tolerant decoding (decode.hpp) and error classification
// (api_error.hpp, error_mapping.hpp). Every operation returns its value or an api_error;
// none throws except on cancellation of the calling coroutine and on bugs.
//
// Per request:
// - AK/SK: signed headers are host;x-sdk-date (+ content-type when there is a body),
//   Host without :443, X-Sdk-Date from the wall clock at each attempt.
// - token: X-Auth-Token from the token provider. A 401/auth_failed answer makes the
//   client reject that token, fetch a fresh one (one refresh shared by all concurrent
//   requests) and send the request once more; a second auth failure is returned.
// - retries as retry_policy.hpp says: 429/502/503/504/network, Retry-After honoured,
//   backoff with full jitter, a budget of attempts and time; a PUT only when it
//   certainly never reached the server. A wrong SK is one request and one error.
// - every attempt is reported to the api_observer (if any) under its operation name.
//
// Lists: list_* fetch one page at (offset, limit); list_all_* follow the pages to the
// end with `pagination` (pagination.hpp: both readings of "offset", every item exactly
// once, a hard page cap reported as an error).
//
// Lifetime and threads: the client, its https_client and token_provider must outlive
// every pending operation; use them from one executor.
#pragma once

#include "auth/credentials.hpp"
#include "auth/token_provider.hpp"
#include "modelarts/api_error.hpp"
#include "modelarts/retry_policy.hpp"
#include "modelarts/types.hpp"
#include "net/asio_fwd.hpp"
#include "net/origin.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace labelwatch::net {
class https_client;
}

namespace labelwatch::modelarts {

class api_observer;
class api_url;

template <class T>
using api_result = boost::system::result<T, api_error>;

// How requests authenticate.
struct no_auth {};
struct aksk_auth {
  auth::aksk_credentials credentials;
};
struct token_auth {
  auth::token_provider* provider = nullptr;  // not owned
};
using api_auth = std::variant<no_auth, aksk_auth, token_auth>;

struct api_client_options {
  std::string endpoint;    // [cloud] endpoint
  std::string project_id;  // [cloud] project_id
  std::string locale = "en-us";
  retry_budget retry;
};

// One page: `limit` 0 means the endpoint's documented maximum (auto tasks, samples and
// datasets 100, workforce tasks 1000).
struct page_request {
  std::uint64_t offset = 0;
  std::uint32_t limit = 0;
};

// Optional filters of the auto-annotation sample list (fact sheet §4.3); unset ones are
// not sent.
struct sample_filter {
  std::string high_score;
  std::string low_score;
  std::string label_name;
  std::optional<std::int64_t> label_type;
  std::string order;  // "asc" | "desc"
};

// PUT .../acceptance/status `action` (fact sheet §5): 0 pass all, 1 reject all, 2 cancel,
// 3 conflict list (read-only), 4 pass single-accepted and unprocessed, 5 pass single.
enum class acceptance_action_code : std::uint8_t {
  pass_all = 0,
  reject_all = 1,
  cancel = 2,
  conflict_list = 3,
  pass_single_and_unprocessed = 4,
  pass_single = 5,
};

class api_client {
 public:
  // Fails with a message naming the setting when the endpoint or project id is unusable
  // or token auth has no provider.
  static boost::system::result<std::unique_ptr<api_client>, std::string> create(
      net::https_client& http, api_auth auth, api_client_options options,
      api_observer* observer = nullptr);
  ~api_client();
  api_client(const api_client&) = delete;
  api_client& operator=(const api_client&) = delete;

  // GET .../tasks/{task_id}. The returned task's task_id and dataset_id are the ones
  // asked for when the document leaves them out (the documented detail has neither).
  // `raw_body`, when given, receives the body the task was decoded from (the daemon
  // persists exactly what the API said); it must stay valid until the call completes.
  net::awaitable<api_result<auto_task>> get_auto_task(std::string dataset_id, std::string task_id,
                                                      std::string* raw_body = nullptr);

  // GET .../workforce-tasks/{task_id}?sample_stats=true&workforce_stats=true
  // [&label_stats=true].
  // `raw_body` as for get_auto_task.
  net::awaitable<api_result<workforce_task>> get_workforce_task(std::string dataset_id,
                                                                std::string task_id,
                                                                bool label_stats = false,
                                                                std::string* raw_body = nullptr);

  // GET .../auto-annotations/samples/{sample_id}.
  net::awaitable<api_result<sample>> get_sample(std::string dataset_id, std::string sample_id);

  // One page each. `type`: "auto-label" | "pre-label" | "auto-grouping", empty: the
  // server's default.
  net::awaitable<api_result<page<auto_task>>> list_auto_tasks(std::string dataset_id,
                                                              page_request page = {},
                                                              std::string type = {});
  net::awaitable<api_result<page<workforce_task>>> list_workforce_tasks(std::string dataset_id,
                                                                        page_request page = {});
  net::awaitable<api_result<page<sample>>> list_samples(std::string dataset_id,
                                                        page_request page = {},
                                                        sample_filter filter = {});
  net::awaitable<api_result<page<dataset>>> list_datasets(page_request page = {});

  // Every item, each exactly once. `page_size` 0 means the endpoint's maximum;
  // `max_items` > 0 stops after that many (samples can number in the millions).
  net::awaitable<api_result<std::vector<auto_task>>> list_all_auto_tasks(
      std::string dataset_id, std::string type = {}, std::uint32_t page_size = 0);
  net::awaitable<api_result<std::vector<workforce_task>>> list_all_workforce_tasks(
      std::string dataset_id, std::uint32_t page_size = 0);
  net::awaitable<api_result<std::vector<sample>>> list_all_samples(std::string dataset_id,
                                                                   sample_filter filter = {},
                                                                   std::size_t max_items = 0,
                                                                   std::uint32_t page_size = 0);
  net::awaitable<api_result<std::vector<dataset>>> list_all_datasets(std::uint32_t page_size = 0);

  // PUT .../workforce-tasks/{task_id}/acceptance/status?locale=<locale> with
  // {"action": N, "overwrite_last_result": b}. An empty body or {} is success. Retried
  // only when the request certainly never reached the server.
  net::awaitable<api_result<acceptance_status_response>> update_acceptance_status(
      std::string dataset_id, std::string task_id, acceptance_action_code action,
      bool overwrite_last_result);

  const net::origin& origin() const noexcept { return origin_; }

 private:
  struct call_spec;
  api_client(net::https_client& http, api_auth auth, api_client_options options, net::origin origin,
             std::unique_ptr<api_url> urls, api_observer* observer);

  template <class T, class Decode>
  net::awaitable<api_result<T>> call(call_spec spec, const Decode& decode);
  template <class T, class Fetch, class IdOf>
  net::awaitable<api_result<std::vector<T>>> collect_all(std::string_view op, std::uint32_t limit,
                                                         const Fetch& fetch, const IdOf& id_of,
                                                         std::size_t max_items);

  net::https_client& http_;
  api_auth auth_;
  api_client_options options_;
  net::origin origin_;
  std::unique_ptr<api_url> urls_;
  api_observer* observer_;
  std::mt19937_64 rng_;
};

}  // namespace labelwatch::modelarts
