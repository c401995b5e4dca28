// Derivations from API documents to task views; liveness and readiness decisions.
#include "observe/views.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace labelwatch::observe {
namespace {

std::optional<double> ratio(std::optional<double> v) {
  if (!v || !std::isfinite(*v) || *v < 0.0 || *v > 1.0) return std::nullopt;
  return v;
}

void add_count(std::vector<std::pair<std::string, std::int64_t>>& out, std::string_view name,
               std::optional<std::int64_t> v) {
  if (v) out.emplace_back(std::string(name), *v);
}

task_view base_view(const task_key& key, std::string_view name, std::int64_t code) {
  task_view v;
  v.kind = key.kind;
  v.dataset_id = key.dataset_id;
  v.task_id = key.task_id;
  v.task_name = std::string(name);
  v.status_code = code;
  return v;
}

}  // namespace

task_view make_task_view(const task_key& key, const modelarts::auto_task& t) {
  auto v = base_view(key, t.task_name, t.status_code);
  if (t.progress && std::isfinite(*t.progress))
    v.progress_ratio = std::clamp(*t.progress / 100.0, 0.0, 1.0);
  const auto* r = t.result ? &*t.result : nullptr;
  add_count(
      v.samples, "total",
      t.total_sample_count ? t.total_sample_count : (r ? r->total_sample_count : std::nullopt));
  add_count(v.samples, "annotated",
            t.annotated_sample_count ? t.annotated_sample_count
                                     : (r ? r->annotated_sample_count : std::nullopt));
  add_count(v.samples, "unconfirmed",
            t.unconfirmed_sample_count ? t.unconfirmed_sample_count
                                       : (r ? r->unconfirmed_sample_count : std::nullopt));
  v.api_error_code = t.error_code;
  v.api_error_msg = t.error_msg;
  return v;
}

task_view make_task_view(const task_key& key, const modelarts::workforce_task& t) {
  auto v = base_view(key, t.task_name, t.status_code);
  if (t.stats) {
    const auto& s = *t.stats;
    add_count(v.samples, "total", s.total_sample_count);
    add_count(v.samples, "unannotated", s.unannotated_sample_count);
    add_count(v.samples, "unreviewed", s.unreviewed_sample_count);
    add_count(v.samples, "uncheck", s.uncheck_sample_count);
    add_count(v.samples, "sampled", s.sampled_sample_count);
    add_count(v.samples, "rejected", s.rejected_sample_count);
    add_count(v.samples, "accepted", s.accepted_sample_count);
    add_count(v.samples, "auto_annotation", s.auto_annotation_sample_count);
    add_count(v.samples, "deleted", s.deleted_sample_count);
    // A team task's progress: the share of samples no longer waiting for a labeler.
    if (s.total_sample_count && *s.total_sample_count > 0 && s.unannotated_sample_count) {
      const double done = static_cast<double>(*s.total_sample_count - *s.unannotated_sample_count);
      v.progress_ratio = std::clamp(done / static_cast<double>(*s.total_sample_count), 0.0, 1.0);
    }
  }
  if (t.checking && t.checking->checking_stats) {
    const auto& c = *t.checking->checking_stats;
    add_count(v.acceptance, "sampled", c.sampled_sample_count);
    add_count(v.acceptance, "checked", c.checked_sample_count);
    add_count(v.acceptance, "accepted", c.accepted_sample_count);
    add_count(v.acceptance, "rejected", c.rejected_sample_count);
    add_count(v.acceptance, "unchecked", c.unchecked_sample_count);
    v.acceptance_pass_rate = ratio(c.pass_rate);
    v.acceptance_score = c.score;
  }
  v.pass_rate = ratio(t.pass_rate);
  if (t.score && std::isfinite(*t.score)) v.score = t.score;
  v.check_rate = ratio(t.check_rate);
  return v;
}

check_result evaluate_liveness(const health_view& h) {
  if (!h.last_loop_turn) return {false, "event loop has not completed a turn yet"};
  const auto quiet = h.now - *h.last_loop_turn;
  if (quiet > h.loop_stall_after) return {false, "event loop stalled for " + format_age(quiet)};
  return {true, "ok"};
}

check_result evaluate_readiness(const health_view& h) {
  std::string why;
  const auto add = [&](std::string_view s) {
    if (!why.empty()) why += "; ";
    why += s;
  };
  if (!h.config_loaded) add("configuration not loaded");
  if (!h.auth_ok) {
    add(h.auth_problem.empty() ? std::string("authentication not working")
                               : "authentication not working: " + h.auth_problem);
  }
  if (!h.first_poll_done) add("first poll round not finished");
  if (why.empty()) return {true, "ready"};
  return {false, "not ready: " + why};
}

std::string format_age(milliseconds d) {
  if (d < milliseconds{0}) d = milliseconds{0};
  using namespace std::chrono;
  const auto total = duration_cast<seconds>(d).count();
  const std::int64_t days = total / 86400, hours = total / 3600 % 24, mins = total / 60 % 60,
                     secs = total % 60;
  const auto two = [](std::int64_t a, const char* ua, std::int64_t b, const char* ub) {
    std::string s = std::to_string(a) + ua;
    if (b != 0) s += " " + std::to_string(b) + ub;
    return s;
  };
  if (days > 0) return two(days, "d", hours, "h");
  if (hours > 0) return two(hours, "h", mins, "m");
  if (mins > 0) return two(mins, "m", secs, "s");
  return std::to_string(secs) + "s";
}

}  // namespace labelwatch::observe
