#include "sim/world.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace sim = labelwatch::sim;
namespace json = boost::json;
using namespace std::chrono_literals;
using labelwatch::sys_time;
using labelwatch::task_kind;

namespace {

const sys_time t0 = labelwatch::from_unix_ms(1'700'000'000'000);

constexpr std::string_view k_world = R"({
  "project_id": "p",
  "acceptance_sync": "10s",
  "datasets": [ {
    "dataset_id": "ds",
    "auto_tasks": [
      { "task_id": "a", "created": "-1h",
        "document": { "result": { "total_sample_count": 100, "annotated_sample_count": 0 } },
        "timeline": [
          { "at": "0s", "status": -1, "progress": 0.0 },
          { "at": "10s", "status": 1 },
          { "at": "110s", "ramp": true, "progress": 100.0, "result": { "annotated_sample_count": 100 } },
          { "at": "120s", "status": 3 } ] },
      { "task_id": "late", "visible_from": "1m", "gone_at": "2m" } ],
    "workforce_tasks": [
      { "task_id": "w", "conflict_samples": ["s1", "missing"],
        "timeline": [ { "at": "0s", "status": 2,
          "sample_stats": { "total_sample_count": 100, "accepted_sample_count": 10,
                            "rejected_sample_count": 0, "uncheck_sample_count": 60, "sampled_sample_count": 6 },
          "checking_task_desc": { "checking_task_id": "c1", "action": 0,
            "checking_stats": { "accepted_sample_count": 5, "rejected_sample_count": 1 } } } ] },
      { "task_id": "w_running", "timeline": [ { "at": "0s", "status": 1 } ] } ],
    "samples": [ { "sample_id": "s1", "labels": [ { "score": 0.5 } ] } ]
  } ]
})";

sim::world make_world(std::string_view text = k_world) {
  return sim::world(sim::parse_scenario(text, "w").value(), t0, 99);
}

std::int64_t status_of(const sim::world& w, std::string_view id, sys_time now) {
  return w.render(*w.find_task(id), now).at("status").as_int64();
}

json::object stats_of(const sim::world& w, std::string_view id, sys_time now) {
  return w.render(*w.find_task(id), now).at("sample_stats").as_object();
}

}  // namespace

TEST(world, timeline_steps_at_keyframes) {
  const auto w = make_world();
  EXPECT_EQ(status_of(w, "a", t0), -1);
  EXPECT_EQ(status_of(w, "a", t0 + 9999ms), -1);
  EXPECT_EQ(status_of(w, "a", t0 + 10s), 1);
  EXPECT_EQ(status_of(w, "a", t0 + 119s), 1);
  EXPECT_EQ(status_of(w, "a", t0 + 120s), 3);
  EXPECT_EQ(status_of(w, "a", t0 + 24h), 3);
}

TEST(world, numbers_ramp_between_keyframes) {
  const auto w = make_world();
  const auto a = *w.find_task("a");
  auto at = [&](sys_time t) { return w.render(a, t); };
  EXPECT_DOUBLE_EQ(at(t0 + 10s).at("progress").as_double(), 0.0);
  EXPECT_DOUBLE_EQ(at(t0 + 35s).at("progress").as_double(), 25.0);
  EXPECT_DOUBLE_EQ(at(t0 + 60s).at("progress").as_double(), 50.0);
  EXPECT_EQ(at(t0 + 60s).at("result").as_object().at("annotated_sample_count").as_int64(), 50);
  EXPECT_EQ(at(t0 + 60s).at("result").as_object().at("total_sample_count").as_int64(), 100);
  EXPECT_DOUBLE_EQ(at(t0 + 110s).at("progress").as_double(), 100.0);
}

TEST(world, speed_scales_scenario_time) {
  auto s = sim::parse_scenario(k_world, "w").value();
  s.speed = 10.0;
  const sim::world w(std::move(s), t0, 1);
  EXPECT_EQ(w.scenario_time(t0 + 12s), 120s);
  EXPECT_EQ(status_of(w, "a", t0 + 12s), 3);
}

TEST(world, create_time_and_update_time_are_filled_in) {
  const auto w = make_world();
  EXPECT_EQ(w.render(*w.find_task("a"), t0).at("create_time").as_string(), "2023-11-14 21:13:20");
  const auto doc = w.render(*w.find_task("w_running"), t0 + 5s);
  EXPECT_EQ(doc.at("create_time").as_int64(), labelwatch::to_unix_ms(t0));
  EXPECT_EQ(doc.at("update_time").as_int64(), labelwatch::to_unix_ms(t0));
}

TEST(world, visibility_window) {
  const auto w = make_world();
  const auto ds = *w.find_dataset("ds");
  EXPECT_FALSE(w.visible_task(task_kind::auto_labeling, "ds", "late", t0 + 59s));
  EXPECT_TRUE(w.visible_task(task_kind::auto_labeling, "ds", "late", t0 + 60s));
  EXPECT_FALSE(w.visible_task(task_kind::auto_labeling, "ds", "late", t0 + 120s));
  EXPECT_EQ(w.visible_tasks(task_kind::auto_labeling, ds, t0).size(), 1u);
  EXPECT_EQ(w.visible_tasks(task_kind::auto_labeling, ds, t0 + 90s).size(), 2u);
  // Wrong kind or wrong dataset: not visible under that route.
  EXPECT_FALSE(w.visible_task(task_kind::workforce, "ds", "a", t0));
  EXPECT_FALSE(w.visible_task(task_kind::auto_labeling, "other", "a", t0));
}

TEST(world, dataset_document_counts_tasks) {
  const auto w = make_world();
  const auto d = w.dataset_document(*w.find_dataset("ds"), t0 + 20s);
  EXPECT_EQ(d.at("workforce_task_count").as_uint64(), 2u);
  EXPECT_TRUE(d.at("exist_running_task").as_bool());
  EXPECT_EQ(d.at("running_tasks_id").as_array().size(), 1u);
  const auto later = w.dataset_document(*w.find_dataset("ds"), t0 + 200s);
  EXPECT_FALSE(later.at("exist_running_task").as_bool());
}

TEST(world, acceptance_pass_all_syncs_then_accepts) {
  auto w = make_world();
  const auto idx = *w.find_task("w");
  const auto r = w.apply_acceptance(idx, 0, true, t0 + 5s);
  ASSERT_FALSE(r.failure);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(status_of(w, "w", t0 + 5s), 5);
  const auto desc = w.render(idx, t0 + 5s).at("checking_task_desc").as_object();
  EXPECT_EQ(desc.at("action").as_int64(), 0);
  EXPECT_TRUE(desc.at("overwrite_last_result").as_bool());
  EXPECT_EQ(desc.at("checking_task_id").as_string(), "c1");
  EXPECT_EQ(status_of(w, "w", t0 + 14999ms), 5);
  EXPECT_EQ(status_of(w, "w", t0 + 15s), 3);
  const auto s = stats_of(w, "w", t0 + 15s);
  EXPECT_EQ(s.at("accepted_sample_count").as_int64(), 70);
  EXPECT_EQ(s.at("uncheck_sample_count").as_int64(), 0);
  EXPECT_EQ(s.at("sampled_sample_count").as_int64(), 0);
  // update_time follows the change.
  EXPECT_EQ(w.render(idx, t0 + 15s).at("update_time").as_int64(), labelwatch::to_unix_ms(t0 + 15s));
}

TEST(world, acceptance_reject_all_ends_rejected) {
  auto w = make_world();
  const auto idx = *w.find_task("w");
  ASSERT_FALSE(w.apply_acceptance(idx, 1, false, t0).failure);
  EXPECT_EQ(status_of(w, "w", t0 + 1s), 5);
  EXPECT_EQ(status_of(w, "w", t0 + 10s), 4);
  EXPECT_EQ(stats_of(w, "w", t0 + 10s).at("rejected_sample_count").as_int64(), 60);
}

TEST(world, acceptance_partial_actions) {
  {
    auto w = make_world();
    ASSERT_FALSE(w.apply_acceptance(*w.find_task("w"), 4, false, t0).failure);
    const auto s = stats_of(w, "w", t0 + 10s);
    EXPECT_EQ(status_of(w, "w", t0 + 10s), 3);
    EXPECT_EQ(s.at("rejected_sample_count").as_int64(), 1);   // the single-rejected one
    EXPECT_EQ(s.at("accepted_sample_count").as_int64(), 69);  // 10 + 59
  }
  {
    auto w = make_world();
    ASSERT_FALSE(w.apply_acceptance(*w.find_task("w"), 5, false, t0).failure);
    const auto s = stats_of(w, "w", t0 + 10s);
    EXPECT_EQ(status_of(w, "w", t0 + 10s), 3);
    EXPECT_EQ(s.at("accepted_sample_count").as_int64(), 15);  // 10 + 5 single-accepted
    EXPECT_EQ(s.at("rejected_sample_count").as_int64(), 55);
  }
}

TEST(world, acceptance_cancel_goes_back_to_running) {
  auto w = make_world();
  const auto idx = *w.find_task("w");
  ASSERT_FALSE(w.apply_acceptance(idx, 2, false, t0 + 1s).failure);
  const auto doc = w.render(idx, t0 + 1s);
  EXPECT_EQ(doc.at("status").as_int64(), 1);
  EXPECT_FALSE(doc.contains("checking_task_desc"));
}

TEST(world, acceptance_conflict_list_changes_nothing) {
  auto w = make_world();
  const auto idx = *w.find_task("w");
  const auto r = w.apply_acceptance(idx, 3, false, t0);
  ASSERT_FALSE(r.failure);
  EXPECT_EQ(r.body.at("sample_count").as_uint64(), 1u);  // unknown ids are left out
  EXPECT_EQ(r.body.at("samples").as_array()[0].as_object().at("sample_id").as_string(), "s1");
  EXPECT_EQ(status_of(w, "w", t0 + 1h), 2);
}

TEST(world, acceptance_refused_outside_acceptance) {
  auto w = make_world();
  const auto running = w.apply_acceptance(*w.find_task("w_running"), 0, false, t0);
  ASSERT_TRUE(running.failure);
  EXPECT_EQ(running.failure->error_code, "ModelArts.4624");
  EXPECT_EQ(running.failure->http_status, 400);
  // While syncing a second decision is refused as "checking".
  const auto idx = *w.find_task("w");
  ASSERT_FALSE(w.apply_acceptance(idx, 0, false, t0).failure);
  const auto again = w.apply_acceptance(idx, 0, false, t0 + 1s);
  ASSERT_TRUE(again.failure);
  EXPECT_EQ(again.failure->error_code, "ModelArts.4623");
  // Accepted: not in acceptance any more.
  const auto after = w.apply_acceptance(idx, 1, false, t0 + 1h);
  ASSERT_TRUE(after.failure);
  EXPECT_EQ(after.failure->error_code, "ModelArts.4624");
}

TEST(world, runtime_patch_wins_over_timeline_for_its_members) {
  auto w = make_world();
  const auto a = *w.find_task("a");
  w.patch_task(a, json::parse(R"({"status": 2, "error_msg": "boom"})").as_object(), false,
               t0 + 20s);
  EXPECT_EQ(status_of(w, "a", t0 + 19s), 1);  // not before the patch
  EXPECT_EQ(status_of(w, "a", t0 + 20s), 2);
  EXPECT_EQ(status_of(w, "a", t0 + 200s), 2);  // the timeline's 3 does not override it
  // ... while the timeline keeps driving what the patch did not set.
  EXPECT_DOUBLE_EQ(w.render(a, t0 + 60s).at("progress").as_double(), 50.0);
}

TEST(world, frozen_patch_stops_the_timeline) {
  auto w = make_world();
  const auto a = *w.find_task("a");
  w.patch_task(a, json::parse(R"({"message": "frozen"})").as_object(), true, t0 + 60s);
  const auto doc = w.render(a, t0 + 300s);
  EXPECT_DOUBLE_EQ(doc.at("progress").as_double(), 50.0);
  EXPECT_EQ(doc.at("status").as_int64(), 1);
  EXPECT_EQ(doc.at("message").as_string(), "frozen");
}

TEST(world, deleted_task_is_gone) {
  auto w = make_world();
  const auto a = *w.find_task("a");
  w.delete_task(a, t0 + 30s);
  EXPECT_TRUE(w.visible_task(task_kind::auto_labeling, "ds", "a", t0 + 29s));
  EXPECT_FALSE(w.visible_task(task_kind::auto_labeling, "ds", "a", t0 + 30s));
  EXPECT_TRUE(w.visible_tasks(task_kind::auto_labeling, *w.find_dataset("ds"), t0 + 31s).empty());
}

TEST(world, created_task_times_are_relative_to_creation) {
  auto w = make_world();
  auto spec = sim::read_task(json::parse(R"({"task_id": "placeholder", "timeline": [
      {"at": "0s", "status": -1}, {"at": "10s", "status": 1}]})"),
                             task_kind::auto_labeling, "ds", "")
                  .value();
  spec.task_id.clear();
  const auto created = w.create_task(std::move(spec), t0 + 100s);
  ASSERT_TRUE(std::holds_alternative<std::string>(created));
  const auto id = std::get<std::string>(created);
  EXPECT_EQ(id.size(), 19u);
  EXPECT_FALSE(w.visible_task(task_kind::auto_labeling, "ds", id, t0 + 99s));
  EXPECT_EQ(status_of(w, id, t0 + 100s), -1);
  EXPECT_EQ(status_of(w, id, t0 + 110s), 1);
  EXPECT_EQ(w.render(*w.find_task(id), t0 + 110s).at("task_id").as_string(), id);

  auto dup = sim::read_task(json::parse(R"({"task_id": "a"})"), task_kind::auto_labeling, "ds", "")
                 .value();
  const auto taken = w.create_task(std::move(dup), t0);
  ASSERT_TRUE(std::holds_alternative<sim::api_failure>(taken));
  auto orphan =
      sim::read_task(json::parse(R"({"task_id": "z"})"), task_kind::auto_labeling, "nope", "")
          .value();
  EXPECT_EQ(std::get<sim::api_failure>(w.create_task(std::move(orphan), t0)).error_code,
            "ModelArts.4352");
}

TEST(world, pagination_in_both_modes) {
  using sim::pagination_mode;
  auto b = sim::paginate(25, 0, 10, pagination_mode::page);
  EXPECT_EQ(b.first, 0u);
  EXPECT_EQ(b.last, 10u);
  b = sim::paginate(25, 2, 10, pagination_mode::page);
  EXPECT_EQ(b.first, 20u);
  EXPECT_EQ(b.last, 25u);
  b = sim::paginate(25, 3, 10, pagination_mode::page);
  EXPECT_EQ(b.first, b.last);  // past the end: empty, never out of range
  b = sim::paginate(25, 2, 10, pagination_mode::record);
  EXPECT_EQ(b.first, 2u);
  EXPECT_EQ(b.last, 12u);
  b = sim::paginate(25, 24, 10, pagination_mode::record);
  EXPECT_EQ(b.last - b.first, 1u);
  b = sim::paginate(25, 1000000000, 1000, pagination_mode::page);
  EXPECT_EQ(b.first, 25u);
  EXPECT_EQ(b.last, 25u);
}

TEST(world, fault_selection_by_endpoint_task_method_count_and_window) {
  auto w = make_world();
  auto fault = [](std::string_view text) { return sim::read_fault(json::parse(text), "").value(); };
  const sim::world::request_facts get_a{sim::endpoint::auto_task, "GET", "ds", "a"};
  const sim::world::request_facts get_w{sim::endpoint::workforce_task, "GET", "ds", "w"};
  const sim::world::request_facts iam{sim::endpoint::iam, "POST", "", ""};

  const auto id = w.arm_fault(
      fault(R"({"kind": "error", "endpoint": "auto_task", "task_id": "a", "count": 2})"), t0);
  EXPECT_EQ(id, "f1");
  EXPECT_FALSE(w.take_fault(get_w, t0));
  EXPECT_TRUE(w.take_fault(get_a, t0));
  EXPECT_TRUE(w.take_fault(get_a, t0));
  EXPECT_FALSE(w.take_fault(get_a, t0)) << "a count of 2 answers twice";

  w.arm_fault(fault(R"({"id": "g", "kind": "hang", "method": "PUT"})"), t0);
  EXPECT_FALSE(w.take_fault(get_a, t0));
  EXPECT_TRUE(w.take_fault({sim::endpoint::acceptance, "PUT", "ds", "w"}, t0));
  EXPECT_TRUE(w.clear_fault("g"));
  EXPECT_FALSE(w.clear_fault("g"));

  w.arm_fault(fault(R"({"kind": "throttle"})"), t0);  // any: every ModelArts endpoint, not IAM
  EXPECT_TRUE(w.take_fault(get_w, t0));
  EXPECT_FALSE(w.take_fault(iam, t0));
  w.clear_faults();
  EXPECT_FALSE(w.take_fault(get_w, t0));

  w.arm_fault(fault(R"({"kind": "error", "for": "10s"})"), t0 + 100s);
  EXPECT_TRUE(w.take_fault(get_w, t0 + 105s));
  EXPECT_FALSE(w.take_fault(get_w, t0 + 110s));
  w.arm_fault(fault(R"({"kind": "error", "from": "1h", "until": "2h"})"), t0);
  EXPECT_FALSE(w.take_fault(get_w, t0 + 59min));
  EXPECT_TRUE(w.take_fault(get_w, t0 + 90min));
  EXPECT_FALSE(w.take_fault(get_w, t0 + 2h));
  // Control and unrouted requests are never faulted.
  w.arm_fault(fault(R"({"kind": "error"})"), t0);
  EXPECT_FALSE(w.take_fault({sim::endpoint::control, "GET", "", ""}, t0));
}

TEST(world, scenario_faults_are_armed_at_start) {
  const auto w = make_world(R"({"faults": [{"id": "boot", "kind": "close", "count": 1}]})");
  const auto faults = w.faults_json(t0);
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].as_object().at("id").as_string(), "boot");
  EXPECT_EQ(faults[0].as_object().at("remaining").as_uint64(), 1u);
}
