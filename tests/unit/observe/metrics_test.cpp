#include "observe/metrics.hpp"

#include "fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace labelwatch;
using observe::metrics;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
namespace fx = observe::fixtures;

namespace {

const sys_time k_since = from_unix_ms(1606184400278);  // 2020-11-24T02:20:00.278Z
const sys_time k_now = from_unix_ms(1606188000500);

std::vector<std::string> lines(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Sample lines (not comments) whose metric name is exactly `name`.
std::vector<std::string> series(const std::string& body, const std::string& name) {
  std::vector<std::string> out;
  for (auto& l : lines(body)) {
    if (l.rfind(name + "{", 0) == 0 || l.rfind(name + " ", 0) == 0) out.push_back(l);
  }
  return out;
}

std::size_t count_containing(const std::string& body, const std::string& needle) {
  std::size_t n = 0;
  for (auto& l : lines(body))
    if (l.find(needle) != std::string::npos && l[0] != '#') ++n;
  return n;
}

const std::string k_auto_labels =
    R"(dataset_id="WxCREuCkBSAlQr9xrde",task_id="XGrRZuCV1qmMxnsmD5u")";
const std::string k_wf_labels = R"(dataset_id="WxCREuCkBSAlQr9xrde",task_id="iYZx7gScPUozOXner9k")";

// The task labels with `extra` ("name=\"value\",") in prometheus-cpp's sorted label order
// (every extra label used here sorts between dataset_id and task_id).
std::string al(const std::string& extra) {
  return R"(dataset_id="WxCREuCkBSAlQr9xrde",)" + extra + R"(task_id="XGrRZuCV1qmMxnsmD5u")";
}
std::string wl(const std::string& extra) {
  return R"(dataset_id="WxCREuCkBSAlQr9xrde",)" + extra + R"(task_id="iYZx7gScPUozOXner9k")";
}

}  // namespace

TEST(metrics, auto_task_from_seed_has_exact_series) {
  metrics m("0.1.0");
  m.update_auto_task(fx::auto_key(), fx::seed_auto_task(), k_since, k_now);
  const auto body = m.serialize();

  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          "# HELP modelarts_auto_task_info Auto-labeling task metadata; always 1. Labels: "
          "task_name, algorithm_type.",
          "# TYPE modelarts_auto_task_info gauge",
          R"(modelarts_auto_task_info{algorithm_type="fast",dataset_id="WxCREuCkBSAlQr9xrde",task_id="XGrRZuCV1qmMxnsmD5u",task_name="auto-label-cars"} 1)",
          "# TYPE modelarts_auto_task_status gauge",
          "modelarts_auto_task_status{" + al(R"(status="running",)") + "} 1",
          "modelarts_auto_task_status{" + al(R"(status="queuing",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="initialized",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="failed",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="succeeded",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="stopping",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="stopped",)") + "} 0",
          "modelarts_auto_task_status{" + al(R"(status="unknown",)") + "} 0",
          "# TYPE modelarts_auto_task_progress_ratio gauge",
          "modelarts_auto_task_progress_ratio{" + k_auto_labels + "} 0.1",
          "modelarts_auto_task_samples{" + al(R"(state="total",)") + "} 49",
          "modelarts_auto_task_samples{" + al(R"(state="annotated",)") + "} 30",
          "modelarts_auto_task_status_since_timestamp_seconds{" + k_auto_labels +
              "} 1606184400.278",
          R"(labelwatch_task_last_success_timestamp_seconds{dataset_id="WxCREuCkBSAlQr9xrde",kind="auto",task_id="XGrRZuCV1qmMxnsmD5u"} 1606188000.5)",
          R"(labelwatch_build_info{version="0.1.0"} 1)",
      }));
  EXPECT_EQ(series(body, "modelarts_auto_task_status").size(), 8u);
  // unconfirmed_sample_count is absent from the seed: no series, not a zero.
  EXPECT_EQ(series(body, "modelarts_auto_task_samples").size(), 2u);
  EXPECT_THAT(body, Not(HasSubstr(R"(state="unconfirmed")")));
}

TEST(metrics, no_sample_carries_an_explicit_timestamp) {
  metrics m("0.1.0");
  m.update_auto_task(fx::auto_key(), fx::seed_auto_task(), k_since, k_now);
  m.update_workforce_task(fx::workforce_key(), fx::accepting_workforce_task(), k_since, k_now,
                          true);
  m.observe_api_response("get_workforce_task", 200, 0.02);
  for (const auto& l : lines(m.serialize())) {
    if (l.empty() || l[0] == '#') continue;
    const auto close = l.rfind('}');
    const auto tail = l.substr(close == std::string::npos ? 0 : close + 1);
    // "name{labels} value": after the labels exactly one space-separated field.
    EXPECT_EQ(std::count(tail.begin(), tail.end(), ' '), 1) << l;
  }
}

TEST(metrics, list_item_counts_win_over_result_and_unconfirmed_is_exported) {
  metrics m("t");
  auto t = fx::seed_auto_task();
  t.total_sample_count = 50;
  t.unconfirmed_sample_count = 20;
  m.update_auto_task(fx::auto_key(), t, k_since, k_now);
  const auto body = m.serialize();
  EXPECT_THAT(lines(body),
              IsSupersetOf(std::vector<std::string>{
                  "modelarts_auto_task_samples{" + al(R"(state="total",)") + "} 50",
                  "modelarts_auto_task_samples{" + al(R"(state="annotated",)") + "} 30",
                  "modelarts_auto_task_samples{" + al(R"(state="unconfirmed",)") + "} 20"}));
}

TEST(metrics, status_state_set_switches_and_maps_unknown_codes) {
  metrics m("t");
  auto t = fx::seed_auto_task();
  m.update_auto_task(fx::auto_key(), t, k_since, k_now);
  t.status_code = 3;
  m.update_auto_task(fx::auto_key(), t, k_now, k_now);
  auto body = m.serialize();
  EXPECT_THAT(lines(body),
              Contains("modelarts_auto_task_status{" + al(R"(status="succeeded",)") + "} 1"));
  EXPECT_THAT(lines(body),
              Contains("modelarts_auto_task_status{" + al(R"(status="running",)") + "} 0"));
  EXPECT_EQ(count_containing(body, "modelarts_auto_task_status{"), 8u);
  const auto status = series(body, "modelarts_auto_task_status");
  EXPECT_EQ(std::count_if(status.begin(), status.end(),
                          [](const std::string& l) { return l.ends_with("} 1"); }),
            1)
      << "exactly one status series is 1";

  t.status_code = 42;  // not documented
  m.update_auto_task(fx::auto_key(), t, k_now, k_now);
  body = m.serialize();
  EXPECT_THAT(lines(body),
              Contains("modelarts_auto_task_status{" + al(R"(status="unknown",)") + "} 1"));
  EXPECT_THAT(lines(body),
              Contains("modelarts_auto_task_status{" + al(R"(status="succeeded",)") + "} 0"));
  EXPECT_THAT(lines(body), Contains("modelarts_auto_task_status_since_timestamp_seconds{" +
                                    k_auto_labels + "} 1606188000.5"));
}

TEST(metrics, workforce_state_set_has_nine_statuses_including_unknown) {
  metrics m("t");
  auto t = fx::seed_workforce_task();
  t.status_code = 7;
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  const auto body = m.serialize();
  const auto s = series(body, "modelarts_workforce_task_status");
  ASSERT_EQ(s.size(), 9u);
  for (const char* name : {"starting", "running", "accepting", "accepted", "rejected", "syncing",
                           "created", "unknown"}) {
    EXPECT_THAT(s, Contains("modelarts_workforce_task_status{" +
                            wl(std::string("status=\"") + name + "\",") + "} 0"));
  }
  EXPECT_THAT(s,
              Contains("modelarts_workforce_task_status{" + wl(R"(status="sampling",)") + "} 1"));
}

TEST(metrics, workforce_task_from_seed) {
  metrics m("t");
  m.update_workforce_task(fx::workforce_key(), fx::seed_workforce_task(), k_since, k_now, false);
  const auto body = m.serialize();
  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          "# TYPE modelarts_workforce_task_info gauge",
          "modelarts_workforce_task_info{" + k_wf_labels + R"(,task_name="task-e63f")" + "} 1",
          "modelarts_workforce_task_samples{" + wl(R"(state="total",)") + "} 317",
          "modelarts_workforce_task_samples{" + wl(R"(state="unannotated",)") + "} 310",
          "modelarts_workforce_task_samples{" + wl(R"(state="unreviewed",)") + "} 0",
          "modelarts_workforce_task_samples{" + wl(R"(state="uncheck",)") + "} 0",
          "modelarts_workforce_task_samples{" + wl(R"(state="sampled",)") + "} 0",
          "modelarts_workforce_task_samples{" + wl(R"(state="rejected",)") + "} 0",
          "modelarts_workforce_task_samples{" + wl(R"(state="accepted",)") + "} 7",
          "modelarts_workforce_task_samples{" + wl(R"(state="auto_annotation",)") + "} 0",
          "modelarts_workforce_task_status_since_timestamp_seconds{" + k_wf_labels +
              "} 1606184400.278",
          R"(labelwatch_task_last_success_timestamp_seconds{dataset_id="WxCREuCkBSAlQr9xrde",kind="workforce",task_id="iYZx7gScPUozOXner9k"} 1606188000.5)",
      }));
  // deleted_sample_count, pass_rate, score, check_rate and checking_stats are absent from
  // the seed: none of them may appear as zeros.
  EXPECT_EQ(series(body, "modelarts_workforce_task_samples").size(), 8u);
  EXPECT_TRUE(series(body, "modelarts_workforce_task_pass_ratio").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_task_score").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_task_check_ratio").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_acceptance_samples").empty());
  // Families without series are not exposed at all (no orphan HELP/TYPE).
  EXPECT_THAT(body, Not(HasSubstr("modelarts_workforce_task_pass_ratio")));
  EXPECT_THAT(body, Not(HasSubstr("worker")));
}

TEST(metrics, workforce_acceptance_figures_and_ratios) {
  metrics m("t");
  m.update_workforce_task(fx::workforce_key(), fx::accepting_workforce_task(), k_since, k_now,
                          false);
  const auto body = m.serialize();
  EXPECT_THAT(lines(body),
              IsSupersetOf(std::vector<std::string>{
                  "# TYPE modelarts_workforce_task_pass_ratio gauge",
                  "modelarts_workforce_task_pass_ratio{" + k_wf_labels + "} 0.96",
                  "modelarts_workforce_task_check_ratio{" + k_wf_labels + "} 0.2",
                  "modelarts_workforce_task_score{" + k_wf_labels + "} 87.5",
                  "modelarts_workforce_acceptance_samples{" + wl(R"(state="sampled",)") + "} 63",
                  "modelarts_workforce_acceptance_samples{" + wl(R"(state="checked",)") + "} 50",
                  "modelarts_workforce_acceptance_samples{" + wl(R"(state="accepted",)") + "} 48",
                  "modelarts_workforce_acceptance_samples{" + wl(R"(state="rejected",)") + "} 2",
                  "modelarts_workforce_acceptance_samples{" + wl(R"(state="unchecked",)") + "} 13",
              }));
  EXPECT_EQ(series(body, "modelarts_workforce_acceptance_samples").size(), 5u);
}

TEST(metrics, values_that_vanish_lose_their_series) {
  metrics m("t");
  m.update_workforce_task(fx::workforce_key(), fx::accepting_workforce_task(), k_since, k_now,
                          false);
  m.update_workforce_task(fx::workforce_key(), fx::seed_workforce_task(), k_since, k_now, false);
  const auto body = m.serialize();
  EXPECT_TRUE(series(body, "modelarts_workforce_task_pass_ratio").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_acceptance_samples").empty());
}

TEST(metrics, nonsense_ratios_are_not_exported) {
  metrics m("t");
  auto t = fx::accepting_workforce_task();
  t.pass_rate = 96.0;  // a percentage where a ratio is documented: not trusted
  t.check_rate = -0.5;
  t.score = std::numeric_limits<double>::quiet_NaN();
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  auto a = fx::seed_auto_task();
  a.progress = 150.0;  // clamped
  m.update_auto_task(fx::auto_key(), a, k_since, k_now);
  const auto body = m.serialize();
  EXPECT_TRUE(series(body, "modelarts_workforce_task_pass_ratio").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_task_check_ratio").empty());
  EXPECT_TRUE(series(body, "modelarts_workforce_task_score").empty());
  EXPECT_THAT(lines(body), Contains("modelarts_auto_task_progress_ratio{" + k_auto_labels + "} 1"));

  a.progress = std::numeric_limits<double>::infinity();
  m.update_auto_task(fx::auto_key(), a, k_since, k_now);
  EXPECT_TRUE(series(m.serialize(), "modelarts_auto_task_progress_ratio").empty());
}

TEST(metrics, worker_series_only_with_worker_metrics) {
  metrics m("t");
  m.update_workforce_task(fx::workforce_key(), fx::seed_workforce_task(), k_since, k_now, false);
  EXPECT_TRUE(series(m.serialize(), "modelarts_workforce_worker_samples").empty());

  m.update_workforce_task(fx::workforce_key(), fx::seed_workforce_task(), k_since, k_now, true);
  auto body = m.serialize();
  const std::string w = R"(,worker_id="afdda13895bc66322ffbf36ae833bcf0")";
  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          "modelarts_workforce_worker_samples{" + wl(R"(state="total",)") + w + "} 317",
          "modelarts_workforce_worker_samples{" + wl(R"(state="unannotated",)") + w + "} 310",
          "modelarts_workforce_worker_samples{" + wl(R"(state="accepted",)") + w + "} 7",
      }));
  EXPECT_EQ(series(body, "modelarts_workforce_worker_samples").size(), 8u);

  // A member who leaves the task loses their series; a new one gets them.
  auto t = fx::seed_workforce_task();
  t.workers[0].worker_id = "0000000000000000000000000000beef";
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, true);
  body = m.serialize();
  EXPECT_THAT(body, Not(HasSubstr("afdda13895bc66322ffbf36ae833bcf0")));
  EXPECT_EQ(series(body, "modelarts_workforce_worker_samples").size(), 8u);

  // Switching worker_metrics off (config reload) removes them.
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  EXPECT_TRUE(series(m.serialize(), "modelarts_workforce_worker_samples").empty());
}

TEST(metrics, remove_task_removes_every_series_of_that_task_only) {
  metrics m("t");
  m.update_workforce_task(fx::workforce_key(), fx::accepting_workforce_task(), k_since, k_now,
                          true);
  m.update_workforce_task(fx::workforce_key("WxCREuCkBSAlQr9xrde", "otherTask"),
                          fx::accepting_workforce_task(), k_since, k_now, true);
  m.update_auto_task(fx::auto_key(), fx::seed_auto_task(), k_since, k_now);
  m.count_transition(task_kind::workforce, 1, 2);
  ASSERT_EQ(m.task_count(), 3u);

  EXPECT_TRUE(m.remove_task(fx::workforce_key()));
  auto body = m.serialize();
  EXPECT_EQ(count_containing(body, "iYZx7gScPUozOXner9k"), 0u) << body;
  EXPECT_GT(count_containing(body, "otherTask"), 20u);
  // Counters without task labels stay.
  EXPECT_THAT(
      lines(body),
      Contains(
          R"(modelarts_task_transitions_total{from="running",kind="workforce",to="accepting"} 1)"));

  EXPECT_TRUE(m.remove_task(fx::auto_key()));
  EXPECT_FALSE(m.remove_task(fx::auto_key()));
  body = m.serialize();
  EXPECT_EQ(count_containing(body, "XGrRZuCV1qmMxnsmD5u"), 0u);
  EXPECT_THAT(body, Not(HasSubstr("modelarts_auto_task")));
  EXPECT_EQ(m.task_count(), 1u);

  // A task that comes back (discovery) gets fresh series.
  m.update_auto_task(fx::auto_key(), fx::seed_auto_task(), k_since, k_now);
  EXPECT_EQ(count_containing(m.serialize(), "XGrRZuCV1qmMxnsmD5u"), 14u);
}

TEST(metrics, renamed_task_keeps_one_info_series) {
  metrics m("t");
  auto t = fx::seed_workforce_task();
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  t.task_name = "renamed";
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  const auto s = series(m.serialize(), "modelarts_workforce_task_info");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0],
            "modelarts_workforce_task_info{" + k_wf_labels + R"(,task_name="renamed")" + "} 1");
}

TEST(metrics, label_values_are_escaped) {
  metrics m("t");
  auto t = fx::seed_workforce_task();
  t.task_name = "a \"quoted\"\\name\nnext";
  m.update_workforce_task(fx::workforce_key(), t, k_since, k_now, false);
  EXPECT_THAT(lines(m.serialize()), Contains("modelarts_workforce_task_info{" + k_wf_labels +
                                             R"(,task_name="a \"quoted\"\\name\nnext"} 1)"));
}

TEST(metrics, counters_and_self_series) {
  metrics m("1.2.3");
  m.count_transition(task_kind::auto_labeling, -1, 1);
  m.count_transition(task_kind::auto_labeling, -1, 1);
  m.count_transition(task_kind::auto_labeling, 1, 99);
  m.count_acceptance("pass-high-quality", "pass_all", observe::acceptance_outcome::dry_run);
  m.declare_acceptance_rule("reject-low", "reject_all");
  m.count_poll_error(task_kind::workforce, errc::throttled);
  m.count_poll_error("discovery", errc::timeout);
  m.count_poll_error("discovery", errc::store_failed);
  m.observe_api_response("get_workforce_task", 200, 0.02);
  m.observe_api_response("get_workforce_task", 200, 0.3);
  m.observe_api_response("get_workforce_task", 429, 0.001);
  m.observe_api_failure("get_auto_task", errc::timeout, 10.0);
  m.set_tracked_tasks(task_kind::auto_labeling, 3);
  m.set_tracked_tasks(task_kind::workforce, 5);
  m.set_config_reload_successful(false);
  m.count_event_dropped("file");
  m.set_token_expiry(from_unix_ms(1606270800000));
  const auto body = m.serialize();
  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          "# TYPE modelarts_task_transitions_total counter",
          R"(modelarts_task_transitions_total{from="queuing",kind="auto",to="running"} 2)",
          R"(modelarts_task_transitions_total{from="running",kind="auto",to="unknown"} 1)",
          "# TYPE modelarts_acceptance_actions_total counter",
          R"(modelarts_acceptance_actions_total{action="pass_all",outcome="dry_run",rule="pass-high-quality"} 1)",
          R"(modelarts_acceptance_actions_total{action="reject_all",outcome="applied",rule="reject-low"} 0)",
          R"(modelarts_acceptance_actions_total{action="reject_all",outcome="failed",rule="reject-low"} 0)",
          "# TYPE labelwatch_poll_errors_total counter",
          R"(labelwatch_poll_errors_total{kind="workforce",reason="throttled"} 1)",
          R"(labelwatch_poll_errors_total{kind="discovery",reason="timeout"} 1)",
          R"(labelwatch_poll_errors_total{kind="discovery",reason="other"} 1)",
          "# TYPE labelwatch_api_requests_total counter",
          R"(labelwatch_api_requests_total{code="200",operation="get_workforce_task"} 2)",
          R"(labelwatch_api_requests_total{code="429",operation="get_workforce_task"} 1)",
          R"(labelwatch_api_requests_total{code="timeout",operation="get_auto_task"} 1)",
          "# TYPE labelwatch_api_request_duration_seconds histogram",
          R"(labelwatch_api_request_duration_seconds_count{operation="get_workforce_task"} 3)",
          R"(labelwatch_api_request_duration_seconds_sum{operation="get_workforce_task"} 0.321)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="0.005"} 1)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="0.025"} 2)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="0.5"} 3)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="+Inf"} 3)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_auto_task",le="10"} 1)",
          R"(labelwatch_tracked_tasks{kind="auto"} 3)",
          R"(labelwatch_tracked_tasks{kind="workforce"} 5)",
          "labelwatch_config_last_reload_successful 0",
          "# TYPE labelwatch_events_dropped_total counter",
          R"(labelwatch_events_dropped_total{sink="file"} 1)",
          "labelwatch_auth_token_expiry_timestamp_seconds 1606270800",
          R"(labelwatch_build_info{version="1.2.3"} 1)",
      }));
  m.set_token_expiry(std::nullopt);
  EXPECT_THAT(m.serialize(), Not(HasSubstr("labelwatch_auth_token_expiry_timestamp_seconds")));
}

TEST(metrics, sample_quality_round_replaces_the_previous_one) {
  metrics m("t");
  observe::sample_quality_view v;
  v.samples_by_status = {{"UN_ANNOTATION", 3}, {"__AUTO_ANNOTATION__", 5}};
  for (double s : {0.05, 0.15, 0.95, 1.0, 0.5}) v.scores[""].add(s);
  v.scores["car"].add(0.95);
  v.hard_samples = 2;
  v.hard_reasons = {{"3_blurry", 2}, {"bad reason!", 1}};
  m.update_sample_quality("ds1", v, k_now);
  auto body = m.serialize();
  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          "# TYPE modelarts_auto_annotation_samples gauge",
          R"(modelarts_auto_annotation_samples{dataset_id="ds1",sample_status="UN_ANNOTATION"} 3)",
          R"(modelarts_auto_annotation_samples{dataset_id="ds1",sample_status="__AUTO_ANNOTATION__"} 5)",
          "# TYPE modelarts_auto_annotation_label_score histogram",
          R"(modelarts_auto_annotation_label_score_count{dataset_id="ds1"} 5)",
          R"(modelarts_auto_annotation_label_score_sum{dataset_id="ds1"} 2.65)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.1"} 1)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.2"} 2)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.5"} 3)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.9"} 3)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="1"} 5)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="+Inf"} 5)",
          R"(modelarts_auto_annotation_label_score_count{dataset_id="ds1",label_name="car"} 1)",
          R"(modelarts_auto_annotation_hard_samples{dataset_id="ds1"} 2)",
          R"(modelarts_auto_annotation_hard_reasons{dataset_id="ds1",reason="3_blurry"} 2)",
          R"(modelarts_auto_annotation_hard_reasons{dataset_id="ds1",reason="bad_reason_"} 1)",
          R"(labelwatch_sample_round_last_success_timestamp_seconds{dataset_id="ds1"} 1606188000.5)",
      }));

  observe::sample_quality_view next;
  next.samples_by_status = {{"UN_ANNOTATION", 1}};
  next.scores[""].add(0.75);
  m.update_sample_quality("ds1", next, k_now + std::chrono::minutes(10));
  body = m.serialize();
  EXPECT_THAT(
      lines(body),
      IsSupersetOf(std::vector<std::string>{
          R"(modelarts_auto_annotation_samples{dataset_id="ds1",sample_status="UN_ANNOTATION"} 1)",
          R"(modelarts_auto_annotation_label_score_count{dataset_id="ds1"} 1)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.7"} 0)",
          R"(modelarts_auto_annotation_label_score_bucket{dataset_id="ds1",le="0.8"} 1)",
          R"(modelarts_auto_annotation_hard_samples{dataset_id="ds1"} 0)",
      }));
  EXPECT_THAT(body, Not(HasSubstr("__AUTO_ANNOTATION__")));
  EXPECT_THAT(body, Not(HasSubstr("car")));
  EXPECT_THAT(body, Not(HasSubstr("3_blurry")));

  EXPECT_TRUE(m.remove_sample_quality("ds1"));
  EXPECT_FALSE(m.remove_sample_quality("ds1"));
  EXPECT_THAT(m.serialize(), Not(HasSubstr("ds1")));
}

TEST(metrics, score_distribution_buckets) {
  observe::score_distribution d;
  d.add(-0.5);
  d.add(0.1);  // le="0.1" is inclusive
  d.add(0.10001);
  d.add(1.5);
  d.add(std::nan(""));
  EXPECT_EQ(d.count(), 4u);
  EXPECT_EQ(d.counts[0], 2u);
  EXPECT_EQ(d.counts[1], 1u);
  EXPECT_EQ(d.counts[10], 1u);
}

TEST(metrics, every_design_family_is_registered) {
  metrics m("t");
  const auto names = m.family_names();
  EXPECT_THAT(names, IsSupersetOf(std::vector<std::string>{
                         "modelarts_auto_task_info",
                         "modelarts_auto_task_status",
                         "modelarts_auto_task_progress_ratio",
                         "modelarts_auto_task_samples",
                         "modelarts_auto_task_status_since_timestamp_seconds",
                         "modelarts_workforce_task_info",
                         "modelarts_workforce_task_status",
                         "modelarts_workforce_task_samples",
                         "modelarts_workforce_task_pass_ratio",
                         "modelarts_workforce_task_score",
                         "modelarts_workforce_task_check_ratio",
                         "modelarts_workforce_acceptance_samples",
                         "modelarts_workforce_worker_samples",
                         "modelarts_workforce_task_status_since_timestamp_seconds",
                         "modelarts_task_transitions_total",
                         "modelarts_acceptance_actions_total",
                         "labelwatch_build_info",
                         "labelwatch_api_requests_total",
                         "labelwatch_api_request_duration_seconds",
                         "labelwatch_poll_errors_total",
                         "labelwatch_tracked_tasks",
                         "labelwatch_task_last_success_timestamp_seconds",
                         "labelwatch_config_last_reload_successful",
                         "labelwatch_auth_token_expiry_timestamp_seconds",
                         "modelarts_auto_annotation_samples",
                         "modelarts_auto_annotation_label_score",
                         "modelarts_auto_annotation_hard_samples",
                         "modelarts_auto_annotation_hard_reasons",
                         "labelwatch_sample_round_last_success_timestamp_seconds",
                         "labelwatch_events_dropped_total",
                         "labelwatch_scheduler_lag_seconds",
                         "labelwatch_state_write_errors_total"}));
  EXPECT_EQ(names.size(), 32u);
}
