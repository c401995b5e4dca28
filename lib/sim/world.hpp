// The simulated project's state: scenario + elapsed time + runtime changes -> the
// documents the API serves. Pure and deterministic: every function takes `now`, ids
// come from a seeded generator.
//
// A task's document at scenario time t is
//   base document
//   ⊕ the timeline keyframes with at <= t (merge patches; numbers ramp towards the next
//     keyframe when it has "ramp": true)
//   ⊕ the runtime overrides with at <= t, in the order they were made (acceptance PUTs,
//     control patches), so a runtime change wins over the timeline for the members it
//     sets, and the timeline keeps driving the others.
// then create_time (and a workforce task's update_time) filled in from the start time.
//
// Scenario time runs `speed` times faster than the wall clock; fault windows use the
// wall clock. Not thread-safe: the service serialises access.
#pragma once

#include "core/time.hpp"
#include "sim/scenario.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace labelwatch::sim {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

// Addition that saturates at the ends of the range instead of overflowing: scenario
// times and durations come from files and the control API and may be absurd.
milliseconds saturating_add(milliseconds a, milliseconds b) noexcept;
sys_time saturating_add(sys_time t, milliseconds d) noexcept;

// Items [first, last) of a list of `total` items for `offset`/`limit` in `mode`
// (page: offset counts pages; record: offset counts items). Never out of range.
struct page_bounds {
  std::size_t first = 0;
  std::size_t last = 0;
};
page_bounds paginate(std::size_t total, std::size_t offset, std::size_t limit,
                     pagination_mode mode) noexcept;

// The documented ModelArts error an operation ended in.
struct api_failure {
  int http_status = 400;
  std::string error_code;
  std::string error_msg;
};

struct acceptance_result {
  std::optional<api_failure> failure;  // set: the request is refused
  json::object body;                   // 200 body otherwise ({} or the action-3 list)
};

class world {
 public:
  // `start` is the wall-clock instant the simulation began; `entropy` seeds generated
  // ids (task ids, checking task ids).
  world(scenario s, sys_time start, std::uint64_t entropy);

  const scenario& settings() const noexcept { return scenario_; }
  sys_time start() const noexcept { return start_; }
  milliseconds scenario_time(sys_time now) const noexcept;

  // ---- settings that may change at runtime ----
  void set_not_found_status(int status) noexcept { scenario_.not_found_status = status; }
  void set_pagination(pagination_mode m) noexcept { scenario_.pagination = m; }
  void set_workforce_stats_default(bool b) noexcept { scenario_.workforce_stats_default = b; }
  void set_acceptance_sync(milliseconds d) noexcept { scenario_.acceptance_sync = d; }
  void set_project_id(std::string id) { scenario_.project_id = std::move(id); }

  // ---- datasets and samples ----
  std::size_t dataset_count() const noexcept { return datasets_.size(); }
  std::optional<std::size_t> find_dataset(std::string_view dataset_id) const;
  // The dataset list item at `now` (counts and running tasks computed).
  json::object dataset_document(std::size_t dataset, sys_time now) const;
  const std::vector<json::object>& samples(std::size_t dataset) const;
  const json::object* sample(std::size_t dataset, std::string_view sample_id) const;
  sample_summary sample_summary_of(std::size_t dataset) const;

  // ---- tasks ----
  // Index of a task by id, whether or not it is visible now.
  std::optional<std::size_t> find_task(std::string_view task_id) const;
  // The task `task_id` of `kind` in `dataset` if it exists at `now`.
  std::optional<std::size_t> visible_task(task_kind kind, std::string_view dataset_id,
                                          std::string_view task_id, sys_time now) const;
  // Visible tasks of `kind` in a dataset at `now`, in scenario (then creation) order.
  std::vector<std::size_t> visible_tasks(task_kind kind, std::size_t dataset, sys_time now) const;
  bool is_visible(std::size_t task, sys_time now) const;
  const task_spec& task(std::size_t task) const { return tasks_[task].spec; }
  std::size_t task_count() const noexcept { return tasks_.size(); }
  // The detail document at `now` (see the file comment).
  json::object render(std::size_t task, sys_time now) const;

  // ---- acceptance: PUT .../acceptance/status ----
  // The task must exist (callers check visible_task first). Validated action 0..5.
  acceptance_result apply_acceptance(std::size_t task, int action, bool overwrite_last_result,
                                     sys_time now);

  // ---- control ----
  // Applies `patch` as a runtime override at `now`. With `freeze` the timeline stops:
  // the current document becomes the base and pending timeline changes are dropped.
  void patch_task(std::size_t task, const json::object& patch, bool freeze, sys_time now);
  // The task is gone from `now` on (detail answers not-found, lists leave it out).
  void delete_task(std::size_t task, sys_time now);
  // Adds a task whose times (visible_from, gone_at, created, keyframes) are relative
  // to `now`. An empty task_id gets a generated one. Returns the id, or the API error
  // (ModelArts.4352 unknown dataset, ModelArts.4620 id taken).
  std::variant<std::string, api_failure> create_task(task_spec spec, sys_time now);
  std::optional<api_failure> create_dataset(dataset_spec spec, sys_time now);
  std::string new_id(std::size_t length = 19);

  // ---- faults ----
  struct request_facts {
    endpoint target = endpoint::unknown;
    std::string_view method;
    std::string_view dataset_id;
    std::string_view task_id;
  };
  // Arms a fault; `from`/`until` are offsets from start, `for_` a window from `now`.
  // Returns its id (the spec's id if given and free, else generated "f<N>").
  std::string arm_fault(fault_spec f, sys_time now);
  bool clear_fault(std::string_view id);
  void clear_faults();
  // The first armed fault matching the request at `now`; counts it (a fault with a
  // count disarms itself when spent). "any" matches every ModelArts endpoint, not IAM.
  std::optional<fault_spec> take_fault(const request_facts& r, sys_time now);
  json::array faults_json(sys_time now) const;

  // A summary of every dataset and task at `now` (the control API's view).
  json::array datasets_view(sys_time now) const;

 private:
  struct override_patch {
    milliseconds at;
    json::object patch;
  };
  struct task_runtime {
    task_spec spec;
    json::object base;
    std::vector<json::object> frames;  // frames[i] = base ⊕ timeline[0..i]
    std::vector<override_patch> overrides;
    std::optional<milliseconds> deleted_at;
  };
  struct dataset_runtime {
    dataset_spec spec;
    std::vector<json::object> samples;
    string_map<std::size_t> sample_index;
    sample_summary summary;
    std::vector<std::size_t> auto_tasks, workforce_tasks;
  };
  struct armed_fault {
    fault_spec spec;
    std::optional<sys_time> from, until;
    std::optional<std::uint64_t> remaining;
    std::uint64_t hits = 0;
  };

  void add_task(task_spec spec);
  void add_dataset(dataset_spec spec);
  sys_time wall_of(milliseconds scenario_t) const noexcept;
  json::object render_at(const task_runtime& t, milliseconds st) const;

  scenario scenario_;
  sys_time start_;
  std::uint64_t rng_;
  std::vector<task_runtime> tasks_;
  string_map<std::size_t> task_index_;
  std::vector<dataset_runtime> datasets_;
  string_map<std::size_t> dataset_index_;
  std::vector<armed_fault> faults_;
  std::uint64_t fault_counter_ = 0;
};

}  // namespace labelwatch::sim
