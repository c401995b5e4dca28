// An awaitable counting semaphore: the `[poll] max_in_flight` limit. Waiters are woken
// in arrival order. Not thread-safe: use it from one executor (strand), like the rest of
// the client.
#pragma once

#include "net/asio_fwd.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <deque>
#include <memory>

namespace labelwatch::net {

class async_semaphore {
 public:
  async_semaphore(asio::any_io_executor executor, std::size_t permits);
  async_semaphore(const async_semaphore&) = delete;
  async_semaphore& operator=(const async_semaphore&) = delete;

  // Holds one permit until destroyed (or release()d).
  class permit {
   public:
    permit() = default;
    explicit permit(async_semaphore* owner) noexcept : owner_(owner) {}
    permit(permit&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    permit& operator=(permit&& o) noexcept;
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { release(); }
    void release() noexcept;
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    async_semaphore* owner_ = nullptr;
  };

  // Waits for a permit. If the waiting coroutine is cancelled, throws
  // boost::system::system_error(operation_aborted) and holds nothing.
  awaitable<permit> acquire();

  std::size_t available() const noexcept { return available_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  void release_one() noexcept;

  asio::any_io_executor executor_;
  std::size_t available_;
  // One timer per waiter, front = next in line; a waiter is woken by cancelling its
  // timer after the permit was handed to it.
  struct waiter {
    asio::steady_timer timer;
    bool granted = false;
  };
  std::deque<std::shared_ptr<waiter>> waiters_;
};

}  // namespace labelwatch::net
