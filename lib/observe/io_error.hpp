// The failure of an observe I/O edge (an event file, a password file) described for an
// operator, e.g. "event log /var/log/labelwatch/events.jsonl: Permission denied".
#pragma once

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace labelwatch::observe {

struct io_error {
  std::string message;
};

template <class T>
using io_result = boost::system::result<T, io_error>;

// Lets io_result<T>::value() throw: std::runtime_error with the message.
[[noreturn]] inline void throw_exception_from_error(const io_error& e,
                                                    const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace labelwatch::observe
