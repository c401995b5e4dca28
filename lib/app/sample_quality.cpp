// The sample-quality round: listing, details, aggregation, metrics and events (see
// sample_quality.hpp).
#include "app/sample_quality.hpp"

#include "modelarts/pagination.hpp"
#include "observe/metrics.hpp"
#include "store/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace labelwatch::app {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using listing_result = boost::system::result<sample_listing, listing_error>;

constexpr std::uint32_t k_max_page = 100;  // the sample list's documented maximum limit

// A listed item the list should have sent whole: neither labels nor metadata.
bool needs_detail(const modelarts::sample& s) {
  return s.labels.empty() && !s.metadata.has_value();
}

std::string stable_message(const modelarts::api_error& e) {
  std::string out(modelarts::error_kind_name(e.kind));
  if (e.http_status != 0) out += " (HTTP " + std::to_string(e.http_status) + ")";
  if (!e.error_code.empty()) out += " " + e.error_code;
  if (!e.error_msg.empty()) out += ": " + e.error_msg;
  if (!e.detail.empty()) out += (e.error_msg.empty() ? ": " : "; ") + e.detail;
  return out;
}

sys_time system_now() {
  return std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

// ---- pacing ---------------------------------------------------------------------------------

net::awaitable<void> request_pacer::wait() {
  if (spacing_ <= std::chrono::nanoseconds::zero()) co_return;
  const auto now = steady::now();
  const auto slot = std::max(next_, now);
  next_ = slot + spacing_;
  if (slot > now) {
    asio::steady_timer timer(co_await asio::this_coro::executor, slot);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// ---- detail cache ------------------------------------------------------------------------

const modelarts::sample* detail_cache::find(const modelarts::sample& listed) const {
  const auto it = entries_.find(listed.sample_id);
  if (it == entries_.end()) return nullptr;
  const auto& e = it->second;
  if (e.sample_time_ms != listed.sample_time_ms || e.sample_status != listed.sample_status)
    return nullptr;
  return &e.detail;
}

void detail_cache::put(const modelarts::sample& listed, modelarts::sample detail) {
  // The pre-signed source URL is a credential and nothing here needs it.
  detail.source.clear();
  entries_.insert_or_assign(listed.sample_id,
                            entry{listed.sample_time_ms, listed.sample_status, std::move(detail)});
}

void detail_cache::retain(const std::vector<modelarts::sample>& listed) {
  std::unordered_set<std::string_view> keep;
  keep.reserve(listed.size());
  for (const auto& s : listed) keep.insert(s.sample_id);
  std::erase_if(entries_, [&](const auto& kv) { return !keep.contains(kv.first); });
}

// ---- listing -------------------------------------------------------------------------------

net::awaitable<listing_result> list_samples_for_quality(modelarts::api_client& api,
                                                        std::string dataset_id,
                                                        listing_options options,
                                                        detail_cache* cache) {
  const std::size_t max_samples = std::max<std::size_t>(options.max_samples, 1);
  const auto limit = static_cast<std::uint32_t>(std::min<std::size_t>(k_max_page, max_samples));
  request_pacer unpaced;
  request_pacer& pace = options.pacer ? *options.pacer : unpaced;
  modelarts::pagination pages(limit);
  const modelarts::sample_filter filter;
  sample_listing out;
  bool more_seen = false;
  std::optional<listing_error> failure;

  while (!pages.done()) {
    co_await pace.wait();
    const modelarts::page_request request{pages.next_offset(), limit};
    auto got = co_await api.list_samples(dataset_id, request, filter);
    ++out.list_requests;
    if (!got) {
      failure = listing_error{got.error(), "list_samples"};
      break;
    }
    if (got->total) out.dataset_samples = got->total;
    std::vector<std::string_view> ids;
    ids.reserve(got->items.size());
    for (const auto& item : got->items) ids.push_back(item.sample_id);
    const auto fresh = pages.on_page(ids, got->total);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (!fresh[i]) continue;
      if (out.samples.size() >= max_samples) {
        more_seen = true;
        break;
      }
      out.samples.push_back(std::move(got->items[i]));
    }
    if (out.samples.size() >= max_samples) break;
  }
  if (!failure && pages.capped()) {
    modelarts::api_error e;
    e.kind = errc::decode;
    e.detail = "the sample list did not end after " + std::to_string(pages.pages_fetched()) +
               " pages (offsets read as " + std::string(to_string(pages.reading())) + ")";
    failure = listing_error{std::move(e), "list_samples"};
  }
  if (failure) co_return *failure;

  out.truncated = listing_truncated(more_seen, out.samples.size(), max_samples, pages.done(),
                                    out.dataset_samples);

  for (auto& s : out.samples) {
    if (!needs_detail(s)) continue;
    if (cache) {
      if (const auto* known = cache->find(s)) {
        s = *known;
        ++out.details_cached;
        continue;
      }
    }
    co_await pace.wait();
    const std::string sample_id = s.sample_id;
    auto detail = co_await api.get_sample(dataset_id, sample_id);
    ++out.detail_requests;
    if (!detail) {
      if (detail.error().kind == errc::not_found) {
        ++out.details_vanished;  // deleted between the list and now: keep what the list said
        continue;
      }
      failure = listing_error{detail.error(), "get_sample"};
      break;
    }
    if (detail->sample_id.empty()) detail->sample_id = sample_id;
    if (cache) cache->put(s, *detail);
    s = std::move(*detail);
  }
  if (failure) co_return *failure;
  if (cache) cache->retain(out.samples);
  co_return out;
}

std::string low_confidence_meta_key(const std::string& dataset_id) {
  return "sample_low_confidence/" + dataset_id;
}

// ---- monitor ---------------------------------------------------------------------------------

struct sample_quality_monitor::dataset_state {
  detail_cache cache;
  bool low = false;
  bool low_loaded = false;  // `low` read from the store (or decided) since start
  std::string last_error;   // stable message of the last failure, for api_error once
};

sample_quality_monitor::sample_quality_monitor(observe::metrics& metrics, emit_fn emit,
                                               store::state_store* store, clock_fn clock)
    : metrics_(metrics),
      emit_(std::move(emit)),
      store_(store),
      clock_(clock ? std::move(clock) : clock_fn(system_now)) {}

sample_quality_monitor::~sample_quality_monitor() = default;

std::shared_ptr<sample_quality_monitor::dataset_state> sample_quality_monitor::state_of(
    const std::string& dataset_id) {
  auto& slot = datasets_[dataset_id];
  if (!slot) slot = std::make_shared<dataset_state>();
  return slot;
}

void sample_quality_monitor::configure(const config::daemon_config& cfg) {
  // Half of the shared rate at most, so task polls never queue behind rounds.
  const double rate = cfg.poll.max_rate;
  pacer_.set_spacing(rate > 0.0 && std::isfinite(rate)
                         ? std::chrono::nanoseconds(static_cast<std::int64_t>(2e9 / rate))
                         : std::chrono::nanoseconds::zero());
  std::unordered_set<std::string> enabled;
  for (const auto& w : cfg.watches)
    if (w.sample_quality) enabled.insert(w.dataset_id);
  for (auto it = datasets_.begin(); it != datasets_.end();) {
    if (enabled.contains(it->first)) {
      ++it;
      continue;
    }
    metrics_.remove_sample_quality(it->first);
    it = datasets_.erase(it);
  }
  for (const auto& id : enabled) state_of(id);
}

net::awaitable<bool> sample_quality_monitor::run_round(config::watch_config watch,
                                                       modelarts::api_client& api) {
  const std::string dataset = watch.dataset_id;
  const auto state = state_of(dataset);
  const auto started = steady::now();

  listing_options options;
  options.max_samples = watch.max_samples_per_round;
  options.pacer = &pacer_;
  auto listed = co_await list_samples_for_quality(api, dataset, options, &state->cache);

  // Reconfigured meanwhile: this dataset's figures are no longer wanted.
  const auto current = datasets_.find(dataset);
  if (current == datasets_.end() || current->second != state) co_return true;

  if (!listed) {
    const auto& failure = listed.error();
    metrics_.count_poll_error("samples", failure.error.kind);
    const auto message = stable_message(failure.error);
    spdlog::warn("sample quality round of {}: {} failed: {}", dataset, failure.operation,
                 failure.error.summary());
    if (message != state->last_error) {
      state->last_error = message;
      event ev;
      ev.ts = clock_();
      ev.level = event_level::warning;
      ev.name = "api_error";
      ev.fields["operation"] = failure.operation;
      ev.fields["dataset_id"] = dataset;
      const auto& e = failure.error;
      ev.fields["reason"] = modelarts::error_kind_name(e.kind);
      if (e.http_status != 0) ev.fields["http_status"] = e.http_status;
      if (!e.error_code.empty()) ev.fields["error_code"] = e.error_code;
      if (!e.error_msg.empty()) ev.fields["error_msg"] = e.error_msg;
      if (!e.detail.empty()) ev.fields["detail"] = e.detail;
      if (!e.request_id.empty()) ev.fields["request_id"] = e.request_id;
      emit_(ev);
    }
    co_return false;
  }
  state->last_error.clear();

  auto q = summarize(listed->samples, watch.sample_label_names);
  q.dataset_samples = listed->dataset_samples;
  q.truncated = listed->truncated;
  const auto finished = clock_();
  metrics_.update_sample_quality(dataset, observe::to_view(q), finished);

  event round;
  round.ts = finished;
  round.level = event_level::info;
  round.name = "sample_quality_round";
  round.fields["dataset_id"] = dataset;
  round.fields["max_samples"] = watch.max_samples_per_round;
  for (const auto& kv : to_json(q)) round.fields[kv.key()] = kv.value();
  round.fields["list_requests"] = listed->list_requests;
  round.fields["detail_requests"] = listed->detail_requests;
  round.fields["details_cached"] = listed->details_cached;
  if (listed->details_vanished > 0) round.fields["details_vanished"] = listed->details_vanished;
  round.fields["duration_ms"] =
      std::chrono::duration_cast<milliseconds>(steady::now() - started).count();
  emit_(round);
  if (q.truncated)
    spdlog::debug("sample quality round of {}: read {} of {} samples (max_samples_per_round)",
                  dataset, q.samples, q.dataset_samples.value_or(-1));

  // Low confidence: one event per crossing; the state survives restarts in the store.
  // Named arguments: gcc 12 mishandles class prvalues passed in a co_await expression.
  const std::string meta_key = low_confidence_meta_key(dataset);
  if (!state->low_loaded && store_ != nullptr) {
    auto stored = co_await store_->get_meta(meta_key);
    if (stored && *stored) state->low = **stored == "1";
    if (!stored) spdlog::warn("state store: {}", stored.error().message);
  }
  state->low_loaded = true;
  const bool was_low = state->low;
  std::optional<double> median;
  if (q.quantiles) median = q.quantiles->p50;
  const auto change = next_confidence(state->low, median, watch.low_confidence_median);
  if (state->low != was_low && store_ != nullptr) {
    const std::string value = state->low ? "1" : "0";
    auto saved = co_await store_->set_meta(meta_key, value);
    // Emitted anyway: a repeat after a restart is better than a missing warning.
    if (!saved) spdlog::warn("state store: {}", saved.error().message);
  }
  if (change != confidence_change::none) {
    event ev;
    ev.ts = clock_();
    ev.fields["dataset_id"] = dataset;
    ev.fields["median"] = median.value_or(0.0);
    ev.fields["threshold"] = watch.low_confidence_median.value_or(0.0);
    if (change == confidence_change::dropped) {
      ev.level = event_level::warning;
      ev.name = "low_confidence_batch";
      ev.fields["score_p10"] = q.quantiles->p10;
      ev.fields["score_p90"] = q.quantiles->p90;
      ev.fields["samples"] = q.samples;
      ev.fields["waiting"] = q.waiting;
      ev.fields["labels_scored"] = q.scores.count();
      ev.fields["hard_samples"] = q.hard_samples;
      ev.fields["truncated"] = q.truncated;
    } else {
      ev.level = event_level::info;
      ev.name = "low_confidence_cleared";
      ev.fields["samples"] = q.samples;
    }
    emit_(ev);
  }
  co_return true;
}

}  // namespace labelwatch::app
