// Due-time arithmetic for the poll loop.
#include "core/scheduler.hpp"

#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace labelwatch {
namespace {

using std::chrono::duration_cast;

double clamp_unit(double u) noexcept {
  // NaN and out-of-range draws must not turn into absurd due times.
  if (!(u >= 0.0)) return 0.0;
  return std::min(u, 1.0);
}

mono_time::duration scaled(milliseconds interval, double factor) noexcept {
  const double ms = static_cast<double>(interval.count()) * factor;
  return duration_cast<mono_time::duration>(
      std::chrono::duration<double, std::milli>(std::max(0.0, ms)));
}

}  // namespace

std::string_view to_string(job_type t) noexcept {
  switch (t) {
    case job_type::poll_task: return "poll_task";
    case job_type::discover: return "discover";
    case job_type::sample_quality: break;
  }
  return "sample_quality";
}

scheduler_settings scheduler_settings::from(const config::poll_config& poll) {
  scheduler_settings s;
  s.active_interval = poll.active_interval;
  s.idle_interval = poll.idle_interval;
  s.terminal_interval = poll.terminal_interval;
  return s;
}

scheduler::scheduler(scheduler_settings settings) : settings_(settings) {}

milliseconds scheduler::interval_of(const cadence& c) const noexcept {
  if (const auto* fixed = std::get_if<milliseconds>(&c)) return *fixed;
  switch (std::get<status_class>(c)) {
    case status_class::active: return settings_.active_interval;
    case status_class::idle: return settings_.idle_interval;
    case status_class::terminal: break;
  }
  return settings_.terminal_interval;
}

milliseconds scheduler::backoff_cap(milliseconds interval) const noexcept {
  const auto cap = settings_.max_backoff > milliseconds::zero() ? settings_.max_backoff
                                                                : settings_.idle_interval;
  return std::max(cap, interval);
}

void scheduler::enqueue(job_map::iterator it, mono_time due) {
  job& j = it->second;
  j.ph = phase::queued;
  j.due = due;
  j.seq = next_seq_++;
  queue_.insert(queue_entry{due, j.seq, &it->first});
}

void scheduler::dequeue(job_map::iterator it) {
  job& j = it->second;
  if (j.ph == phase::queued) queue_.erase(queue_entry{j.due, j.seq, &it->first});
}

bool scheduler::add(const job_key& key, cadence c, mono_time due) {
  auto [it, inserted] = jobs_.try_emplace(key);
  if (!inserted) return false;
  it->second.cad = c;
  enqueue(it, due);
  return true;
}

bool scheduler::remove(const job_key& key) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return false;
  dequeue(it);
  if (it->second.ph == phase::running) --running_;
  jobs_.erase(it);
  return true;
}

bool scheduler::contains(const job_key& key) const noexcept { return jobs_.contains(key); }

void scheduler::apply_interval(job_map::iterator it) {
  job& j = it->second;
  const auto interval = interval_of(j.cad);
  switch (j.ph) {
    case phase::running: return;  // completion uses the new interval
    case phase::parked:
      if (interval > milliseconds::zero() && j.anchor) enqueue(it, *j.anchor + scaled(interval, j.factor));
      return;
    case phase::queued: break;
  }
  if (j.failures > 0 || !j.anchor) return;  // retry times and first runs stand
  if (interval == milliseconds::zero()) {
    dequeue(it);
    j.ph = phase::parked;
    return;
  }
  const auto due = *j.anchor + scaled(interval, j.factor);
  if (due != j.due) {
    dequeue(it);
    enqueue(it, due);
  }
}

bool scheduler::set_cadence(const job_key& key, cadence c) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return false;
  const auto before = interval_of(it->second.cad);
  it->second.cad = c;
  if (interval_of(c) != before) apply_interval(it);
  return true;
}

void scheduler::set_settings(const scheduler_settings& settings) {
  const scheduler_settings old = settings_;
  settings_ = settings;
  const auto old_interval = [&](const cadence& c) {
    if (const auto* fixed = std::get_if<milliseconds>(&c)) return *fixed;
    switch (std::get<status_class>(c)) {
      case status_class::active: return old.active_interval;
      case status_class::idle: return old.idle_interval;
      case status_class::terminal: break;
    }
    return old.terminal_interval;
  };
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it)
    if (old_interval(it->second.cad) != interval_of(it->second.cad)) apply_interval(it);
}

std::vector<due_job> scheduler::pop_due(mono_time now, std::size_t max) {
  std::vector<due_job> out;
  while (out.size() < max && !queue_.empty() && queue_.begin()->due <= now) {
    const auto entry = *queue_.begin();
    queue_.erase(queue_.begin());
    auto it = jobs_.find(*entry.key);
    it->second.ph = phase::running;
    ++running_;
    out.push_back(due_job{it->first, entry.due, it->second.failures});
  }
  return out;
}

std::optional<mono_time> scheduler::next_due() const noexcept {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->due;
}

std::optional<mono_time> scheduler::completed(const job_key& key, mono_time now, double unit,
                                              std::optional<cadence> c) {
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.ph != phase::running) return std::nullopt;
  job& j = it->second;
  --running_;
  if (c) j.cad = *c;
  j.failures = 0;
  j.anchor = now;
  j.factor = 1.0 + settings_.jitter * (2.0 * clamp_unit(unit) - 1.0);
  const auto interval = interval_of(j.cad);
  if (interval == milliseconds::zero()) {
    j.ph = phase::parked;
    return std::nullopt;
  }
  enqueue(it, now + scaled(interval, j.factor));
  return j.due;
}

std::optional<mono_time> scheduler::failed(const job_key& key, mono_time now, double unit,
                                           std::optional<milliseconds> retry_after) {
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.ph != phase::running) return std::nullopt;
  job& j = it->second;
  --running_;
  if (j.failures < std::numeric_limits<std::uint32_t>::max()) ++j.failures;
  auto interval = interval_of(j.cad);
  // A parked cadence (terminal "0s") still needs a retry base for the run that failed.
  if (interval == milliseconds::zero()) interval = settings_.active_interval;
  auto delay = full_jitter_backoff(j.failures, interval, backoff_cap(interval), clamp_unit(unit));
  delay = std::max(delay, settings_.min_retry_delay);
  if (retry_after) delay = std::max(delay, *retry_after);
  enqueue(it, now + delay);
  return j.due;
}

bool scheduler::reschedule(const job_key& key, mono_time due) {
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.ph == phase::running) return false;
  dequeue(it);
  enqueue(it, due);
  return true;
}

std::optional<mono_time> scheduler::due_of(const job_key& key) const noexcept {
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.ph != phase::queued) return std::nullopt;
  return it->second.due;
}

std::uint32_t scheduler::failures_of(const job_key& key) const noexcept {
  auto it = jobs_.find(key);
  return it == jobs_.end() ? 0 : it->second.failures;
}

mono_time spread_start(mono_time now, milliseconds interval, double unit) noexcept {
  return now + scaled(interval, clamp_unit(unit));
}

double lag_seconds(mono_time due, mono_time sent) noexcept {
  const auto d = std::chrono::duration<double>(sent - due).count();
  return d > 0 ? d : 0.0;
}

rate_limiter::rate_limiter(double rate_per_second, double burst, mono_time now) noexcept
    : rate_(std::max(rate_per_second, 0.0)), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void rate_limiter::refill(mono_time now) noexcept {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool rate_limiter::try_acquire(mono_time now) noexcept {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

mono_time rate_limiter::next_available(mono_time now) const noexcept {
  double tokens = tokens_;
  mono_time from = last_;
  if (now > last_) {
    tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last_).count() * rate_);
    from = now;
  }
  if (tokens >= 1.0) return std::max(now, from);
  if (rate_ <= 0.0) return mono_time::max();
  const double wait_s = (1.0 - tokens) / rate_;
  return from + std::chrono::duration_cast<mono_time::duration>(
                    std::chrono::duration<double>(wait_s)) +
         mono_time::duration{1};  // round up so the token is really there
}

void rate_limiter::set_rate(double rate_per_second, double burst, mono_time now) noexcept {
  refill(now);
  rate_ = std::max(rate_per_second, 0.0);
  burst_ = std::max(burst, 1.0);
  tokens_ = std::min(tokens_, burst_);
}

}  // namespace labelwatch
