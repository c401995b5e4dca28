// A domain event (DESIGN.md "Events"): what labelwatch tells operators, one JSON object
// per line. Produced by the pure core (tracker, rules) and delivered by event sinks.
//
// Line layout, in this order: ts, level, event, then for task events kind, dataset_id,
// task_id, task_name, then the event's own fields in the order they were added.
#pragma once

#include "core/task.hpp"
#include "core/time.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace labelwatch {

enum class event_level : std::uint8_t { debug, info, warning, error };
std::string_view to_string(event_level l) noexcept;  // "debug" | "info" | "warning" | "error"

struct event {
  sys_time ts{};
  event_level level = event_level::info;
  std::string name;  // "task_status_changed", ...
  std::optional<task_key> task;
  std::string task_name;
  boost::json::object fields;

  // The whole event as one JSON object (no trailing newline).
  boost::json::object to_json() const;
  std::string to_json_line() const;
};

// Convenience for building task events.
event make_task_event(sys_time ts, event_level level, std::string name, const task_key& key,
                      std::string task_name);

}  // namespace labelwatch
