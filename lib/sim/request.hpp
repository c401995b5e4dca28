// The simulator's view of one HTTP request and of its answer, free of sockets and of
// Beast, so everything that decides an answer is pure and unit-tested with plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::sim {

struct request_view {
  std::string_view method;  // "GET"
  std::string_view target;  // origin form as received: "/v2/p/datasets?limit=2"
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received
  std::string_view body;
  bool from_loopback = true;

  // First header with this name (case-insensitive), trimmed of spaces and tabs.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  std::string_view path() const noexcept;   // target up to '?'
  std::string_view query() const noexcept;  // after '?', "" if none
};

// What the network layer should do with an answer; mirrors net::reply_action.
enum class wire_action : std::uint8_t { respond, hang, close, reset_mid_body };

struct response {
  int status = 200;
  std::string content_type = "application/json;charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;
  wire_action action = wire_action::respond;
  std::chrono::milliseconds delay{0};
  std::size_t partial_body_bytes = 0;  // reset_mid_body: body bytes sent before the reset
  std::uint64_t journal_seq = 0;       // 0: not journaled (control requests)

  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

}  // namespace labelwatch::sim
