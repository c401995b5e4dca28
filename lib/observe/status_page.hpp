// The `/` status page: server-rendered HTML with one inline stylesheet and no scripts,
// fonts, images or other external assets. Pure: everything it shows comes in as values.
//
// Every string that comes from the API, the configuration or an event (task names,
// dataset and task ids, error messages, event fields) is HTML-escaped, in text and in
// attributes alike.
//
// Stable hooks for browser tests and scrapers:
//   section.dataset[data-dataset-id]          one per dataset, datasets sorted by id
//   tr.task#task-<kind>-<dataset_id>-<task_id> with data-kind, data-dataset-id,
//     data-task-id, data-status, data-status-code, data-progress (0..1 or ""),
//     data-stalled and data-failed ("true"/"false"); classes is-stalled / is-failed
//   .task-name, .status (the status name), .progress-value ("10%"), .time-in-status
//   table#events tr.event[data-event][data-level]
//   #health[data-ready]
#pragma once

#include "core/event.hpp"
#include "observe/views.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::observe {

struct status_page_input {
  std::vector<task_view> tasks;
  std::vector<const event*> events;  // newest first; the page shows them in this order
  health_view health;                // `now` is the page's reference time
  std::chrono::seconds refresh{10};  // <meta http-equiv="refresh">; 0 turns it off
};

std::string render_status_page(const status_page_input& in);

// The Content-Security-Policy for the page: nothing may load, and the only style
// allowed is the page's own inline stylesheet, pinned by its SHA-256.
const std::string& status_page_csp();

// & < > " ' escaped for HTML text and double- or single-quoted attributes.
std::string html_escape(std::string_view s);

}  // namespace labelwatch::observe
