// The in-flight limit (see async_semaphore.hpp).
#include "net/async_semaphore.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace labelwatch::net {

async_semaphore::async_semaphore(asio::any_io_executor executor, std::size_t permits)
    : executor_(std::move(executor)), available_(std::max<std::size_t>(permits, 1)) {}

async_semaphore::permit& async_semaphore::permit::operator=(permit&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

void async_semaphore::permit::release() noexcept {
  if (owner_) {
    owner_->release_one();
    owner_ = nullptr;
  }
}

awaitable<async_semaphore::permit> async_semaphore::acquire() {
  if (available_ > 0 && waiters_.empty()) {
    --available_;
    co_return permit{this};
  }
  auto w = std::make_shared<waiter>(waiter{asio::steady_timer{executor_}, false});
  w->timer.expires_at(asio::steady_timer::time_point::max());
  waiters_.push_back(w);
  co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (w->granted) co_return permit{this};
  // Woken without a grant: the wait itself was cancelled.
  std::erase(waiters_, w);
  throw boost::system::system_error(asio::error::operation_aborted, "waiting for a request slot");
}

void async_semaphore::release_one() noexcept {
  // Hand the permit straight to the next waiter, so a newcomer cannot overtake it.
  if (waiters_.empty()) {
    ++available_;
    return;
  }
  auto w = waiters_.front();
  waiters_.pop_front();
  w->granted = true;
  w->timer.cancel();
}

}  // namespace labelwatch::net
