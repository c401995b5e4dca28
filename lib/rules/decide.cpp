// Acceptance decisions: see decide.hpp for the rules this implements.
#include "rules/decide.hpp"

#include "core/json_text.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cmath>

namespace labelwatch::rules {
namespace {

namespace json = boost::json;
using config::acceptance_mode;
using config::acceptance_rule;

json::value opt(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

std::string num(double d) {
  return format_json_double(d);
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

bool usable_ratio(const std::optional<double>& r) {
  return r && std::isfinite(*r) && *r >= 0.0 && *r <= 1.0;
}

// The conditions of `rule` that need no request, in the documented order, plus
// max_conflicts when `conflicts` is known. Returns the first failing check's text
// through `why` when one fails.
struct rule_eval {
  std::vector<condition_check> checks;
  std::optional<std::string> failed;  // why the rule does not match
  bool needs_conflicts = false;       // max_conflicts set and the list is not known
};

rule_eval evaluate(const acceptance_rule& rule, const task_figures& f,
                   const std::optional<std::int64_t>& conflicts) {
  rule_eval out;
  const auto fail = [&out](std::string why) {
    if (!out.failed) out.failed = std::move(why);
  };

  {
    json::array listed;
    for (const auto& d : rule.datasets) listed.emplace_back(d);
    const bool all =
        std::find(rule.datasets.begin(), rule.datasets.end(), "*") != rule.datasets.end();
    const bool held = all || std::find(rule.datasets.begin(), rule.datasets.end(), f.dataset_id) !=
                                 rule.datasets.end();
    out.checks.push_back({"dataset", json::value(f.dataset_id), std::move(listed), held});
    if (!held) fail("dataset " + quoted(f.dataset_id) + " is not listed");
  }
  {
    json::array listed;
    std::string names;
    for (auto st : rule.when_status) {
      listed.emplace_back(to_string(st));
      names += (names.empty() ? "" : ", ") + std::string(to_string(st));
    }
    const bool held = std::find(rule.when_status.begin(), rule.when_status.end(), f.status) !=
                      rule.when_status.end();
    out.checks.push_back(
        {"when_status", json::value(to_string(f.status)), std::move(listed), held});
    if (!held) fail("status " + std::string(to_string(f.status)) + " is not in [" + names + "]");
  }
  if (rule.min_pass_rate) {
    const bool held = usable_ratio(f.pass_rate) && *f.pass_rate >= *rule.min_pass_rate;
    out.checks.push_back(
        {"min_pass_rate", opt(f.pass_rate), json::value(*rule.min_pass_rate), held});
    if (!held) {
      fail(usable_ratio(f.pass_rate)
               ? "pass_rate " + num(*f.pass_rate) + " < min_pass_rate " + num(*rule.min_pass_rate)
               : std::string("pass_rate is not reported as a ratio"));
    }
  }
  if (rule.max_pass_rate) {
    const bool held = usable_ratio(f.pass_rate) && *f.pass_rate <= *rule.max_pass_rate;
    out.checks.push_back(
        {"max_pass_rate", opt(f.pass_rate), json::value(*rule.max_pass_rate), held});
    if (!held) {
      fail(usable_ratio(f.pass_rate)
               ? "pass_rate " + num(*f.pass_rate) + " > max_pass_rate " + num(*rule.max_pass_rate)
               : std::string("pass_rate is not reported as a ratio"));
    }
  }
  if (rule.min_checked_samples) {
    const bool held = f.checked && *f.checked >= *rule.min_checked_samples;
    out.checks.push_back(
        {"min_checked_samples", opt(f.checked), json::value(*rule.min_checked_samples), held});
    if (!held) {
      fail(f.checked ? "checked samples " + std::to_string(*f.checked) + " < min_checked_samples " +
                           std::to_string(*rule.min_checked_samples)
                     : std::string("checked_sample_count is not reported"));
    }
  }
  if (rule.require_sampling_complete) {
    const bool known = f.checked && f.sampling_num;
    const bool held = known && *f.sampling_num > 0 && *f.checked == *f.sampling_num;
    json::object value;
    value["checked"] = opt(f.checked);
    value["sampling_num"] = opt(f.sampling_num);
    out.checks.push_back({"require_sampling_complete", std::move(value), json::value(true), held});
    if (!held) {
      fail(known ? "sampling incomplete: checked " + std::to_string(*f.checked) +
                       " of sampling_num " + std::to_string(*f.sampling_num)
                 : std::string(
                       "sampling progress (checked_sample_count, sampling_num) is not reported"));
    }
  }
  if (rule.max_conflicts) {
    if (conflicts) {
      const bool held = *conflicts <= *rule.max_conflicts;
      out.checks.push_back(
          {"max_conflicts", json::value(*conflicts), json::value(*rule.max_conflicts), held});
      if (!held) {
        fail("conflicts " + std::to_string(*conflicts) + " > max_conflicts " +
             std::to_string(*rule.max_conflicts));
      }
    } else {
      out.needs_conflicts = true;
    }
  }
  return out;
}

decision decision_of(const acceptance_rule& rule, std::size_t index,
                     std::vector<condition_check> checks) {
  decision d;
  d.rule = rule.name;
  d.rule_index = index;
  d.mode = rule.mode;
  d.action = rule.action;
  d.overwrite_last_result = rule.overwrite_last_result;
  d.conditions = std::move(checks);
  return d;
}

std::string seconds_text(milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

// The guard that holds back `rule` now, with its numbers; nullopt when none does.
std::optional<std::pair<guard, std::string>> held_back(const acceptance_rule& rule,
                                                       const config::acceptance_config& cfg,
                                                       const ledger_facts& ledger, sys_time now) {
  if (!cfg.enabled) return std::pair{guard::disabled, std::string("[acceptance] enabled = false")};
  if (rule.mode != acceptance_mode::enforce) return std::nullopt;
  if (ledger.unresolved_id) {
    return std::pair{guard::unresolved, "ledger entry " + std::to_string(*ledger.unresolved_id) +
                                            " of this task is not resolved yet"};
  }
  if (cfg.task_cooldown.count() > 0 && ledger.last_enforce_action) {
    const auto since = now - *ledger.last_enforce_action;
    if (since < cfg.task_cooldown) {
      return std::pair{guard::cooldown, "last action on this task " + seconds_text(since) +
                                            " ago, task_cooldown " +
                                            seconds_text(cfg.task_cooldown)};
    }
  }
  if (ledger.enforce_actions_last_hour >= static_cast<std::int64_t>(cfg.max_actions_per_hour)) {
    return std::pair{guard::rate_limited, std::to_string(ledger.enforce_actions_last_hour) +
                                              " actions in the last hour, max_actions_per_hour " +
                                              std::to_string(cfg.max_actions_per_hour)};
  }
  return std::nullopt;
}

std::string misses_text(const std::vector<rule_miss>& misses) {
  std::string out;
  for (const auto& m : misses)
    out += (out.empty() ? "" : "; ") + ("rule " + quoted(m.rule) + ": " + m.why);
  return out;
}

}  // namespace

task_figures figures_of(const task_key& key, const modelarts::workforce_task& task) {
  task_figures f;
  f.dataset_id = key.dataset_id;
  f.task_id = key.task_id;
  f.task_name = task.task_name;
  f.status_code = task.status_code;
  f.status = task.status();
  if (task.checking) {
    f.checking_task_id = task.checking->checking_task_id;
    if (const auto& cs = task.checking->checking_stats) {
      f.pass_rate = cs->pass_rate;
      f.checked = cs->checked_sample_count;
      f.sampling_num = cs->sampling_num;
      f.accepted = cs->accepted_sample_count;
      f.rejected = cs->rejected_sample_count;
      f.unchecked = cs->unchecked_sample_count;
    }
  }
  return f;
}

std::string_view to_string(verdict_kind k) noexcept {
  switch (k) {
    case verdict_kind::none:
      return "none";
    case verdict_kind::need_conflicts:
      return "need_conflicts";
    case verdict_kind::act:
      return "act";
    case verdict_kind::dry_run:
      return "dry_run";
    case verdict_kind::skipped:
      break;
  }
  return "skipped";
}

std::string_view to_string(guard g) noexcept {
  switch (g) {
    case guard::disabled:
      return "disabled";
    case guard::unresolved:
      return "unresolved";
    case guard::cooldown:
      return "cooldown";
    case guard::rate_limited:
      break;
  }
  return "rate_limited";
}

std::string_view to_string(resolution r) noexcept {
  switch (r) {
    case resolution::took_effect:
      return "took_effect";
    case resolution::not_applied:
      return "not_applied";
    case resolution::undetermined:
      break;
  }
  return "undetermined";
}

verdict decide(const task_key& key, const modelarts::workforce_task& task,
               const config::acceptance_config& acceptance, const ledger_facts& ledger,
               std::optional<std::int64_t> conflicts, sys_time now) {
  verdict v;
  v.figures = figures_of(key, task);
  v.conflicts = conflicts;
  if (acceptance.rules.empty()) {
    v.reason = "no [[acceptance.rule]] is configured";
    return v;
  }
  if (v.figures.checking_task_id.empty()) {
    v.reason = "the task has no checking task (checking_task_desc.checking_task_id), status " +
               std::string(to_string(v.figures.status));
    return v;
  }

  for (std::size_t i = 0; i < acceptance.rules.size(); ++i) {
    const auto& rule = acceptance.rules[i];
    auto eval = evaluate(rule, v.figures, conflicts);
    if (eval.failed) {
      v.misses.push_back({rule.name, *eval.failed});
      continue;
    }
    const auto& live = rule.mode == acceptance_mode::enforce ? ledger.enforce : ledger.dry_run;
    if (live) {
      v.misses.push_back(
          {rule.name, "already decided: " + std::string(config::to_string(rule.mode)) +
                          " ledger entry " + std::to_string(live->id) + " (rule " +
                          quoted(live->rule) + ", " + live->state + ") for checking task " +
                          v.figures.checking_task_id});
      continue;
    }
    if (auto g = held_back(rule, acceptance, ledger, now)) {
      v.kind = verdict_kind::skipped;
      v.held_by = g->first;
      v.reason = std::move(g->second);
      v.chosen = decision_of(rule, i, std::move(eval.checks));
      return v;
    }
    if (eval.needs_conflicts) {
      v.kind = verdict_kind::need_conflicts;
      v.chosen = decision_of(rule, i, std::move(eval.checks));
      return v;
    }
    v.kind = rule.mode == acceptance_mode::enforce ? verdict_kind::act : verdict_kind::dry_run;
    v.chosen = decision_of(rule, i, std::move(eval.checks));
    return v;
  }
  v.reason = misses_text(v.misses);
  return v;
}

json::object explain(const verdict& v) {
  json::object o;
  const auto& f = v.figures;
  if (v.chosen) {
    const auto& d = *v.chosen;
    o["rule"] = d.rule;
    o["mode"] = config::to_string(d.mode);
    o["action"] = config::to_string(d.action);
    o["action_code"] = action_code(d.action);
    o["overwrite_last_result"] = d.overwrite_last_result;
  }
  o["checking_task_id"] = f.checking_task_id;
  o["status"] = to_string(f.status);
  o["status_code"] = f.status_code;
  o["pass_rate"] = opt(f.pass_rate);
  o["checked_samples"] = opt(f.checked);
  o["sampling_num"] = opt(f.sampling_num);
  o["accepted_samples"] = opt(f.accepted);
  o["rejected_samples"] = opt(f.rejected);
  o["unchecked_samples"] = opt(f.unchecked);
  o["conflicts"] = opt(v.conflicts);
  if (v.chosen) {
    json::array conds;
    for (const auto& c : v.chosen->conditions) {
      json::object co;
      co["condition"] = c.condition;
      co["value"] = c.value;
      co["bound"] = c.bound;
      co["held"] = c.held;
      conds.push_back(std::move(co));
    }
    o["conditions"] = std::move(conds);
  }
  if (v.held_by) o["guard"] = to_string(*v.held_by);
  if (!v.reason.empty()) o["reason"] = v.reason;
  if (!v.misses.empty()) {
    json::array misses;
    for (const auto& m : v.misses) misses.push_back(json::object{{"rule", m.rule}, {"why", m.why}});
    o["misses"] = std::move(misses);
  }
  return o;
}

std::string describe(const verdict& v) {
  if (!v.chosen) return "no rule applies: " + v.reason;
  const auto& d = *v.chosen;
  std::string out = "rule " + quoted(d.rule) + " (" + std::string(config::to_string(d.mode)) +
                    ", " + std::string(config::to_string(d.action)) + "): checking task " +
                    v.figures.checking_task_id;
  for (const auto& c : d.conditions) {
    out += ", ";
    if (c.condition == "dataset") {
      out += "dataset " + v.figures.dataset_id;
    } else if (c.condition == "when_status") {
      out += "status " + std::string(to_string(v.figures.status));
    } else if (c.condition == "min_pass_rate") {
      out += "pass_rate " + json_text(c.value) + " >= " + json_text(c.bound);
    } else if (c.condition == "max_pass_rate") {
      out += "pass_rate " + json_text(c.value) + " <= " + json_text(c.bound);
    } else if (c.condition == "min_checked_samples") {
      out += "checked " + json_text(c.value) + " >= " + json_text(c.bound);
    } else if (c.condition == "require_sampling_complete") {
      out += "sampling complete " + json_text(opt(v.figures.checked)) + "/" +
             json_text(opt(v.figures.sampling_num));
    } else if (c.condition == "max_conflicts") {
      out += "conflicts " + json_text(c.value) + " <= " + json_text(c.bound);
    }
  }
  switch (v.kind) {
    case verdict_kind::skipped:
      out += "; held back (" + std::string(to_string(*v.held_by)) + "): " + v.reason;
      break;
    case verdict_kind::need_conflicts:
      out += "; needs the conflict list";
      break;
    default:
      break;
  }
  return out;
}

resolution_verdict judge_open_entry(std::string_view checking_task_id,
                                    const modelarts::workforce_task& task) {
  const std::string now_checking = task.checking ? task.checking->checking_task_id : std::string();
  const auto status = task.status();
  const std::string status_text =
      "status " + std::string(to_string(status)) + " (" + std::to_string(task.status_code) + ")";
  if (status == workforce_status::syncing || status == workforce_status::accepted ||
      status == workforce_status::rejected) {
    return {resolution::took_effect, "the task shows " + status_text};
  }
  if (now_checking != checking_task_id) {
    return {resolution::took_effect,
            "the task's checking task is " +
                (now_checking.empty() ? std::string("gone") : quoted(now_checking)) + " (was " +
                quoted(checking_task_id) + "), " + status_text};
  }
  if (status == workforce_status::accepting) {
    return {resolution::not_applied, "the task still shows checking task " +
                                         quoted(checking_task_id) + " in status accepting"};
  }
  return {resolution::undetermined, "the task shows checking task " + quoted(checking_task_id) +
                                        " in " + status_text +
                                        ", which neither proves nor disproves the action"};
}

}  // namespace labelwatch::rules
