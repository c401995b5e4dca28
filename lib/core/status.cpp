#include "core/status.hpp"

#include <array>

namespace labelwatch {
namespace {

constexpr std::array k_auto_all{
    auto_status::queuing,  auto_status::initialized, auto_status::running,
    auto_status::failed,   auto_status::succeeded,   auto_status::stopping,
    auto_status::stopped,  auto_status::unknown,
};

constexpr std::array k_workforce_all{
    workforce_status::starting, workforce_status::running,  workforce_status::accepting,
    workforce_status::accepted, workforce_status::rejected, workforce_status::syncing,
    workforce_status::created,  workforce_status::sampling, workforce_status::unknown,
};

}  // namespace

std::string_view to_string(task_kind k) noexcept {
  return k == task_kind::auto_labeling ? "auto" : "workforce";
}

std::optional<task_kind> parse_task_kind(std::string_view s) noexcept {
  if (s == "auto") return task_kind::auto_labeling;
  if (s == "workforce") return task_kind::workforce;
  return std::nullopt;
}

auto_status auto_status_from_code(std::int64_t code) noexcept {
  if (code >= -1 && code <= 5) return static_cast<auto_status>(code);
  return auto_status::unknown;
}

workforce_status workforce_status_from_code(std::int64_t code) noexcept {
  if (code >= 0 && code <= 7) return static_cast<workforce_status>(code);
  return workforce_status::unknown;
}

std::string_view to_string(auto_status s) noexcept {
  switch (s) {
    case auto_status::queuing: return "queuing";
    case auto_status::initialized: return "initialized";
    case auto_status::running: return "running";
    case auto_status::failed: return "failed";
    case auto_status::succeeded: return "succeeded";
    case auto_status::stopping: return "stopping";
    case auto_status::stopped: return "stopped";
    case auto_status::unknown: break;
  }
  return "unknown";
}

std::string_view to_string(workforce_status s) noexcept {
  switch (s) {
    case workforce_status::starting: return "starting";
    case workforce_status::running: return "running";
    case workforce_status::accepting: return "accepting";
    case workforce_status::accepted: return "accepted";
    case workforce_status::rejected: return "rejected";
    case workforce_status::syncing: return "syncing";
    case workforce_status::created: return "created";
    case workforce_status::sampling: return "sampling";
    case workforce_status::unknown: break;
  }
  return "unknown";
}

std::optional<auto_status> parse_auto_status(std::string_view name) noexcept {
  for (auto s : k_auto_all)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

std::optional<workforce_status> parse_workforce_status(std::string_view name) noexcept {
  for (auto s : k_workforce_all)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

std::span<const auto_status> all_auto_statuses() noexcept { return k_auto_all; }
std::span<const workforce_status> all_workforce_statuses() noexcept { return k_workforce_all; }

std::string_view to_string(status_class c) noexcept {
  switch (c) {
    case status_class::active: return "active";
    case status_class::idle: return "idle";
    case status_class::terminal: break;
  }
  return "terminal";
}

status_class classify(auto_status s) noexcept {
  switch (s) {
    case auto_status::failed:
    case auto_status::succeeded: return status_class::terminal;
    case auto_status::stopped: return status_class::idle;
    case auto_status::queuing:
    case auto_status::initialized:
    case auto_status::running:
    case auto_status::stopping:
    case auto_status::unknown: break;
  }
  return status_class::active;
}

status_class classify(workforce_status s) noexcept {
  switch (s) {
    case workforce_status::accepted: return status_class::terminal;
    case workforce_status::created:
    case workforce_status::rejected: return status_class::idle;
    case workforce_status::starting:
    case workforce_status::running:
    case workforce_status::accepting:
    case workforce_status::syncing:
    case workforce_status::sampling:
    case workforce_status::unknown: break;
  }
  return status_class::active;
}

std::string_view status_name(task_kind k, std::int64_t code) noexcept {
  return k == task_kind::auto_labeling ? to_string(auto_status_from_code(code))
                                       : to_string(workforce_status_from_code(code));
}

status_class status_class_of(task_kind k, std::int64_t code) noexcept {
  return k == task_kind::auto_labeling ? classify(auto_status_from_code(code))
                                       : classify(workforce_status_from_code(code));
}

bool is_known_status(task_kind k, std::int64_t code) noexcept {
  return k == task_kind::auto_labeling ? auto_status_from_code(code) != auto_status::unknown
                                       : workforce_status_from_code(code) != workforce_status::unknown;
}

}  // namespace labelwatch
