// Identity of a watched task.
#pragma once

#include "core/status.hpp"

#include <compare>
#include <functional>
#include <string>

namespace labelwatch {

struct task_key {
  task_kind kind = task_kind::auto_labeling;
  std::string dataset_id;
  std::string task_id;

  friend bool operator==(const task_key&, const task_key&) = default;
  friend auto operator<=>(const task_key&, const task_key&) = default;
};

struct task_key_hash {
  std::size_t operator()(const task_key& k) const noexcept {
    const std::size_t h1 = std::hash<std::string>{}(k.dataset_id);
    const std::size_t h2 = std::hash<std::string>{}(k.task_id);
    return (h1 * 31 + h2) * 2 + static_cast<std::size_t>(k.kind);
  }
};

// "auto/WxCREuCkBSAlQr9xrde/XGrRZuCV1qmMxnsmD5u", for logs and error messages.
inline std::string to_string(const task_key& k) {
  return std::string(to_string(k.kind)) + "/" + k.dataset_id + "/" + k.task_id;
}

}  // namespace labelwatch
