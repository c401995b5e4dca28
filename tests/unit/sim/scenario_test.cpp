#include "sim/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sim = labelwatch::sim;
namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace {

constexpr std::string_view k_good = R"({
  // comments and trailing commas are allowed
  "name": "unit",
  "project_id": "p1",
  "speed": 2.5,
  "pagination": "record",
  "not_found_status": 404,
  "acceptance_sync": "3s",
  "datasets": [ {
    "dataset_id": "ds1", "dataset_name": "flowers", "dataset_type": 1, "created": "-2d",
    "auto_tasks": [ {
      "task_id": "a1", "task_name": "auto one", "created": "-1h", "visible_from": "10s", "gone_at": "5m",
      "timeline": [
        { "at": "0s", "status": -1 },
        { "at": "30s", "status": 1, "message": "running", "extra": { "vendor_field": 7 } },
        { "at": "90s", "ramp": true, "progress": 100.0 },
      ]
    } ],
    "workforce_tasks": [ {
      "task_id": "w1", "acceptance_sync": "1s", "conflict_samples": ["s1"],
      "timeline": [ { "at": "0s", "status": 2, "sample_stats": { "uncheck_sample_count": 5 } } ]
    } ],
    "samples": [ { "sample_id": "s1", "labels": [] } ],
    "generate_samples": { "count": 10, "seed": 3, "hard": 4,
                          "statuses": { "UN_ANNOTATION": 6, "__AUTO_ANNOTATION__": 4 } }
  } ],
  "faults": [ { "kind": "throttle", "endpoint": "auto_task", "count": 2, "code": "APIG.0308",
                "retry_after_format": "http_date" } ]
})";

sim::scenario_error parse_error(std::string_view text) {
  auto r = sim::parse_scenario(text, "t.json");
  EXPECT_FALSE(r.has_value()) << "expected an error for " << text;
  return r.has_value() ? sim::scenario_error{} : r.error();
}

// The smallest valid scenario with `task` as the only auto task of dataset "d".
std::string with_auto_task(std::string_view task) {
  return R"({"datasets":[{"dataset_id":"d","auto_tasks":[)" + std::string(task) + "]}]}";
}

}  // namespace

TEST(scenario, reads_a_complete_file) {
  auto r = sim::parse_scenario(k_good, "good.json");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const auto& s = *r;
  EXPECT_EQ(s.name, "unit");
  EXPECT_EQ(s.project_id, "p1");
  EXPECT_DOUBLE_EQ(s.speed, 2.5);
  EXPECT_EQ(s.pagination, sim::pagination_mode::record);
  EXPECT_EQ(s.not_found_status, 404);
  EXPECT_EQ(s.acceptance_sync, 3s);
  ASSERT_EQ(s.datasets.size(), 1u);
  EXPECT_EQ(s.datasets[0].dataset_type, 1);
  EXPECT_EQ(s.datasets[0].created, -48h);
  ASSERT_EQ(s.tasks.size(), 2u);
  const auto& a = s.tasks[0];
  EXPECT_EQ(a.kind, labelwatch::task_kind::auto_labeling);
  EXPECT_EQ(a.dataset_id, "ds1");
  EXPECT_EQ(a.created, -1h);
  EXPECT_EQ(a.visible_from, 10s);
  EXPECT_EQ(a.gone_at, 5min);
  ASSERT_EQ(a.timeline.size(), 3u);
  EXPECT_EQ(a.timeline[1].at, 30s);
  EXPECT_EQ(a.timeline[1].patch.at("vendor_field").as_int64(), 7);  // "extra" merged in
  EXPECT_TRUE(a.timeline[2].ramp);
  // Defaults for an auto task's base document.
  EXPECT_EQ(a.document.at("task_id").as_string(), "a1");
  EXPECT_EQ(a.document.at("task_name").as_string(), "auto one");
  EXPECT_TRUE(a.document.contains("config"));
  const auto& w = s.tasks[1];
  EXPECT_EQ(w.kind, labelwatch::task_kind::workforce);
  EXPECT_EQ(w.task_name, "w1");
  EXPECT_EQ(w.acceptance_sync, 1s);
  EXPECT_EQ(w.conflict_samples, std::vector<std::string>{"s1"});
  EXPECT_EQ(w.document.at("dataset_id").as_string(), "ds1");
  ASSERT_TRUE(s.datasets[0].generator.has_value());
  EXPECT_EQ(s.datasets[0].generator->hard, 4u);
  ASSERT_EQ(s.faults.size(), 1u);
  EXPECT_EQ(s.faults[0].kind, sim::fault_kind::throttle);
  EXPECT_EQ(s.faults[0].target, sim::endpoint::auto_task);
  EXPECT_EQ(s.faults[0].count, 2u);
  EXPECT_EQ(s.faults[0].retry_after_format, "http_date");
}

TEST(scenario, syntax_errors_name_file_line_and_column) {
  const auto e = parse_error("{\n  \"name\": \"x\",\n  \"speed\": ,\n}");
  EXPECT_THAT(e.message, HasSubstr("t.json:3:"));
  EXPECT_THAT(e.message, HasSubstr("invalid JSON"));
}

TEST(scenario, every_content_error_names_its_json_path) {
  struct expectation {
    std::string text;
    std::string path;
    std::string says;
  };
  const std::vector<expectation> cases = {
      {R"([])", "", "expected an object"},
      {R"({"speeed": 1})", "speeed", "unknown key"},
      {R"({"speed": 0})", "speed", "must be > 0"},
      {R"({"datasets": [{"dataset_id": "d", "document": {"x": [1, 1e999]}}]})",
       "datasets[0].document.x[1]", "number out of range"},
      {R"({"pagination": "pages"})", "pagination", "\"page\" or \"record\""},
      {R"({"not_found_status": 410})", "not_found_status", "400 or 404"},
      {R"({"acceptance_sync": 5})", "acceptance_sync", "expected a duration"},
      {R"({"datasets": {}})", "datasets", "expected an array"},
      {R"({"datasets": [{}]})", "datasets[0].dataset_id", "missing"},
      {R"({"datasets": [{"dataset_id": "a/b"}]})", "datasets[0].dataset_id", "'/'"},
      {R"({"datasets": [{"dataset_id": "a b"}]})", "datasets[0].dataset_id", "spaces"},
      {R"({"datasets": [{"dataset_id": "d", "da\nta": 1}]})", R"(datasets[0]["da\nta"])",
       "unknown key"},
      {R"({"datasets": [{"dataset_id": "d"}, {"dataset_id": "d"}]})", "datasets[1].dataset_id",
       "duplicate dataset id"},
      {R"({"datasets": [{"dataset_id": "d", "auto_tasks": [{"task_id": "t"}],
                         "workforce_tasks": [{"task_id": "t"}]}]})",
       "datasets[0].workforce_tasks[0].task_id", "duplicate task id"},
      {with_auto_task(R"({"task_name": "x"})"), "datasets[0].auto_tasks[0].task_id", "missing"},
      {with_auto_task(R"({"task_id": "t", "acceptance_sync": "1s"})"),
       "datasets[0].auto_tasks[0].acceptance_sync", "unknown key"},
      {with_auto_task(R"({"task_id": "t", "created": "yesterday"})"),
       "datasets[0].auto_tasks[0].created", "\"-2h\""},
      {with_auto_task(R"({"task_id": "t", "visible_from": "1m", "gone_at": "30s"})"),
       "datasets[0].auto_tasks[0].gone_at", "after visible_from"},
      {with_auto_task(R"({"task_id": "t", "verbatim": true})"),
       "datasets[0].auto_tasks[0].document", "missing"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"status": 1}]})"),
       "datasets[0].auto_tasks[0].timeline[0].at", "missing"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": 12}]})"),
       "datasets[0].auto_tasks[0].timeline[0].at", "expected a duration like \"30s\", got 12"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": "1m"}, {"at": "30s"}]})"),
       "datasets[0].auto_tasks[0].timeline[1].at", "time order"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": "0s", "ramp": true}]})"),
       "datasets[0].auto_tasks[0].timeline[0].ramp", "nothing to ramp"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": "0s", "progres": 1}]})"),
       "datasets[0].auto_tasks[0].timeline[0].progres", "unknown key"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": "0s", "status": "running"}]})"),
       "datasets[0].auto_tasks[0].timeline[0].status", "expected an integer"},
      {with_auto_task(R"({"task_id": "t", "timeline": [{"at": "0s", "result": []}]})"),
       "datasets[0].auto_tasks[0].timeline[0].result", "expected an object"},
      {R"({"datasets": [{"dataset_id": "d", "workforce_tasks": [{"task_id": "w",
            "timeline": [{"at": "0s", "worker_stats": {}}]}]}]})",
       "datasets[0].workforce_tasks[0].timeline[0].worker_stats", "expected an array"},
      {R"({"datasets": [{"dataset_id": "d", "samples": [{"labels": []}]}]})",
       "datasets[0].samples[0].sample_id", "missing"},
      {R"({"datasets": [{"dataset_id": "d", "samples": [{"sample_id": "s"}, {"sample_id": "s"}]}]})",
       "datasets[0].samples[1].sample_id", "duplicate sample id"},
      {R"({"datasets": [{"dataset_id": "d", "generate_samples": {"count": 5, "hard": 6}}]})",
       "datasets[0].generate_samples.hard", "from 0 to 5"},
      {R"({"datasets": [{"dataset_id": "d", "generate_samples": {"count": 5,
            "statuses": {"A": 2, "B": 2}}}]})",
       "datasets[0].generate_samples.statuses", "add up to 4"},
      {R"({"datasets": [{"dataset_id": "d", "generate_samples": {"count": 5, "score_min": 0.9,
            "score_max": 0.1}}]})",
       "datasets[0].generate_samples", "score_min <= score_max"},
      {R"({"faults": [{"endpoint": "any"}]})", "faults[0].kind", "missing"},
      {R"({"faults": [{"kind": "boom"}]})", "faults[0].kind", "unknown fault kind \"boom\""},
      {R"({"faults": [{"kind": "error", "endpoint": "tasks"}]})", "faults[0].endpoint",
       "unknown endpoint"},
      {R"({"faults": [{"kind": "delay"}]})", "faults[0].delay", "needs \"delay\""},
      {R"({"faults": [{"kind": "error", "count": 0}]})", "faults[0].count", "at least 1"},
      {R"({"faults": [{"kind": "error", "status": 42}]})", "faults[0].status", "HTTP status"},
      {R"({"faults": [{"kind": "error", "for": "10s"}]})", "faults[0].for", "runtime"},
      {R"({"faults": [{"kind": "error", "from": "20s", "until": "10s"}]})", "faults[0].until",
       "after from"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto e = parse_error(c.text);
    EXPECT_EQ(e.path, c.path);
    EXPECT_THAT(e.message, HasSubstr(c.says));
    EXPECT_THAT(e.to_string(), HasSubstr(c.path));
  }
}

TEST(scenario, builtins_load) {
  for (const auto* name : {"seeds", "demo", "scale?auto=20&workforce=10&datasets=3&seed=9"}) {
    SCOPED_TRACE(name);
    auto r = sim::builtin_scenario(name);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_FALSE(r->datasets.empty());
    EXPECT_FALSE(r->tasks.empty());
  }
  const auto unknown = sim::builtin_scenario("nope");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message, HasSubstr("builtin:demo"));
  const auto bad = sim::builtin_scenario("scale?tasks=3");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("unknown parameter \"tasks\""));
}

TEST(scenario, seeds_builtin_holds_the_seed_ids) {
  const auto s = sim::builtin_scenario("seeds").value();
  ASSERT_EQ(s.datasets.size(), 1u);
  EXPECT_EQ(s.datasets[0].dataset_id, "WxCREuCkBSAlQr9xrde");
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.tasks[0].task_id, "XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(s.tasks[1].task_id, "iYZx7gScPUozOXner9k");
  EXPECT_EQ(s.datasets[0].samples[0].at("sample_id").as_string(),
            "0059c1b9458a2da9443af684b5099b4e");
}

TEST(scenario, scale_generator_is_deterministic_and_sized) {
  const auto a = sim::generate_scale_scenario(10000, 10000, 50, 7);
  const auto b = sim::generate_scale_scenario(10000, 10000, 50, 7);
  EXPECT_EQ(a.tasks.size(), 20000u);
  EXPECT_EQ(a.datasets.size(), 50u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a.tasks.size(); ++i) {
    EXPECT_EQ(a.tasks[i].task_id, b.tasks[i].task_id);
    ids.insert(a.tasks[i].task_id);
  }
  EXPECT_EQ(ids.size(), 20000u) << "task ids must be unique";
  EXPECT_NE(sim::generate_scale_scenario(10, 0, 1, 8).tasks[0].task_id, a.tasks[0].task_id);
}

TEST(scenario, generated_samples_have_exact_counts_and_seed_shape) {
  sim::sample_generator g;
  g.count = 200;
  g.seed = 42;
  g.hard = 37;
  g.statuses = {{"UN_ANNOTATION", 150}, {"__AUTO_ANNOTATION__", 50}};
  g.labels = {"Bees", "Rabbits"};
  g.reasons = {1, 2, 19};
  const auto samples = sim::generate_samples(g);
  ASSERT_EQ(samples.size(), 200u);
  const auto summary = sim::summarize_samples(samples);
  EXPECT_EQ(summary.hard, 37u);
  EXPECT_EQ(summary.statuses.at("UN_ANNOTATION"), 150u);
  EXPECT_EQ(summary.statuses.at("__AUTO_ANNOTATION__"), 50u);
  std::size_t bucketed = 0;
  for (const auto n : summary.score_buckets) bucketed += n;
  EXPECT_EQ(bucketed, 200u);
  std::size_t reasons = 0;
  for (const auto& [r, n] : summary.reasons) {
    EXPECT_TRUE(r == 1 || r == 2 || r == 19);
    reasons += n;
  }
  EXPECT_GE(reasons, 37u);  // every hard sample lists one or two reasons
  // Same seed, same documents; the quirks of seed 002 in every document.
  EXPECT_EQ(samples, sim::generate_samples(g));
  for (const auto& s : samples) {
    const auto& md = s.at("metadata").as_object();
    const auto& prop = s.at("labels").as_array()[0].as_object().at("property").as_object();
    const bool hard = md.at("@modelarts:hard").as_bool();  // a boolean in metadata
    EXPECT_EQ(prop.at("@modelarts:hard").as_string(), hard ? "true" : "false");  // a string here
    EXPECT_TRUE(prop.at("@modelarts:hard_coefficient").is_string());
    EXPECT_TRUE(md.at("@modelarts:hard_coefficient").is_double());
    EXPECT_TRUE(md.at("@modelarts:hard_reasons").is_array());
    EXPECT_EQ(md.at("@modelarts:hard_reasons").as_array().empty(), !hard);
    EXPECT_EQ(s.at("sample_id").as_string().size(), 32u);
  }
}

TEST(scenario, dump_reads_back_to_the_same_scenario) {
  for (const auto* name : {"seeds", "demo"}) {
    SCOPED_TRACE(name);
    const auto s = sim::builtin_scenario(name).value();
    const auto text = json::serialize(sim::scenario_to_json(s));
    auto again = sim::parse_scenario(text, "dump");
    ASSERT_TRUE(again.has_value()) << again.error().to_string();
    EXPECT_EQ(json::serialize(sim::scenario_to_json(*again)), text);
  }
}

TEST(scenario, signed_durations) {
  EXPECT_EQ(sim::parse_signed_duration("-2h"), -2h);
  EXPECT_EQ(sim::parse_signed_duration("90s"), 90s);
  EXPECT_FALSE(sim::parse_signed_duration("--1s").has_value());
  EXPECT_FALSE(sim::parse_signed_duration("-").has_value());
}
