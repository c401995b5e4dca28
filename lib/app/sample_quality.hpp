// The sample-quality round (issue 10): reads a dataset's auto-annotated samples through
// the API client, aggregates them (core/sample_quality.hpp), updates the metrics and emits
// `sample_quality_round`, `low_confidence_batch` and `low_confidence_cleared`. The
// listing part is shared with `labelwatch list samples --summary`.
//
// Cost of one round (README "Sample quality"): ceil(N / 100) list requests for N =
// min(max_samples_per_round, samples in the dataset) under page offsets (one more under
// record offsets), plus one detail request per listed sample whose list document came
// without `labels` and `metadata` and that is new or changed since the previous round
// (the documented list returns full documents, so normally none). The round paces its own
// requests to at most half of `[poll] max_rate`, so task polls always find room in the
// shared limiter; it runs as its own engine job and never holds a task poll back.
//
// Threading: everything on the daemon's executor; not thread-safe.
#pragma once

#include "config/config.hpp"
#include "core/event.hpp"
#include "core/sample_quality.hpp"
#include "modelarts/api_client.hpp"
#include "net/asio_fwd.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace labelwatch::store {
class state_store;
}
namespace labelwatch::observe {
class metrics;
}

namespace labelwatch::app {

// Details read in earlier rounds, by sample id, with the (sample_time, sample_status) the
// list showed when they were read: a thin list item with the same pair is not read again.
class detail_cache {
 public:
  // The cached detail when `listed` still shows the same time and status.
  const modelarts::sample* find(const modelarts::sample& listed) const;
  void put(const modelarts::sample& listed, modelarts::sample detail);
  // Keeps only the ids in `listed` (after a complete round).
  void retain(const std::vector<modelarts::sample>& listed);
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::optional<std::int64_t> sample_time_ms;
    std::string sample_status;
    modelarts::sample detail;
  };
  std::unordered_map<std::string, entry> entries_;
};

// Spaces requests at least `spacing` apart, across every coroutine that shares it (each
// wait() reserves the next slot before it suspends). Zero spacing: no waiting.
class request_pacer {
 public:
  explicit request_pacer(std::chrono::nanoseconds spacing = {}) : spacing_(spacing) {}
  void set_spacing(std::chrono::nanoseconds spacing) noexcept { spacing_ = spacing; }
  std::chrono::nanoseconds spacing() const noexcept { return spacing_; }
  net::awaitable<void> wait();

 private:
  std::chrono::nanoseconds spacing_;
  std::chrono::steady_clock::time_point next_{};
};

struct listing_options {
  std::size_t max_samples = 2000;  // >= 1
  request_pacer* pacer = nullptr;  // null: no pacing of its own (the client's limits apply)
};

// What one listing read.
struct sample_listing {
  std::vector<modelarts::sample> samples;       // at most max_samples, each id once
  std::optional<std::int64_t> dataset_samples;  // the list's sample_count
  bool truncated = false;                       // the dataset holds more than max_samples
  std::uint32_t list_requests = 0;
  std::uint32_t detail_requests = 0;
  std::uint32_t details_cached = 0;    // thin items completed from the cache
  std::uint32_t details_vanished = 0;  // thin items whose detail answered not-found
};

// A listing's failure: the API error and the operation that failed.
struct listing_error {
  modelarts::api_error error;
  std::string operation;  // "list_samples" | "get_sample"
};

// Lists `dataset_id`'s auto-annotated samples (GET .../auto-annotations/samples, pages of
// min(100, max_samples), both offset readings handled by modelarts::pagination), stops at
// max_samples, and reads the detail of every listed sample that lacks both `labels` and
// `metadata` unless `cache` has it for the same time and status. A detail that answers
// not-found (deleted meanwhile) keeps the list document. `truncated` is set when the
// round stopped at max_samples while the list went on (a further item on the last page,
// or pages remaining and sample_count above what was read). Any other failure ends the
// listing with the error; details read before it stay in `cache`.
net::awaitable<boost::system::result<sample_listing, listing_error>> list_samples_for_quality(
    modelarts::api_client& api, std::string dataset_id, listing_options options,
    detail_cache* cache);

// The store meta key holding whether a dataset's median is below its threshold
// ("1"/"0"), so a restart does not repeat low_confidence_batch.
std::string low_confidence_meta_key(const std::string& dataset_id);

// Per-dataset state across rounds and the round itself.
class sample_quality_monitor {
 public:
  using emit_fn = std::function<void(const event&)>;
  using clock_fn = std::function<sys_time()>;

  // `store` may be null (no persistence of the low-confidence state). `clock` defaults
  // to the system clock (milliseconds).
  sample_quality_monitor(observe::metrics& metrics, emit_fn emit, store::state_store* store,
                         clock_fn clock = {});
  ~sample_quality_monitor();
  sample_quality_monitor(const sample_quality_monitor&) = delete;
  sample_quality_monitor& operator=(const sample_quality_monitor&) = delete;

  // Applies a configuration (call after every engine::configure): datasets no longer
  // watched with sample_quality = true lose their series, cache and state; a round of
  // theirs still running discards its result. `[poll] max_rate` paces the rounds: all
  // of them together send at most max_rate / 2 requests per second.
  void configure(const config::daemon_config& cfg);

  // One round for `watch` (engine::sample_round). Returns false when it failed: then
  // labelwatch_poll_errors_total{kind="samples"} counts it, an api_error event names the
  // operation (once per distinct failure of the dataset), and the metrics keep the
  // previous round's figures.
  net::awaitable<bool> run_round(config::watch_config watch, modelarts::api_client& api);

 private:
  struct dataset_state;
  std::shared_ptr<dataset_state> state_of(const std::string& dataset_id);

  observe::metrics& metrics_;
  emit_fn emit_;
  store::state_store* store_;
  clock_fn clock_;
  request_pacer pacer_;  // every round together: at most half of [poll] max_rate
  std::map<std::string, std::shared_ptr<dataset_state>, std::less<>> datasets_;
};

}  // namespace labelwatch::app
