// Namespace aliases and the coroutine type every I/O file uses. Include this instead of
// <boost/asio.hpp>; add the specific Asio/Beast headers a file needs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace labelwatch::net {

namespace asio = boost::asio;

template <class T = void>
using awaitable = asio::awaitable<T>;

}  // namespace labelwatch::net
