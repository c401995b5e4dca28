// The pure decisions of the webhook event sink (webhook.hpp): the request signature, the
// bounded in-order queue, and what to do after each delivery attempt. No clock, no
// socket: time and the random draw for the jitter come in as parameters.
//
// Delivery rules ([events] webhook_url):
// - 2xx: delivered.
// - 408, 429 and every 5xx: the receiver is overloaded or down; the same event is sent
//   again after the receiver's Retry-After when it sent one (capped at
//   retry_after_cap), else after exponential backoff with full jitter
//   (core/backoff.hpp) over the consecutive failed attempts. Events are never reordered
//   or skipped to get past a failing one.
// - A transport failure (refused, reset, timeout, TLS) is retried the same way: an
//   outage must not lose events.
// - Any other status (1xx, 3xx, other 4xx): the receiver refuses this event and will
//   refuse it again, so it is dropped and counted, and the next one is sent.
#pragma once

#include "core/time.hpp"
#include "net/origin.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace labelwatch::observe {

// Where webhook requests go: the origin (scheme, host, port) and the request target
// (path and query, "/" when the URL has no path).
struct webhook_target {
  net::origin origin;
  std::string target;
};

// Parses [events] webhook_url: https://host[:port][/path][?query], or http:// for a
// loopback host only (events must not cross the network in clear text). The message
// never repeats the URL (its path or query may carry a token).
boost::system::result<webhook_target, std::string> parse_webhook_url(std::string_view url);

// The X-Labelwatch-Signature value: "sha256=" + lower-case hex HMAC-SHA256 of `body`
// keyed with `secret`.
std::string webhook_signature(std::string_view secret, std::string_view body);

struct webhook_retry_settings {
  milliseconds backoff_base{500};                      // first retry window: [0, base)
  milliseconds backoff_cap{std::chrono::seconds{60}};  // largest window
  milliseconds retry_after_cap{std::chrono::minutes{10}};
};

enum class webhook_outcome : std::uint8_t { delivered, retry, drop };

struct webhook_decision {
  webhook_outcome outcome = webhook_outcome::delivered;
  milliseconds delay{0};  // for retry: how long to wait before the next attempt
  // "delivered", "retry-after", "backoff", "refused" (a status that is not retried).
  std::string_view reason;
};

// Whether an HTTP status is retried (408, 429, 5xx).
bool webhook_status_retryable(unsigned status) noexcept;

// After a response with `status`. `retry_after` is the Retry-After header ("" when
// absent; an unreadable value counts as absent). `failed_attempts` counts the
// consecutive failed attempts including this one (>= 1 when it failed), and picks the
// backoff window; `unit` is a uniform draw from [0, 1).
webhook_decision decide_webhook_response(const webhook_retry_settings& s, unsigned status,
                                         std::string_view retry_after,
                                         std::uint32_t failed_attempts, sys_time now,
                                         double unit) noexcept;

// After a transport failure (no response): always a retry after backoff.
webhook_decision decide_webhook_transport_failure(const webhook_retry_settings& s,
                                                  std::uint32_t failed_attempts,
                                                  double unit) noexcept;

// Events waiting for the webhook, oldest first, at most `capacity` of them.
//
// The front event can be pinned while a request carrying it is on the wire: a pinned
// event is never dropped (it may be delivered at that very moment, and counting it as
// dropped would lie) and does not count against the capacity. Outside of a request
// (during a backoff wait) the front is an ordinary waiting event.
class webhook_queue {
 public:
  struct item {
    std::uint64_t id = 0;  // 1, 2, ... in push order
    std::string event_name;
    std::string body;  // the event's JSON line
  };

  explicit webhook_queue(std::size_t capacity) noexcept;

  // Appends an event; when more than `capacity` events wait, drops the oldest unpinned
  // ones. Returns how many were dropped. Capacity 0 drops every event.
  std::size_t push(std::string event_name, std::string body);

  bool empty() const noexcept { return items_.empty(); }
  // Every event held, the pinned one included.
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  // The oldest event; the queue must not be empty. The reference is invalidated by
  // push() (which may erase), pop_front(), set_capacity() and clear().
  const item& front() const noexcept { return items_.front(); }

  void pin_front() noexcept { pinned_ = !items_.empty(); }
  void unpin() noexcept { pinned_ = false; }
  bool pinned() const noexcept { return pinned_; }

  // Removes the oldest event (delivered or refused); unpins.
  void pop_front() noexcept;
  // Changes the bound (reload); drops the oldest unpinned events beyond it and returns
  // how many.
  std::size_t set_capacity(std::size_t capacity);
  // Removes every event, pinned or not; returns how many.
  std::size_t clear() noexcept;

 private:
  std::size_t trim();

  std::size_t capacity_;
  std::uint64_t next_id_ = 1;
  bool pinned_ = false;
  std::deque<item> items_;
};

}  // namespace labelwatch::observe
