// The simulator's record of every API request it answered, so tests can assert what a
// client did ("two acceptance PUTs, 30 s apart, both signed"). Pure, bounded: the
// oldest entries are dropped past `capacity`; sequence numbers never repeat.
//
// Never recorded: secrets (SK, passwords, tokens, signatures, the access key) and any
// request body except PUT bodies (acceptance decisions, which hold none).
#pragma once

#include "sim/scenario.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace labelwatch::sim {

struct journal_entry {
  std::uint64_t seq = 0;     // assigned by append, from 1
  std::int64_t time_ms = 0;  // wall clock, Unix ms, when the request was handled
  std::string method;
  std::string path;
  std::string query;
  endpoint target = endpoint::unknown;
  std::string dataset_id;
  std::string task_id;
  std::string auth;   // auth_outcome name
  int status = 0;     // 0: no response was sent (hang, close)
  std::string fault;  // "<kind>:<id>" or empty
  std::string error_code;
  std::optional<std::int64_t> duration_ms;  // set when the network layer finished
  std::string request_id;
  std::string body;    // PUT only, truncated to the journal's body limit
  std::string detail;  // e.g. the canonical request of a failed signature check
};

struct journal_filter {
  std::uint64_t since = 0;  // entries with seq > since
  std::size_t limit = 1000;
  std::string method;  // exact, upper case
  std::optional<endpoint> target;
  std::string task_id;
  std::optional<int> status;
};

class journal {
 public:
  explicit journal(std::size_t capacity = 100'000, std::size_t body_limit = 4096)
      : capacity_(capacity), body_limit_(body_limit) {}

  // Stores `e` (its seq is overwritten) and returns the new sequence number.
  std::uint64_t append(journal_entry e);
  // Records how long the network layer took; ignored for entries already dropped.
  void set_duration(std::uint64_t seq, std::int64_t duration_ms);

  std::uint64_t last_seq() const noexcept { return next_seq_ - 1; }
  std::uint64_t oldest_seq() const noexcept {
    return entries_.empty() ? next_seq_ : entries_.front().seq;
  }
  std::size_t size() const noexcept { return entries_.size(); }

  // {"entries": [...], "last_seq": N, "oldest_seq": M, "dropped": K}
  boost::json::object query(const journal_filter& f) const;
  static boost::json::object to_json(const journal_entry& e);

 private:
  std::size_t capacity_;
  std::size_t body_limit_;
  std::deque<journal_entry> entries_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;
};

}  // namespace labelwatch::sim
