// The webhook sink's I/O side: the sending coroutine, its retries and the shutdown
// flush (see webhook.hpp; the decisions are in webhook_policy.cpp).
#include "observe/webhook.hpp"

#include "auth/credentials.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <random>

namespace labelwatch::observe {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

sys_time wall_now() {
  return std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
}

template <class T>
boost::system::result<T, std::string> fail(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

}  // namespace

boost::system::result<std::optional<webhook_endpoint>, std::string> make_webhook_endpoint(
    asio::any_io_executor executor, const config::events_config& events,
    const webhook_options& options) {
  using out = std::optional<webhook_endpoint>;
  if (events.webhook_url.empty()) return out{};
  auto target = parse_webhook_url(events.webhook_url);
  if (!target) return fail<out>(target.error());
  auto secret = auth::load_webhook_secret(events);
  if (!secret) return fail<out>("[events] " + secret.error());

  net::https_client_options o;
  o.request_timeout = options.request_timeout;
  o.max_in_flight = 1;  // one event at a time keeps them in order
  o.max_rate = 0.0;
  o.body_limit = 64 * 1024;  // the receiver's answer is not read beyond its status
  // Receivers commonly drop idle keep-alive connections after a few seconds; a POST on
  // such a connection fails and costs a retry, so do not keep them longer than that.
  o.idle_timeout = std::chrono::seconds{4};
  o.ca_file = events.webhook_ca_file;
  o.proxy_env = options.proxy_env;
  auto client = net::https_client::create(std::move(executor), std::move(o));
  if (!client) return fail<out>("[events] webhook_ca_file: " + client.error());

  webhook_endpoint ep;
  ep.display = target->origin.to_string();
  ep.target = std::move(*target);
  ep.secret = std::move(*secret);
  ep.client = std::shared_ptr<net::https_client>(std::move(*client));
  ep.queue_size = events.webhook_queue_size;
  return out{std::move(ep)};
}

struct webhook_sink::impl {
  impl(const asio::any_io_executor& ex, webhook_endpoint e, webhook_options o,
       std::function<void()> drop)
      : executor(ex),
        ep(std::move(e)),
        opt(std::move(o)),
        on_drop(std::move(drop)),
        queue(ep.queue_size),
        wake(ex),
        backoff(ex),
        drained(ex),
        rng(std::random_device{}()),
        delivery_prefix(std::to_string(to_unix_ms(wall_now())) + "-") {}

  double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  asio::any_io_executor executor;
  webhook_endpoint ep;
  webhook_options opt;
  std::function<void()> on_drop;
  webhook_queue queue;
  asio::steady_timer wake;     // the sender waits here while the queue is empty
  asio::steady_timer backoff;  // ... and here between attempts
  asio::steady_timer drained;  // flush() waits here
  std::mt19937_64 rng;
  std::string delivery_prefix;  // X-Labelwatch-Delivery: <process start ms>-<event id>
  counters stats;
  std::uint32_t failed_attempts = 0;  // consecutive, across events, until one succeeds
  bool started = false;
  bool stopped = false;
  bool idle = false;
  bool failing = false;      // a streak of failed attempts is being reported
  bool refusing = false;     // a streak of refused events is being reported
  bool overflowing = false;  // a streak of queue overflows is being reported
};

webhook_sink::webhook_sink(asio::any_io_executor executor, webhook_endpoint endpoint,
                           webhook_options options, std::function<void()> on_drop)
    : impl_(std::make_unique<impl>(executor, std::move(endpoint), std::move(options),
                                   std::move(on_drop))) {
  if (!impl_->ep.secret)
    spdlog::warn("webhook {}: no secret configured ([events] webhook_secret_file); requests are "
                 "not signed",
                 impl_->ep.display);
}

webhook_sink::~webhook_sink() = default;

void webhook_sink::dropped(std::size_t n) {
  auto& st = *impl_;
  failures_ += n;
  st.stats.dropped += n;
  if (st.on_drop)
    for (std::size_t i = 0; i < n; ++i) st.on_drop();
}

bool webhook_sink::deliver(const event& e, std::string_view json_line) {
  auto& st = *impl_;
  if (st.stopped) {
    // The fan-out counts a false return; count it here only as this sink's failure.
    ++failures_;
    ++st.stats.dropped;
    return false;
  }
  const auto over = st.queue.push(e.name, std::string(json_line));
  if (over > 0) {
    if (!st.overflowing)
      spdlog::warn("webhook {}: queue full ({} events waiting); dropping the oldest events",
                   st.ep.display, st.queue.capacity());
    st.overflowing = true;
    dropped(over);
  }
  if (st.idle) st.wake.cancel();
  return true;
}

void webhook_sink::start() {
  auto& st = *impl_;
  if (st.started || st.stopped) return;
  st.started = true;
  asio::co_spawn(st.executor, run(shared_from_this()), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("webhook: sender stopped: {}", ex.what());
    }
  });
}

net::awaitable<void> webhook_sink::run(std::shared_ptr<webhook_sink> self) {
  auto& st = *self->impl_;
  while (!st.stopped) {
    if (st.queue.empty()) {
      st.drained.cancel();  // wakes flush()
      st.idle = true;
      st.wake.expires_at(asio::steady_timer::time_point::max());
      co_await st.wake.async_wait(use_tuple);
      st.idle = false;
      continue;
    }
    co_await self->send_front();
  }
}

net::awaitable<void> webhook_sink::send_front() {
  auto& st = *impl_;
  const auto& item = st.queue.front();
  const auto id = item.id;
  net::client_request req;
  req.method = net::http_method::post;
  req.target = st.ep.target.target;
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"X-Labelwatch-Event", item.event_name});
  req.headers.push_back({"X-Labelwatch-Delivery", st.delivery_prefix + std::to_string(id)});
  if (st.ep.secret)
    req.headers.push_back(
        {"X-Labelwatch-Signature", webhook_signature(st.ep.secret->reveal(), item.body)});
  req.body = item.body;
  // Copies: a reload may replace the endpoint while this request is on the wire.
  const net::origin to = st.ep.target.origin;
  const std::string display = st.ep.display;
  const std::shared_ptr<net::https_client> client = st.ep.client;

  st.queue.pin_front();
  ++st.stats.attempts;
  auto result = co_await client->send(to, std::move(req));
  st.queue.unpin();
  // stop() may have emptied the queue meanwhile; nothing else removes a pinned event.
  if (st.stopped || st.queue.empty() || st.queue.front().id != id) co_return;

  webhook_decision d;
  std::string what;
  if (result) {
    const auto& res = *result;
    d = decide_webhook_response(st.opt.retry, res.status, res.header("Retry-After"),
                                st.failed_attempts + 1, wall_now(), st.draw());
    what = "HTTP " + std::to_string(res.status);
  } else {
    d = decide_webhook_transport_failure(st.opt.retry, st.failed_attempts + 1, st.draw());
    what = result.error().detail;
  }

  switch (d.outcome) {
    case webhook_outcome::delivered:
      st.queue.pop_front();
      ++st.stats.delivered;
      if (st.failing || st.refusing)
        spdlog::info("webhook {}: delivering again", display);
      st.failing = st.refusing = st.overflowing = false;
      st.failed_attempts = 0;
      co_return;
    case webhook_outcome::drop:
      st.queue.pop_front();
      dropped(1);
      if (!st.refusing)
        spdlog::warn("webhook {}: the receiver refused an event ({}); such events are dropped, "
                     "not retried",
                     display, what);
      st.refusing = true;
      st.failing = false;
      st.failed_attempts = 0;
      co_return;
    case webhook_outcome::retry:
      break;
  }
  ++st.failed_attempts;
  ++st.stats.retries;
  if (!st.failing) {
    spdlog::warn("webhook {}: delivery failed ({}); retrying, events are queued (at most {})",
                 display, what, st.queue.capacity());
  } else {
    spdlog::debug("webhook {}: attempt {} failed ({}); next in {} ms", display,
                  st.failed_attempts, what, d.delay.count());
  }
  st.failing = true;
  st.backoff.expires_after(d.delay);
  co_await st.backoff.async_wait(use_tuple);
}

void webhook_sink::reconfigure(webhook_endpoint endpoint) {
  auto& st = *impl_;
  if (endpoint.display != st.ep.display)
    spdlog::info("webhook: delivering to {} from now on", endpoint.display);
  if (!endpoint.secret && st.ep.secret)
    spdlog::warn("webhook {}: no secret configured any more; requests are not signed",
                 endpoint.display);
  st.ep = std::move(endpoint);
  const auto over = st.queue.set_capacity(st.ep.queue_size);
  if (over > 0) {
    spdlog::warn("webhook {}: queue bound lowered to {}; dropped the {} oldest {}", st.ep.display,
                 st.ep.queue_size, over, over == 1 ? "event" : "events");
    dropped(over);
  }
  // A new receiver (or a fixed one) deserves an attempt now, not after the old backoff.
  st.failed_attempts = 0;
  st.backoff.cancel();
}

net::awaitable<bool> webhook_sink::flush(milliseconds bound) {
  auto self = shared_from_this();
  auto& st = *impl_;
  const auto deadline = steady::now() + bound;
  while (!st.stopped && st.started && !st.queue.empty() && steady::now() < deadline) {
    st.drained.expires_at(deadline);
    co_await st.drained.async_wait(use_tuple);
  }
  const bool all = st.queue.empty();
  stop();
  co_return all;
}

void webhook_sink::stop() {
  auto& st = *impl_;
  if (st.stopped) return;
  st.stopped = true;
  const auto left = st.queue.clear();
  if (left > 0) {
    spdlog::warn("webhook {}: stopping with {} {} not delivered; dropped", st.ep.display, left,
                 left == 1 ? "event" : "events");
    dropped(left);
  }
  st.wake.cancel();
  st.backoff.cancel();
  st.drained.cancel();
}

webhook_sink::counters webhook_sink::statistics() const noexcept {
  return impl_->stats;
}

std::size_t webhook_sink::queued() const noexcept {
  return impl_->queue.size();
}

const std::string& webhook_sink::display() const noexcept {
  return impl_->ep.display;
}

}  // namespace labelwatch::observe
