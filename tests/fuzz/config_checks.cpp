// Properties of parse_config, checked independently of the reader's own code paths.
#include "config_checks.hpp"

#include "config/reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace labelwatch::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "config property failed: %s\n", what.c_str());
  std::abort();
}

void require(bool ok, const char* what) {
  if (!ok) fail(what);
}

constexpr std::string_view k_source = "fuzz.toml";

bool is_star(const std::vector<std::string>& ds) { return std::find(ds.begin(), ds.end(), "*") != ds.end(); }

// The overlap rule restated plainly: datasets, statuses and pass-rate ranges all meet.
bool could_meet(const config::acceptance_rule& a, const config::acceptance_rule& b) {
  bool datasets = is_star(a.datasets) || is_star(b.datasets);
  for (const auto& d : a.datasets)
    datasets = datasets || std::find(b.datasets.begin(), b.datasets.end(), d) != b.datasets.end();
  bool statuses = false;
  for (const auto s : a.when_status)
    statuses = statuses || std::find(b.when_status.begin(), b.when_status.end(), s) != b.when_status.end();
  const double lo = std::max(a.min_pass_rate.value_or(0.0), b.min_pass_rate.value_or(0.0));
  const double hi = std::min(a.max_pass_rate.value_or(1.0), b.max_pass_rate.value_or(1.0));
  return datasets && statuses && lo <= hi;
}

void check_valid(const config::daemon_config& c) {
  using namespace std::chrono_literals;
  require(c.source == k_source, "source is the name given");
  require(!c.cloud.endpoint.empty() && !c.cloud.project_id.empty(), "cloud endpoint and project set");
  require(c.cloud.endpoint.starts_with("https://") || c.cloud.endpoint.starts_with("http://"), "endpoint scheme");
  require(c.cloud.locale == "en-us" || c.cloud.locale == "zh-cn", "locale");
  const auto& p = c.poll;
  require(p.active_interval > 0ms && p.idle_interval > 0ms && p.terminal_interval >= 0ms, "poll intervals");
  require(p.request_timeout >= 100ms && p.stall_after > 0ms, "timeout and stall");
  require(p.max_in_flight >= 1 && p.max_in_flight <= 1024, "max_in_flight range");
  require(std::isfinite(p.max_rate) && p.max_rate > 0.0, "max_rate positive and finite");
  require(c.auth.token_refresh_before > 0ms && c.auth.token_refresh_before < 24h, "token refresh");
  if (c.auth.method == config::auth_method::token)
    require(!c.auth.iam_endpoint.empty() && !c.auth.domain_name.empty() && !c.auth.user_name.empty(),
            "token auth has its keys");
  std::set<std::string> datasets;
  for (const auto& w : c.watches) {
    require(!w.dataset_id.empty() && datasets.insert(w.dataset_id).second, "dataset ids set and unique");
    require(w.discover || !w.auto_tasks.empty() || !w.workforce_tasks.empty(), "each watch watches something");
    for (const auto* ids : {&w.auto_tasks, &w.workforce_tasks}) {
      std::set<std::string> seen;
      for (const auto& id : *ids) require(!id.empty() && seen.insert(id).second, "task ids set and unique");
    }
    require(w.discover_interval > 0ms && w.sample_quality_interval > 0ms, "watch intervals");
    require(w.max_samples_per_round >= 1 && w.max_samples_per_round <= 100000, "max_samples_per_round");
    if (w.low_confidence_median)
      require(*w.low_confidence_median >= 0.0 && *w.low_confidence_median <= 1.0, "low_confidence_median");
  }
  require(c.server.tls_cert_file.empty() == c.server.tls_key_file.empty(), "tls cert and key together");
  require(c.server.basic_auth_user.empty() == c.server.basic_auth_password_file.empty(), "basic auth pair");
  require(!c.state.path.empty() && c.state.path.front() == '/', "state path absolute");
  require(c.acceptance.max_actions_per_hour >= 1, "max_actions_per_hour");
  std::set<std::string> names;
  const auto& rules = c.acceptance.rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    require(!r.name.empty() && names.insert(r.name).second, "rule names set and unique");
    require(!r.datasets.empty() && !r.when_status.empty(), "rule scope non-empty");
    for (const auto& d : r.datasets) require(d == "*" || datasets.contains(d), "rule datasets are watched");
    for (const auto s : r.when_status) require(s != workforce_status::unknown, "rule statuses known");
    for (const auto& v : {r.min_pass_rate, r.max_pass_rate})
      if (v) require(*v >= 0.0 && *v <= 1.0, "pass rates are ratios");
    if (r.min_pass_rate && r.max_pass_rate) require(*r.min_pass_rate <= *r.max_pass_rate, "min <= max");
    if (r.min_checked_samples) require(*r.min_checked_samples >= 0, "min_checked_samples");
    if (r.max_conflicts) require(*r.max_conflicts >= 0, "max_conflicts");
    require(config::parse_acceptance_action(config::to_string(r.action)).has_value(), "action is a rule action");
    for (std::size_t j = 0; j < i; ++j) {
      const auto& o = rules[j];
      if (could_meet(r, o))
        require(r.action == o.action && r.overwrite_last_result == o.overwrite_last_result,
                "rules that can meet agree");
    }
  }
}

void check_errors(const std::vector<config::config_error>& errors) {
  require(!errors.empty(), "a failure has at least one error");
  for (const auto& e : errors) {
    require(e.file == k_source, "errors name the file");
    require(!e.message.empty(), "errors have a message");
    const auto text = e.to_string();
    require(text.find_first_of("\r\n") == std::string::npos, "an error is one line");
  }
}

}  // namespace

void check_config_document(std::string_view data) {
  const auto first = config::parse_config(data, k_source);
  const auto second = config::parse_config(data, k_source);
  require(first.has_value() == second.has_value(), "deterministic outcome");
  if (first) {
    check_valid(*first);
    return;
  }
  check_errors(first.error());
  require(first.error().size() == second.error().size(), "deterministic errors");
  for (std::size_t i = 0; i < first.error().size(); ++i)
    require(first.error()[i].to_string() == second.error()[i].to_string(), "deterministic errors");
}

}  // namespace labelwatch::fuzz
