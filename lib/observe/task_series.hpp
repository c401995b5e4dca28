// Per-task Prometheus series in compact form, rendered by prometheus-cpp's TextSerializer
// with the text cached per task and family (issue 9; used by observe::metrics only).
//
// Why not prometheus::Family: at 10,000 tasks there are ~200,000 per-task series. A
// Family keeps a label map and a heap object per series, copies every label string on
// each Collect(), and TextSerializer writes label values one character at a time
// through std::ostream: a full scrape costs ~1 billion instructions (~300 ms), and
// prometheus-cpp 1.0's Family::Remove searches the whole family by pointer, so dropping
// 100 tasks on a reload held the loop for seconds. Here a task's series are a few rows
// of (id, value); a change marks that row dirty; a scrape renders only the dirty rows (one
// TextSerializer call per family, all its dirty rows together) and copies the cached
// lines of the others. A poll usually changes two or three rows of a task (last success,
// progress, a sample count), so a scrape renders a small part of the exposition.
// Removing a task is one hash-map erase.
//
// The exposition stays prometheus-cpp's: every byte is TextSerializer output (labels
// sorted by name, as Family produces them). Only the grouping differs: within a family,
// series are ordered by task.
//
// Threading: none; one instance belongs to the loop (serialize() mutates the cache).
#pragma once

#include "core/task.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace labelwatch::observe::detail {

// One task's series. `strings` holds the label values that are not fixed names (task
// name, algorithm type, worker ids); what each index means is the labeller's business.
struct task_record {
  struct row {
    std::uint32_t id = 0;      // which series of the family (status index, state index, ...)
    std::uint32_t length = 0;  // bytes of this row's line in slot::text (0: not rendered yet)
    double value = 0.0;
    bool dirty = true;  // the line in slot::text is stale
  };
  struct slot {
    std::uint8_t family = 0;
    bool dirty = true;      // some row is dirty
    std::vector<row> rows;  // sorted by id
    std::string text;       // the rows' lines in row order (stale ones included)
  };

  task_key key;
  std::vector<std::string> strings;
  std::vector<slot> slots;  // only the families this task has series in

  slot* find(std::uint8_t family) noexcept;
  const slot* find(std::uint8_t family) const noexcept;
};

// Appends the labels of series `id` of `task` other than dataset_id and task_id (which
// every series has); order does not matter (labels are sorted by name afterwards).
using labeller = void (*)(const task_record& task, std::uint32_t id,
                          std::vector<prometheus::ClientMetric::Label>& out);

struct task_family {
  std::string name;
  std::string help;
  labeller labels = nullptr;
};

class task_series {
 public:
  // Families are exposed in this order; a family index is its position (< 256).
  explicit task_series(std::vector<task_family> families);

  // The task's record, created without series on first use.
  task_record& record(const task_key& key);
  task_record* find(const task_key& key) noexcept;
  // Forgets every series of the task. Returns false if it had none.
  bool remove(const task_key& key);
  std::size_t size() const noexcept { return tasks_.size(); }

  // Sets series `id` of `family` to `value`, or removes it (nullopt). Marks the slot
  // dirty only when something changed. Returns whether something changed.
  static bool set(task_record& t, std::uint8_t family, std::uint32_t id,
                  std::optional<double> value);
  // Removes every series of the family whose id satisfies `pred`.
  template <class Pred>
  static void erase_if(task_record& t, std::uint8_t family, Pred pred);
  // The labels of the family's series changed (task renamed, worker ids): render again.
  static void touch(task_record& t, std::uint8_t family);

  // Appends every family (# HELP, # TYPE, then the series of every task) in text format
  // 0.0.4 to `out`, rendering dirty rows first. Families without series are left out,
  // as prometheus::Registry::Collect() leaves them out.
  void serialize(std::string& out);

  // Every family that has series, freshly built (no cache): for tests and tools.
  std::vector<prometheus::MetricFamily> collect() const;

 private:
  void render(std::uint8_t family);
  void add_metric(const task_record& t, std::uint8_t family, std::uint32_t id, double value,
                  std::vector<prometheus::ClientMetric>& out) const;

  std::vector<task_family> families_;
  std::vector<std::string> headers_;  // "# HELP ...\n# TYPE ...\n" per family
  std::unordered_map<task_key, task_record, task_key_hash> tasks_;
};

// TextSerializer output of `families`, appended to `out` (no std::ostringstream copy).
void serialize_families(std::string& out, const std::vector<prometheus::MetricFamily>& families);

template <class Pred>
void task_series::erase_if(task_record& t, std::uint8_t family, Pred pred) {
  auto* s = t.find(family);
  if (s == nullptr) return;
  std::string kept;
  std::size_t offset = 0;
  std::vector<task_record::row> rows;
  rows.reserve(s->rows.size());
  for (const auto& r : s->rows) {
    if (!pred(r.id)) {
      kept.append(s->text, offset, r.length);
      rows.push_back(r);
    }
    offset += r.length;
  }
  if (rows.size() == s->rows.size()) return;
  s->rows = std::move(rows);
  s->text = std::move(kept);
}

}  // namespace labelwatch::observe::detail
