// The webhook event sink ([events] webhook_url): every event is POSTed to the receiver as
// its JSON line, one event per request, in the order the events happened.
//
// Each request carries
//   Content-Type: application/json
//   X-Labelwatch-Event: <event name>
//   X-Labelwatch-Delivery: <id>      unique per event (process start + sequence); the
//                                    same on every retry, so a receiver can de-duplicate
//   X-Labelwatch-Signature: sha256=<lower-case hex HMAC-SHA256 of the body>
//                                    when a secret is configured
// The secret is read when the sink is configured (start-up and SIGHUP) and is never
// logged or shown anywhere.
//
// Never slows polling: deliver() only appends to a bounded queue
// ([events] webhook_queue_size); a separate coroutine sends. When the queue is full the
// oldest waiting event is dropped and counted (`on_drop`, i.e.
// labelwatch_events_dropped_total{sink="webhook"}). Retries follow webhook_policy.hpp:
// 408/429/5xx and transport failures are retried with the receiver's Retry-After or
// exponential backoff with full jitter, for as long as it takes (the queue bound is what
// limits an outage); other statuses drop the event and count it.
//
// Logs name the receiver by its origin only (scheme://host:port): the path and query of
// the URL may carry a token.
//
// Threading: one executor (the daemon's single-threaded io_context); not thread-safe.
#pragma once

#include "auth/secret.hpp"
#include "config/config.hpp"
#include "net/asio_fwd.hpp"
#include "net/https_client.hpp"
#include "observe/events.hpp"
#include "observe/webhook_policy.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace labelwatch::observe {

// Tunables that are not configuration keys; tests shorten them.
struct webhook_options {
  milliseconds request_timeout{std::chrono::seconds{10}};
  webhook_retry_settings retry;
  // Proxy variables for the client; nullopt: the process environment (see https_client).
  std::optional<net::proxy_environment> proxy_env;
};

// What one configuration of the webhook turns into. Building it reads the secret and the
// CA file, so a reload can be rejected before anything changes.
struct webhook_endpoint {
  webhook_target target;
  std::optional<auth::secret> secret;  // nullopt: requests are not signed
  std::shared_ptr<net::https_client> client;
  std::size_t queue_size = 1000;
  std::string display;  // "https://hooks.example:443", for logs
};

// Builds the endpoint for `events`, or nullopt when webhook_url is empty. Fails with a
// message naming the key or file (never a secret, never the URL's path) when the URL is
// unusable, the secret cannot be read or the CA file cannot be loaded.
boost::system::result<std::optional<webhook_endpoint>, std::string> make_webhook_endpoint(
    net::asio::any_io_executor executor, const config::events_config& events,
    const webhook_options& options = {});

class webhook_sink final : public event_sink, public std::enable_shared_from_this<webhook_sink> {
 public:
  // `on_drop` is called once for every event dropped (queue overflow, refused by the
  // receiver, still queued when the sink stops). Must be owned by a std::shared_ptr
  // (the sending coroutine keeps it alive); call start() to begin sending.
  webhook_sink(net::asio::any_io_executor executor, webhook_endpoint endpoint,
               webhook_options options, std::function<void()> on_drop);
  ~webhook_sink() override;
  webhook_sink(const webhook_sink&) = delete;
  webhook_sink& operator=(const webhook_sink&) = delete;

  std::string_view name() const noexcept override { return "webhook"; }
  // Queues the event. Always true: the new event is kept; an overflow drops the oldest
  // waiting one instead (counted through on_drop).
  bool deliver(const event& e, std::string_view json_line) override;

  // Starts the sending coroutine on the executor. Idempotent.
  void start();
  // Applies a new configuration (SIGHUP): receiver, secret, client, queue bound. Queued
  // events stay and go to the new receiver; a smaller bound drops the oldest. A request
  // in flight finishes against the old receiver.
  void reconfigure(webhook_endpoint endpoint);
  // Waits until every queued event was delivered or refused, or `bound` passed; then
  // stops the sender and counts whatever is still queued as dropped. Returns true when
  // nothing was left. For shutdown.
  net::awaitable<bool> flush(milliseconds bound);
  // Stops sending at once; queued events are counted as dropped. A request in flight
  // is abandoned when the io_context stops.
  void stop();

  struct counters {
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;  // == failures()
    std::uint64_t attempts = 0;
    std::uint64_t retries = 0;
  };
  counters statistics() const noexcept;
  std::size_t queued() const noexcept;
  const std::string& display() const noexcept;

 private:
  struct impl;
  static net::awaitable<void> run(std::shared_ptr<webhook_sink> self);
  net::awaitable<void> send_front();
  void dropped(std::size_t n);

  std::unique_ptr<impl> impl_;
};

}  // namespace labelwatch::observe
