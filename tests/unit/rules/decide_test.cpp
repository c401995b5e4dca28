// decide(): every condition and guard, table-driven, plus the explanation it produces
// and the judgement of open ledger entries.
#include "rules/decide.hpp"

#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace labelwatch;
using namespace labelwatch::rules;
using namespace std::chrono_literals;
using config::acceptance_action;
using config::acceptance_mode;
namespace json = boost::json;

namespace {

const sys_time t0 = from_unix_ms(1'700'000'000'000);
const task_key key{task_kind::workforce, "ds1", "w1"};

// A task in acceptance whose sampling is complete: 60 of 60 checked, pass rate 0.98.
modelarts::workforce_task accepting_task() {
  modelarts::workforce_task t;
  t.task_id = "w1";
  t.task_name = "team-one";
  t.status_code = 2;
  modelarts::checking_task_desc desc;
  desc.checking_task_id = "chk1";
  modelarts::check_task_stats cs;
  cs.pass_rate = 0.98;
  cs.checked_sample_count = 60;
  cs.sampling_num = 60;
  cs.accepted_sample_count = 59;
  cs.rejected_sample_count = 1;
  cs.unchecked_sample_count = 0;
  desc.checking_stats = cs;
  t.checking = desc;
  return t;
}

modelarts::check_task_stats& stats(modelarts::workforce_task& t) {
  return *t.checking->checking_stats;
}

config::acceptance_rule pass_rule(std::string name = "pass-high") {
  config::acceptance_rule r;
  r.name = std::move(name);
  r.mode = acceptance_mode::enforce;
  r.datasets = {"*"};
  r.when_status = {workforce_status::accepting};
  r.min_pass_rate = 0.95;
  r.min_checked_samples = 50;
  r.require_sampling_complete = true;
  r.action = acceptance_action::pass_all;
  return r;
}

struct inputs {
  modelarts::workforce_task task = accepting_task();
  config::acceptance_config cfg;
  ledger_facts ledger;
  std::optional<std::int64_t> conflicts;
  sys_time now = t0;

  inputs() { cfg.rules = {pass_rule()}; }
  config::acceptance_rule& rule() { return cfg.rules.front(); }
};

struct expectation {
  verdict_kind kind;
  std::optional<guard> held_by = std::nullopt;
  std::string reason_contains = {};
  std::string rule = {};
};

struct table_case {
  std::string name;
  std::function<void(inputs&)> setup;
  expectation want;
};

void check(const table_case& c) {
  SCOPED_TRACE(c.name);
  inputs in;
  c.setup(in);
  const auto v = decide(key, in.task, in.cfg, in.ledger, in.conflicts, in.now);
  EXPECT_EQ(to_string(v.kind), to_string(c.want.kind)) << describe(v);
  if (c.want.held_by) {
    ASSERT_TRUE(v.held_by.has_value()) << describe(v);
    EXPECT_EQ(to_string(*v.held_by), to_string(*c.want.held_by));
  } else {
    EXPECT_FALSE(v.held_by.has_value()) << describe(v);
  }
  if (!c.want.reason_contains.empty()) {
    EXPECT_NE(v.reason.find(c.want.reason_contains), std::string::npos) << "reason: " << v.reason;
  }
  if (!c.want.rule.empty()) {
    ASSERT_TRUE(v.chosen.has_value());
    EXPECT_EQ(v.chosen->rule, c.want.rule);
  }
  if (c.want.kind == verdict_kind::none) {
    EXPECT_FALSE(v.chosen.has_value());
    EXPECT_FALSE(v.reason.empty());
  } else {
    EXPECT_TRUE(v.chosen.has_value());
  }
}

}  // namespace

// ---- conditions --------------------------------------------------------------------

TEST(decide, conditions) {
  const std::vector<table_case> cases = {
      {"all conditions hold, enforce", [](inputs&) {}, {verdict_kind::act}},
      {"all conditions hold, dry-run",
       [](inputs& in) { in.rule().mode = acceptance_mode::dry_run; },
       {verdict_kind::dry_run}},
      {"no rules",
       [](inputs& in) { in.cfg.rules.clear(); },
       {verdict_kind::none, std::nullopt, "no [[acceptance.rule]]"}},
      {"no checking task",
       [](inputs& in) { in.task.checking.reset(); },
       {verdict_kind::none, std::nullopt, "no checking task"}},
      {"empty checking task id",
       [](inputs& in) { in.task.checking->checking_task_id.clear(); },
       {verdict_kind::none, std::nullopt, "no checking task"}},
      // datasets
      {"dataset listed",
       [](inputs& in) {
         in.rule().datasets = {"other", "ds1"};
       },
       {verdict_kind::act}},
      {"dataset not listed",
       [](inputs& in) { in.rule().datasets = {"other"}; },
       {verdict_kind::none, std::nullopt, "dataset \"ds1\" is not listed"}},
      // when_status
      {"status not listed",
       [](inputs& in) { in.task.status_code = 1; },
       {verdict_kind::none, std::nullopt, "status running is not in [accepting]"}},
      {"unknown status code",
       [](inputs& in) { in.task.status_code = 42; },
       {verdict_kind::none, std::nullopt, "status unknown"}},
      {"other status listed",
       [](inputs& in) {
         in.task.status_code = 7;
         in.rule().when_status = {workforce_status::accepting, workforce_status::sampling};
       },
       {verdict_kind::act}},
      // min_pass_rate (inclusive)
      {"pass rate below min",
       [](inputs& in) { stats(in.task).pass_rate = 0.9; },
       {verdict_kind::none, std::nullopt, "pass_rate 0.9 < min_pass_rate 0.95"}},
      {"pass rate equal to min",
       [](inputs& in) { stats(in.task).pass_rate = 0.95; },
       {verdict_kind::act}},
      {"pass rate absent",
       [](inputs& in) { stats(in.task).pass_rate.reset(); },
       {verdict_kind::none, std::nullopt, "pass_rate is not reported as a ratio"}},
      {"pass rate NaN",
       [](inputs& in) { stats(in.task).pass_rate = std::numeric_limits<double>::quiet_NaN(); },
       {verdict_kind::none, std::nullopt, "not reported as a ratio"}},
      {"pass rate above 1 (a percent?)",
       [](inputs& in) { stats(in.task).pass_rate = 98.0; },
       {verdict_kind::none, std::nullopt, "not reported as a ratio"}},
      {"no min_pass_rate: any rate",
       [](inputs& in) {
         in.rule().min_pass_rate.reset();
         stats(in.task).pass_rate = 0.1;
       },
       {verdict_kind::act}},
      // max_pass_rate (inclusive, reject rules)
      {"pass rate above max",
       [](inputs& in) {
         in.rule().min_pass_rate.reset();
         in.rule().max_pass_rate = 0.8;
       },
       {verdict_kind::none, std::nullopt, "pass_rate 0.98 > max_pass_rate 0.8"}},
      {"pass rate equal to max",
       [](inputs& in) {
         in.rule().min_pass_rate.reset();
         in.rule().max_pass_rate = 0.98;
       },
       {verdict_kind::act}},
      {"max_pass_rate with absent rate",
       [](inputs& in) {
         in.rule().min_pass_rate.reset();
         in.rule().max_pass_rate = 0.8;
         stats(in.task).pass_rate.reset();
       },
       {verdict_kind::none, std::nullopt, "not reported"}},
      // min_checked_samples
      {"checked below min",
       [](inputs& in) {
         in.rule().require_sampling_complete = false;
         stats(in.task).checked_sample_count = 49;
       },
       {verdict_kind::none, std::nullopt, "checked samples 49 < min_checked_samples 50"}},
      {"checked equal to min",
       [](inputs& in) {
         in.rule().require_sampling_complete = false;
         stats(in.task).checked_sample_count = 50;
       },
       {verdict_kind::act}},
      {"checked absent",
       [](inputs& in) { stats(in.task).checked_sample_count.reset(); },
       {verdict_kind::none, std::nullopt, "checked_sample_count is not reported"}},
      // require_sampling_complete
      {"sampling incomplete",
       [](inputs& in) {
         in.rule().min_checked_samples.reset();
         stats(in.task).checked_sample_count = 59;
       },
       {verdict_kind::none, std::nullopt, "sampling incomplete: checked 59 of sampling_num 60"}},
      {"sampling incomplete but not required",
       [](inputs& in) {
         in.rule().require_sampling_complete = false;
         stats(in.task).checked_sample_count = 59;
       },
       {verdict_kind::act}},
      {"sampling_num absent",
       [](inputs& in) { stats(in.task).sampling_num.reset(); },
       {verdict_kind::none, std::nullopt, "sampling progress"}},
      {"sampling_num zero",
       [](inputs& in) {
         in.rule().min_checked_samples.reset();
         stats(in.task).sampling_num = 0;
         stats(in.task).checked_sample_count = 0;
       },
       {verdict_kind::none, std::nullopt, "sampling incomplete: checked 0 of sampling_num 0"}},
      {"no checking stats at all",
       [](inputs& in) { in.task.checking->checking_stats.reset(); },
       {verdict_kind::none, std::nullopt, "pass_rate is not reported"}},
      // max_conflicts
      {"conflicts needed",
       [](inputs& in) { in.rule().max_conflicts = 0; },
       {verdict_kind::need_conflicts}},
      {"conflicts within bound",
       [](inputs& in) {
         in.rule().max_conflicts = 2;
         in.conflicts = 2;
       },
       {verdict_kind::act}},
      {"conflicts above bound",
       [](inputs& in) {
         in.rule().max_conflicts = 1;
         in.conflicts = 2;
       },
       {verdict_kind::none, std::nullopt, "conflicts 2 > max_conflicts 1"}},
      {"conflicts not needed when no rule matches otherwise",
       [](inputs& in) {
         in.rule().max_conflicts = 0;
         stats(in.task).pass_rate = 0.5;
       },
       {verdict_kind::none, std::nullopt, "pass_rate 0.5"}},
      {"conflicts ignored without max_conflicts",
       [](inputs& in) { in.conflicts = 1000; },
       {verdict_kind::act}},
  };
  for (const auto& c : cases) check(c);
}

// ---- guards ------------------------------------------------------------------------

TEST(decide, guards) {
  const auto dry = [](inputs& in) { in.rule().mode = acceptance_mode::dry_run; };
  const std::vector<table_case> cases = {
      {"kill switch holds enforce",
       [](inputs& in) { in.cfg.enabled = false; },
       {verdict_kind::skipped, guard::disabled, "enabled = false"}},
      {"kill switch holds dry-run too",
       [&](inputs& in) {
         dry(in);
         in.cfg.enabled = false;
       },
       {verdict_kind::skipped, guard::disabled}},
      {"kill switch does not report a rule that does not match",
       [](inputs& in) {
         in.cfg.enabled = false;
         stats(in.task).pass_rate = 0.5;
       },
       {verdict_kind::none}},
      {"kill switch comes before the conflict list",
       [](inputs& in) {
         in.cfg.enabled = false;
         in.rule().max_conflicts = 0;
       },
       {verdict_kind::skipped, guard::disabled}},
      // cooldown (enforce only)
      {"within cooldown",
       [](inputs& in) {
         in.cfg.task_cooldown = 30min;
         in.ledger.last_enforce_action = t0 - 10min;
       },
       {verdict_kind::skipped, guard::cooldown,
        "last action on this task 600s ago, task_cooldown 1800s"}},
      {"cooldown over",
       [](inputs& in) {
         in.cfg.task_cooldown = 30min;
         in.ledger.last_enforce_action = t0 - 30min;
       },
       {verdict_kind::act}},
      {"cooldown disabled",
       [](inputs& in) {
         in.cfg.task_cooldown = 0ms;
         in.ledger.last_enforce_action = t0 - 1s;
       },
       {verdict_kind::act}},
      {"dry-run ignores cooldown",
       [&](inputs& in) {
         dry(in);
         in.ledger.last_enforce_action = t0 - 1s;
       },
       {verdict_kind::dry_run}},
      // rate limit (enforce only, global)
      {"rate limit reached",
       [](inputs& in) {
         in.cfg.max_actions_per_hour = 10;
         in.ledger.enforce_actions_last_hour = 10;
       },
       {verdict_kind::skipped, guard::rate_limited,
        "10 actions in the last hour, max_actions_per_hour 10"}},
      {"rate limit not reached",
       [](inputs& in) {
         in.cfg.max_actions_per_hour = 10;
         in.ledger.enforce_actions_last_hour = 9;
       },
       {verdict_kind::act}},
      {"dry-run ignores the rate limit",
       [&](inputs& in) {
         dry(in);
         in.ledger.enforce_actions_last_hour = 1000;
       },
       {verdict_kind::dry_run}},
      {"guards come before the conflict list",
       [](inputs& in) {
         in.rule().max_conflicts = 0;
         in.ledger.enforce_actions_last_hour = 10;
       },
       {verdict_kind::skipped, guard::rate_limited}},
      // unresolved ledger entries (enforce only)
      {"unresolved entry on the task",
       [](inputs& in) { in.ledger.unresolved_id = 7; },
       {verdict_kind::skipped, guard::unresolved, "ledger entry 7"}},
      {"dry-run ignores unresolved entries",
       [&](inputs& in) {
         dry(in);
         in.ledger.unresolved_id = 7;
       },
       {verdict_kind::dry_run}},
      // one decision per checking task and mode
      {"enforce already decided",
       [](inputs& in) {
         in.ledger.enforce = ledger_ref{3, "pass-high", "done"};
       },
       {verdict_kind::none, std::nullopt, "already decided: enforce ledger entry 3"}},
      {"failed entry blocks too (never retried)",
       [](inputs& in) {
         in.ledger.enforce = ledger_ref{4, "pass-high", "failed"};
       },
       {verdict_kind::none, std::nullopt, "failed"}},
      {"a dry-run decision does not block enforce",
       [](inputs& in) {
         in.ledger.dry_run = ledger_ref{5, "pass-high", "done"};
       },
       {verdict_kind::act}},
      {"dry-run already decided",
       [&](inputs& in) {
         dry(in);
         in.ledger.dry_run = ledger_ref{5, "pass-high", "done"};
       },
       {verdict_kind::none, std::nullopt, "already decided: dry-run ledger entry 5"}},
      {"already decided wins over guards",
       [](inputs& in) {
         in.cfg.enabled = false;
         in.ledger.enforce = ledger_ref{3, "pass-high", "done"};
       },
       {verdict_kind::none}},
  };
  for (const auto& c : cases) check(c);
}

// ---- several rules -----------------------------------------------------------------

TEST(decide, rule_order) {
  const auto two_rules = [](inputs& in) {
    auto second = pass_rule("second");
    second.min_pass_rate = 0.5;
    in.cfg.rules.push_back(second);
  };
  const std::vector<table_case> cases = {
      {"the first matching rule decides",
       two_rules,
       {verdict_kind::act, std::nullopt, "", "pass-high"}},
      {"a rule that does not match is passed over",
       [&](inputs& in) {
         two_rules(in);
         stats(in.task).pass_rate = 0.6;
       },
       {verdict_kind::act, std::nullopt, "", "second"}},
      {"a rule whose mode decided is passed over",
       [&](inputs& in) {
         two_rules(in);
         in.rule().mode = acceptance_mode::dry_run;
         in.ledger.dry_run = ledger_ref{1, "pass-high", "done"};
       },
       {verdict_kind::act, std::nullopt, "", "second"}},
      {"too many conflicts passes to the next rule",
       [&](inputs& in) {
         two_rules(in);
         in.rule().max_conflicts = 0;
         in.conflicts = 3;
       },
       {verdict_kind::act, std::nullopt, "", "second"}},
      {"a guard on the first rule does not fall through",
       [&](inputs& in) {
         two_rules(in);
         in.ledger.enforce_actions_last_hour = 10;
       },
       {verdict_kind::skipped, guard::rate_limited, "", "pass-high"}},
      {"no rule matches: every miss is named",
       [&](inputs& in) {
         two_rules(in);
         stats(in.task).pass_rate = 0.1;
       },
       {verdict_kind::none, std::nullopt,
        "rule \"pass-high\": pass_rate 0.1 < min_pass_rate 0.95; rule \"second\": pass_rate 0.1 < "
        "min_pass_rate 0.5"}},
  };
  for (const auto& c : cases) check(c);
}

TEST(decide, decision_carries_the_rule_action_and_conditions) {
  inputs in;
  in.rule().action = acceptance_action::pass_single;
  in.rule().overwrite_last_result = true;
  in.rule().max_conflicts = 0;
  in.conflicts = 0;
  const auto v = decide(key, in.task, in.cfg, in.ledger, in.conflicts, in.now);
  ASSERT_EQ(v.kind, verdict_kind::act);
  EXPECT_EQ(v.chosen->action, acceptance_action::pass_single);
  EXPECT_EQ(action_code(v.chosen->action), 5);
  EXPECT_TRUE(v.chosen->overwrite_last_result);
  std::vector<std::string> names;
  for (const auto& c : v.chosen->conditions) {
    names.push_back(c.condition);
    EXPECT_TRUE(c.held) << c.condition;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dataset", "when_status", "min_pass_rate",
                                             "min_checked_samples", "require_sampling_complete",
                                             "max_conflicts"}));
  EXPECT_EQ(v.figures.checking_task_id, "chk1");
  EXPECT_EQ(v.figures.task_name, "team-one");
  EXPECT_EQ(v.figures.dataset_id, "ds1");
}

TEST(decide, explanation_names_the_numbers) {
  inputs in;
  const auto v = decide(key, in.task, in.cfg, in.ledger, in.conflicts, in.now);
  const auto o = explain(v);
  EXPECT_EQ(o.at("rule").as_string(), "pass-high");
  EXPECT_EQ(o.at("mode").as_string(), "enforce");
  EXPECT_EQ(o.at("action").as_string(), "pass_all");
  EXPECT_EQ(o.at("action_code").as_int64(), 0);
  EXPECT_EQ(o.at("checking_task_id").as_string(), "chk1");
  EXPECT_EQ(o.at("status").as_string(), "accepting");
  EXPECT_DOUBLE_EQ(o.at("pass_rate").as_double(), 0.98);
  EXPECT_EQ(o.at("checked_samples").as_int64(), 60);
  EXPECT_EQ(o.at("sampling_num").as_int64(), 60);
  EXPECT_TRUE(o.at("conflicts").is_null());
  const auto& conds = o.at("conditions").as_array();
  ASSERT_EQ(conds.size(), 5u);
  const auto& rate = conds[2].as_object();
  EXPECT_EQ(rate.at("condition").as_string(), "min_pass_rate");
  EXPECT_DOUBLE_EQ(rate.at("value").as_double(), 0.98);
  EXPECT_DOUBLE_EQ(rate.at("bound").as_double(), 0.95);
  EXPECT_TRUE(rate.at("held").as_bool());
  EXPECT_EQ(describe(v),
            "rule \"pass-high\" (enforce, pass_all): checking task chk1, dataset ds1, status "
            "accepting, pass_rate 0.98 >= 0.95, checked 60 >= 50, sampling complete 60/60");

  in.cfg.enabled = false;
  const auto skipped = explain(decide(key, in.task, in.cfg, in.ledger, in.conflicts, in.now));
  EXPECT_EQ(skipped.at("guard").as_string(), "disabled");
  EXPECT_EQ(skipped.at("reason").as_string(), "[acceptance] enabled = false");

  stats(in.task).pass_rate = 0.5;
  const auto none = decide(key, in.task, in.cfg, in.ledger, in.conflicts, in.now);
  const auto no = explain(none);
  EXPECT_FALSE(no.contains("rule"));
  EXPECT_EQ(no.at("misses").as_array().size(), 1u);
  EXPECT_EQ(describe(none),
            "no rule applies: rule \"pass-high\": pass_rate 0.5 < min_pass_rate 0.95");
  // Always valid JSON text (it is stored in the ledger).
  EXPECT_FALSE(json_text(no).empty());
}

TEST(decide, empty_ledger_facts_never_make_a_decision_less_likely) {
  // The executor skips the ledger for tasks that get "none" with empty facts; that is
  // sound only if real facts can never turn "none" into something else.
  std::vector<ledger_facts> facts(5);
  facts[1].enforce = ledger_ref{1, "pass-high", "done"};
  facts[2].unresolved_id = 2;
  facts[3].enforce_actions_last_hour = 100;
  facts[4].last_enforce_action = t0;
  for (double rate : {0.1, 0.95, 0.98}) {
    for (std::int64_t status : {1, 2, 5}) {
      inputs in;
      stats(in.task).pass_rate = rate;
      in.task.status_code = status;
      const auto empty = decide(key, in.task, in.cfg, ledger_facts{}, std::nullopt, t0);
      for (const auto& f : facts) {
        const auto real = decide(key, in.task, in.cfg, f, std::nullopt, t0);
        if (empty.kind == verdict_kind::none) {
          EXPECT_EQ(real.kind, verdict_kind::none);
        }
      }
    }
  }
}

// ---- open ledger entries -----------------------------------------------------------

TEST(judge_open_entry, table) {
  struct row {
    std::string name;
    std::int64_t status;
    std::optional<std::string> checking;  // nullopt: no checking_task_desc
    resolution want;
    std::string reason_contains;
  };
  const std::vector<row> rows = {
      {"syncing", 5, "chk1", resolution::took_effect, "status syncing"},
      {"accepted", 3, "chk1", resolution::took_effect, "status accepted"},
      {"rejected", 4, "chk1", resolution::took_effect, "status rejected"},
      {"a new checking task", 2, "chk2", resolution::took_effect, "checking task is \"chk2\""},
      {"checking task gone (cancelled)", 1, std::nullopt, resolution::took_effect, "gone"},
      {"same checking task still accepting", 2, "chk1", resolution::not_applied, "still shows"},
      {"same checking task, sampling", 7, "chk1", resolution::undetermined, "sampling"},
      {"same checking task, running", 1, "chk1", resolution::undetermined, "running"},
      {"same checking task, unknown status", 42, "chk1", resolution::undetermined, "unknown"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto t = accepting_task();
    t.status_code = r.status;
    if (r.checking)
      t.checking->checking_task_id = *r.checking;
    else
      t.checking.reset();
    const auto j = judge_open_entry("chk1", t);
    EXPECT_EQ(to_string(j.outcome), to_string(r.want));
    EXPECT_NE(j.reason.find(r.reason_contains), std::string::npos) << j.reason;
  }
}
