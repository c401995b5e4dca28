// Task kinds and the two ModelArts status enums, with the lower-case names that
// labelwatch uses everywhere users see them (metric labels, events, config).
//
// The API sends integers. Codes outside the documented set map to `unknown`; callers
// keep the raw code next to the enum so nothing the API said is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace labelwatch {

enum class task_kind : std::uint8_t {
  auto_labeling,  // "auto": intelligent (auto-labeling / auto-grouping) task
  workforce,      // "workforce": team labeling task
};

// "auto" | "workforce"
std::string_view to_string(task_kind k) noexcept;
std::optional<task_kind> parse_task_kind(std::string_view s) noexcept;

// Auto-labeling task status (GET .../tasks/{id} `status`).
enum class auto_status : std::int8_t {
  queuing = -1,
  initialized = 0,
  running = 1,
  failed = 2,
  succeeded = 3,
  stopping = 4,
  stopped = 5,
  unknown = 100,
};

// Team labeling task status (GET .../workforce-tasks/{id} `status`).
enum class workforce_status : std::int8_t {
  starting = 0,
  running = 1,
  accepting = 2,
  accepted = 3,
  rejected = 4,
  syncing = 5,  // "synchronizing acceptance result"
  created = 6,
  sampling = 7,  // "acceptance sampling"
  unknown = 100,
};

auto_status auto_status_from_code(std::int64_t code) noexcept;
workforce_status workforce_status_from_code(std::int64_t code) noexcept;

std::string_view to_string(auto_status s) noexcept;
std::string_view to_string(workforce_status s) noexcept;
std::optional<auto_status> parse_auto_status(std::string_view name) noexcept;
std::optional<workforce_status> parse_workforce_status(std::string_view name) noexcept;

// Every value including `unknown`, in a stable order: the members of a state set.
std::span<const auto_status> all_auto_statuses() noexcept;
std::span<const workforce_status> all_workforce_statuses() noexcept;

// Polling cadence class (DESIGN.md [poll]). `unknown` counts as active: a status we
// do not know is most likely a new transitional state, worth watching closely.
enum class status_class : std::uint8_t { active, idle, terminal };
std::string_view to_string(status_class c) noexcept;
status_class classify(auto_status s) noexcept;
status_class classify(workforce_status s) noexcept;

// Kind-agnostic view of a raw status code, for code that handles both task kinds.
std::string_view status_name(task_kind k, std::int64_t code) noexcept;
status_class status_class_of(task_kind k, std::int64_t code) noexcept;
bool is_known_status(task_kind k, std::int64_t code) noexcept;

}  // namespace labelwatch
