#include "core/event.hpp"

#include "core/json_text.hpp"

namespace labelwatch {

std::string_view to_string(event_level l) noexcept {
  switch (l) {
    case event_level::debug: return "debug";
    case event_level::info: return "info";
    case event_level::warning: return "warning";
    case event_level::error: break;
  }
  return "error";
}

boost::json::object event::to_json() const {
  boost::json::object o;
  o.reserve(fields.size() + 7);
  o["ts"] = format_rfc3339_ms(ts);
  o["level"] = to_string(level);
  o["event"] = name;
  if (task) {
    o["kind"] = to_string(task->kind);
    o["dataset_id"] = task->dataset_id;
    o["task_id"] = task->task_id;
    o["task_name"] = task_name;
  }
  for (const auto& kv : fields) o[kv.key()] = kv.value();
  return o;
}

std::string event::to_json_line() const { return json_text(to_json()); }

event make_task_event(sys_time ts, event_level level, std::string name, const task_key& key,
                      std::string task_name) {
  event e;
  e.ts = ts;
  e.level = level;
  e.name = std::move(name);
  e.task = key;
  e.task_name = std::move(task_name);
  return e;
}

}  // namespace labelwatch
