// Decoding of ModelArts documents: the seed examples verbatim, the list shapes of the
// fact sheet §4, every documented quirk, and every failure path with its exact message.
#include "modelarts/decode.hpp"

#include "core/error.hpp"

#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace labelwatch;
using namespace labelwatch::modelarts;

namespace {

std::string read_seed(const std::string& name) {
  std::ifstream in(std::string(LABELWATCH_TEST_DATA_DIR) + "/seeds/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing test data " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <class T>
T ok(decode_result<T> r) {
  if (!r) {
    ADD_FAILURE() << "decode failed: " << r.error().message();
    return T{};
  }
  return std::move(*r);
}

template <class T>
std::string error_of(const decode_result<T>& r) {
  if (r) return "<decoded without error>";
  return r.error().message();
}

constexpr sys_time at_ms(std::int64_t ms) { return from_unix_ms(ms); }

void expect_seed_auto_task(const auto_task& t) {
  EXPECT_EQ(t.task_id, "");  // the documented detail carries no task_id
  EXPECT_EQ(t.resource_id, "XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(t.create_time_raw, "2020-11-23 11:08:20");
  EXPECT_EQ(t.create_time, at_ms(1606129700000));
  EXPECT_EQ(t.progress, 10.0);
  EXPECT_EQ(t.status_code, 1);
  EXPECT_EQ(t.status(), auto_status::running);
  EXPECT_EQ(t.message, "Start to export annotations. Export task id is jMZGm2SBp4Ymr2wrhAK");
  EXPECT_EQ(t.code, "ModelArts.4902");
  EXPECT_EQ(t.elapsed_time, 0);
  ASSERT_TRUE(t.result);
  EXPECT_EQ(t.result->total_sample_count, 49);
  EXPECT_EQ(t.result->annotated_sample_count, 30);
  EXPECT_EQ(t.result->unconfirmed_sample_count, std::nullopt);
  EXPECT_TRUE(t.result->events.empty());
  EXPECT_EQ(t.export_type, 0);
  EXPECT_EQ(t.config.worker_server_num, 0);
  EXPECT_EQ(t.config.collect_sample, false);
  EXPECT_EQ(t.config.algorithm_type, "fast");
  // Absent in the example, so absent after decoding (never zero).
  EXPECT_EQ(t.total_sample_count, std::nullopt);
  EXPECT_EQ(t.type, std::nullopt);
  EXPECT_EQ(t.error_code, "");
  EXPECT_EQ(t.task_name, "");
}

}  // namespace

// ---- the seed examples, verbatim -------------------------------------------------------

TEST(decode_seed, auto_task_detail_000) {
  expect_seed_auto_task(ok(decode_auto_task(read_seed("000_auto_task_detail.json"))));
}

TEST(decode_seed, auto_task_detail_003_equals_000) {
  const auto t = ok(decode_auto_task(read_seed("003_auto_task_detail.json")));
  expect_seed_auto_task(t);
  EXPECT_EQ(t, ok(decode_auto_task(read_seed("000_auto_task_detail.json"))));
}

TEST(decode_seed, workforce_task_detail_001) {
  const auto t = ok(decode_workforce_task(read_seed("001_workforce_task_detail.json")));
  EXPECT_EQ(t.dataset_id, "WxCREuCkBSAlQr9xrde");
  EXPECT_EQ(t.task_id, "iYZx7gScPUozOXner9k");
  EXPECT_EQ(t.task_name, "task-e63f");
  EXPECT_EQ(t.status_code, 1);
  EXPECT_EQ(t.status(), workforce_status::running);
  EXPECT_EQ(t.create_time, at_ms(1606184400278));
  EXPECT_EQ(t.update_time, at_ms(1606184400278));
  EXPECT_EQ(t.repetition, 1);
  ASSERT_TRUE(t.config);
  EXPECT_EQ(t.config->agency, "");
  ASSERT_EQ(t.config->workforces.size(), 1u);
  EXPECT_EQ(t.config->workforces[0].workforce_id, "q3ZFSwORu1ztKljDLYQ");
  ASSERT_EQ(t.config->workforces[0].workers.size(), 1u);
  EXPECT_EQ(t.config->workforces[0].workers[0].email, "xxx@xxx.com");
  EXPECT_EQ(t.config->workforces[0].workers[0].worker_id, "afdda13895bc66322ffbf36ae833bcf0");
  EXPECT_EQ(t.config->workforces[0].workers[0].role, 0);
  EXPECT_EQ(t.config->workforces[0].workers[0].status, std::nullopt);
  EXPECT_EQ(t.synchronize_data, false);
  EXPECT_EQ(t.synchronize_auto_labeling_data, false);
  ASSERT_TRUE(t.workforce);
  EXPECT_EQ(t.workforce->workforce_count, 1);
  EXPECT_EQ(t.workforce->labeler_count, 1);
  EXPECT_EQ(t.workforce->reviewer_count, 0);
  const sample_stats expected_stats{.total_sample_count = 317,
                                    .unannotated_sample_count = 310,
                                    .unreviewed_sample_count = 0,
                                    .uncheck_sample_count = 0,
                                    .sampled_sample_count = 0,
                                    .rejected_sample_count = 0,
                                    .accepted_sample_count = 7,
                                    .auto_annotation_sample_count = 0,
                                    .deleted_sample_count = std::nullopt};
  ASSERT_TRUE(t.stats);
  EXPECT_EQ(*t.stats, expected_stats);
  ASSERT_TRUE(t.checking);
  EXPECT_EQ(t.checking->checking_task_id, "onSbri2oqYOmDjDyW17");
  EXPECT_EQ(t.checking->action, 0);
  EXPECT_EQ(t.checking->overwrite_last_result, false);
  EXPECT_FALSE(t.checking->checking_stats);
  EXPECT_FALSE(t.checking->total_stats);
  EXPECT_EQ(t.auto_sync_dataset, true);
  ASSERT_EQ(t.workers.size(), 1u);
  const auto& w = t.workers[0];
  EXPECT_EQ(w.email, "xxx@xxx.com");
  EXPECT_EQ(w.worker_id, "afdda13895bc66322ffbf36ae833bcf0");
  EXPECT_EQ(w.role, 0);
  ASSERT_TRUE(w.stats);
  EXPECT_EQ(*w.stats, expected_stats);
  EXPECT_EQ(w.create_time_ms, 1606184400278);
  EXPECT_EQ(w.update_time_ms, 1606184795050);
  EXPECT_EQ(w.email_status, 3);
  EXPECT_EQ(w.last_notify_time_ms, 0);
  EXPECT_EQ(w.task_status, std::nullopt);
  EXPECT_EQ(w.pass_rate, std::nullopt);
  // Not in the example.
  EXPECT_EQ(t.pass_rate, std::nullopt);
  EXPECT_EQ(t.score, std::nullopt);
  EXPECT_EQ(t.check_rate, std::nullopt);
  EXPECT_EQ(t.description, "");
}

TEST(decode_seed, sample_detail_002) {
  const auto s = ok(decode_sample(read_seed("002_sample_detail.json")));
  EXPECT_EQ(s.sample_id, "0059c1b9458a2da9443af684b5099b4e");
  EXPECT_EQ(s.sample_type, 0);
  ASSERT_EQ(s.labels.size(), 1u);
  const auto& l = s.labels[0];
  EXPECT_EQ(l.name, "Bees");
  EXPECT_EQ(l.type, 0);
  EXPECT_EQ(l.id, "1");
  EXPECT_EQ(l.hard_coefficient, 0.0);  // "0.0"
  EXPECT_EQ(l.hard, false);            // "false"
  EXPECT_TRUE(l.hard_reasons.empty());
  EXPECT_EQ(l.score, 0.66);
  EXPECT_EQ(l.annotated_by, "");
  EXPECT_EQ(s.source,
            "https://test-obs.obs.xxx.com:443/data/3_1597649054631.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH"
            "&Expires=1606299474&Signature=anOLGOHPSrj3WXUHVc70tAxWlf4%3D");
  ASSERT_TRUE(s.metadata);
  EXPECT_EQ(s.metadata->hard_coefficient, 0.0);
  EXPECT_EQ(s.metadata->hard, false);
  EXPECT_EQ(s.metadata->import_origin, 0);
  EXPECT_TRUE(s.metadata->hard_reasons.empty());
  EXPECT_EQ(s.sample_time_ms, 1600490651933);
  EXPECT_EQ(s.sample_status, "UN_ANNOTATION");
  EXPECT_TRUE(s.hard_details.empty());
  EXPECT_EQ(s.sample_name, "");
  EXPECT_EQ(s.sample_size, std::nullopt);
  EXPECT_EQ(s.check_accept, std::nullopt);
}

TEST(decode_seed, acceptance_status_response_004) {
  const auto r = ok(decode_acceptance_status(read_seed("004_acceptance_status_response.json")));
  EXPECT_EQ(r.sample_count, std::nullopt);
  EXPECT_TRUE(r.samples.empty());
}

// ---- list pages in the documented shapes (fact sheet §4) -------------------------------

TEST(decode_list, auto_tasks_use_total_count) {
  const auto p = ok(decode_auto_task_list(R"({
    "tasks": [
      {"task_id": "XGrRZuCV1qmMxnsmD5u", "task_name": "pre-label-1", "dataset_id": "WxCREuCkBSAlQr9xrde",
       "status": 3, "type": 1, "create_time": "2020-11-03 15:22:39", "progress": 100.0,
       "code": "ModelArts.4996", "message": "task executed successfully", "elapsed_time": 120,
       "total_sample_count": 49, "annotated_sample_count": 49, "unconfirmed_sample_count": 12,
       "model_id": "m-1", "model_name": "yolo", "model_version": "0.0.1",
       "config": {"algorithm_type": "accurate"}, "result": {"total_sample_count": 49}},
      {"task_id": "Abc", "status": 2, "type": 0, "error_code": "ModelArts.4352",
       "error_msg": "training failed", "error_detail": "oom"}
    ],
    "total_count": 2,
    "exist_running_deploy_task": false
  })"));
  EXPECT_EQ(p.total, 2);
  ASSERT_EQ(p.items.size(), 2u);
  const auto& a = p.items[0];
  EXPECT_EQ(a.task_id, "XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(a.task_name, "pre-label-1");
  EXPECT_EQ(a.dataset_id, "WxCREuCkBSAlQr9xrde");
  EXPECT_EQ(a.status(), auto_status::succeeded);
  EXPECT_EQ(a.type, 1);
  EXPECT_EQ(a.create_time, at_ms(1604416959000));
  EXPECT_EQ(a.progress, 100.0);
  EXPECT_EQ(a.code, "ModelArts.4996");
  EXPECT_EQ(a.message, "task executed successfully");
  EXPECT_EQ(a.elapsed_time, 120);
  EXPECT_EQ(a.total_sample_count, 49);
  EXPECT_EQ(a.annotated_sample_count, 49);
  EXPECT_EQ(a.unconfirmed_sample_count, 12);
  EXPECT_EQ(a.model_id, "m-1");
  EXPECT_EQ(a.model_name, "yolo");
  EXPECT_EQ(a.model_version, "0.0.1");
  EXPECT_EQ(a.config.algorithm_type, "accurate");
  ASSERT_TRUE(a.result);
  EXPECT_EQ(a.result->total_sample_count, 49);
  const auto& b = p.items[1];
  EXPECT_EQ(b.status(), auto_status::failed);
  EXPECT_EQ(b.type, 0);
  EXPECT_EQ(b.error_code, "ModelArts.4352");
  EXPECT_EQ(b.error_msg, "training failed");
  EXPECT_EQ(b.error_detail, "oom");
  EXPECT_FALSE(b.result);
  EXPECT_FALSE(b.create_time);
}

TEST(decode_list, workforce_tasks_use_count_not_total_count) {
  const auto p = ok(decode_workforce_task_list(R"({
    "count": 2,
    "tasks": [
      {"task_id": "iYZx7gScPUozOXner9k", "task_name": "task-e63f", "status": 6, "create_time": 1606184400278,
       "pass_rate": 0.98, "score": 4.5, "check_rate": 0.2,
       "checking_task_desc": {"checking_task_id": "c1", "action": 5, "overwrite_last_result": true,
                              "checking_stats": {"accepted_sample_count": 40, "checked_sample_count": 50,
                                                 "pass_rate": 0.8, "rejected_sample_count": 10,
                                                 "sampled_sample_count": 60, "sampling_num": 60,
                                                 "sampling_rate": 0.2, "score": "E", "task_id": "c1",
                                                 "total_sample_count": 300, "total_score": 170,
                                                 "unchecked_sample_count": 10},
                              "total_stats": {"checked_sample_count": 500}}},
      {"task_id": "second", "status": 3}
    ]
  })"));
  EXPECT_EQ(p.total, 2);
  ASSERT_EQ(p.items.size(), 2u);
  const auto& t = p.items[0];
  EXPECT_EQ(t.status(), workforce_status::created);
  EXPECT_EQ(t.pass_rate, 0.98);
  EXPECT_EQ(t.score, 4.5);
  EXPECT_EQ(t.check_rate, 0.2);
  ASSERT_TRUE(t.checking);
  EXPECT_EQ(t.checking->action, 5);
  EXPECT_EQ(t.checking->overwrite_last_result, true);
  const check_task_stats expected{.accepted_sample_count = 40,
                                  .checked_sample_count = 50,
                                  .pass_rate = 0.8,
                                  .rejected_sample_count = 10,
                                  .sampled_sample_count = 60,
                                  .sampling_num = 60,
                                  .sampling_rate = 0.2,
                                  .score = "E",
                                  .task_id = "c1",
                                  .total_sample_count = 300,
                                  .total_score = 170,
                                  .unchecked_sample_count = 10};
  ASSERT_TRUE(t.checking->checking_stats);
  EXPECT_EQ(*t.checking->checking_stats, expected);
  ASSERT_TRUE(t.checking->total_stats);
  EXPECT_EQ(t.checking->total_stats->checked_sample_count, 500);
  EXPECT_EQ(p.items[1].status(), workforce_status::accepted);

  // The auto-task key means nothing here.
  const auto other = ok(decode_workforce_task_list(R"({"total_count": 5, "tasks": []})"));
  EXPECT_EQ(other.total, std::nullopt);
}

TEST(decode_list, samples_use_sample_count) {
  const auto p = ok(decode_sample_list(R"({"sample_count": 2, "samples": [
    {"sample_id": "s1", "sample_name": "1.jpg", "sample_size": 2048, "worker_id": "w",
     "hard_details": {"3": {"id": 3, "alo_name": "similar", "reason": "differs from training data",
                            "suggestion": "relabel"}}},
    {"sample_id": "s2", "labels": []}]})"));
  EXPECT_EQ(p.total, 2);
  ASSERT_EQ(p.items.size(), 2u);
  EXPECT_EQ(p.items[0].sample_name, "1.jpg");
  EXPECT_EQ(p.items[0].sample_size, 2048);
  EXPECT_EQ(p.items[0].worker_id, "w");
  ASSERT_EQ(p.items[0].hard_details.count("3"), 1u);
  EXPECT_EQ(p.items[0].hard_details.at("3"),
            (hard_detail{.id = 3, .alo_name = "similar", .reason = "differs from training data",
                         .suggestion = "relabel"}));
  EXPECT_EQ(p.items[1].sample_id, "s2");
}

TEST(decode_list, datasets_use_total_number) {
  const auto p = ok(decode_dataset_list(R"({"total_number": 1, "datasets": [
    {"dataset_id": "WxCREuCkBSAlQr9xrde", "dataset_name": "bees", "dataset_type": 0, "status": 1,
     "exist_workforce_task": true, "workforce_task_count": 2, "total_sample_count": 317,
     "annotated_sample_count": 7, "create_time": 1606184400278}]})"));
  EXPECT_EQ(p.total, 1);
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_EQ(p.items[0],
            (dataset{.dataset_id = "WxCREuCkBSAlQr9xrde", .dataset_name = "bees", .dataset_type = 0,
                     .status = 1, .total_sample_count = 317, .annotated_sample_count = 7,
                     .workforce_task_count = 2}));
}

TEST(decode_list, missing_or_null_items_are_an_empty_page) {
  auto a = ok(decode_auto_task_list(R"({"total_count": 0})"));
  EXPECT_TRUE(a.items.empty());
  EXPECT_EQ(a.total, 0);
  auto b = ok(decode_workforce_task_list(R"({"tasks": null})"));
  EXPECT_TRUE(b.items.empty());
  EXPECT_EQ(b.total, std::nullopt);
  EXPECT_TRUE(ok(decode_sample_list("{}")).items.empty());
  EXPECT_TRUE(ok(decode_dataset_list(R"({"datasets": []})")).items.empty());
}

TEST(decode_list, item_errors_carry_the_index) {
  EXPECT_EQ(error_of(decode_auto_task_list(
                R"({"tasks": [{"task_id":"a","status":1},{"task_id":"b","status":1},{"task_id":"c","status":1},
                              {"task_id":"d","status":true}]})")),
            "tasks[3].status: expected integer, got true");
  EXPECT_EQ(error_of(decode_auto_task_list(R"({"tasks": [{"status": 1}]})")),
            "tasks[0].task_id: missing required field");
  EXPECT_EQ(error_of(decode_workforce_task_list(R"({"tasks": [{"task_id":"a","status":1}, 7]})")),
            "tasks[1]: expected object, got 7");
  EXPECT_EQ(error_of(decode_sample_list(R"({"samples": {"sample_id": "s"}})")),
            "samples: expected array, got an object");
  EXPECT_EQ(error_of(decode_dataset_list(R"({"datasets": [{"dataset_name": "x"}]})")),
            "datasets[0].dataset_id: missing required field");
  EXPECT_EQ(error_of(decode_auto_task_list(R"({"tasks": [], "total_count": -1})")),
            "total_count: expected a non-negative count, got -1");
  EXPECT_EQ(error_of(decode_workforce_task_list(R"({"tasks": [], "count": "lots"})")),
            "count: expected integer, got \"lots\"");
}

// ---- acceptance status -------------------------------------------------------------------

TEST(decode_acceptance, empty_forms_are_success) {
  for (std::string_view body : {"", " ", "\r\n\t ", "{}", "{ }", "{\n}\n"}) {
    auto r = decode_acceptance_status(body);
    ASSERT_TRUE(r) << "body [" << body << "]: " << r.error().message();
    EXPECT_EQ(r->sample_count, std::nullopt);
    EXPECT_TRUE(r->samples.empty());
  }
}

TEST(decode_acceptance, conflict_list_of_action_3) {
  const auto r = ok(decode_acceptance_status(R"({"sample_count": 2, "samples": [
    {"sample_id": "a", "check_accept": false, "check_comment": "box too loose", "check_score": "C",
     "review_accept": true, "review_comment": "ok", "review_score": "A", "score": "B", "worker_id": "w1"},
    {"sample_id": "b", "check_accept": "true"}]})"));
  EXPECT_EQ(r.sample_count, 2);
  ASSERT_EQ(r.samples.size(), 2u);
  const auto& a = r.samples[0];
  EXPECT_EQ(a.check_accept, false);
  EXPECT_EQ(a.check_comment, "box too loose");
  EXPECT_EQ(a.check_score, "C");
  EXPECT_EQ(a.review_accept, true);
  EXPECT_EQ(a.review_comment, "ok");
  EXPECT_EQ(a.review_score, "A");
  EXPECT_EQ(a.score, "B");
  EXPECT_EQ(a.worker_id, "w1");
  EXPECT_EQ(r.samples[1].check_accept, true);
}

TEST(decode_acceptance, errors) {
  EXPECT_EQ(error_of(decode_acceptance_status("[]")), "expected a JSON object, got an array");
  EXPECT_EQ(error_of(decode_acceptance_status(R"({"samples": [{"check_accept": true}]})")),
            "samples[0].sample_id: missing required field");
  EXPECT_EQ(error_of(decode_acceptance_status(R"({"sample_count": 1.5})")),
            "sample_count: expected integer, got 1.5");
}

// ---- quirks ------------------------------------------------------------------------------

TEST(decode_quirk, numbers_as_strings) {
  const auto t = ok(decode_workforce_task(R"({"task_id": "t", "status": "2", "repetition": "3",
    "pass_rate": "0.95", "sample_stats": {"total_sample_count": "317", "accepted_sample_count": "10.0"}})"));
  EXPECT_EQ(t.status_code, 2);
  EXPECT_EQ(t.status(), workforce_status::accepting);
  EXPECT_EQ(t.repetition, 3);
  EXPECT_EQ(t.pass_rate, 0.95);
  EXPECT_EQ(t.stats->total_sample_count, 317);
  EXPECT_EQ(t.stats->accepted_sample_count, 10);
  const auto a = ok(decode_auto_task(R"({"status": "-1", "progress": "10.5", "elapsed_time": "1e3"})"));
  EXPECT_EQ(a.status(), auto_status::queuing);
  EXPECT_EQ(a.progress, 10.5);
  EXPECT_EQ(a.elapsed_time, 1000);
}

TEST(decode_quirk, integral_doubles_are_integers_fractions_are_not) {
  const auto t = ok(decode_workforce_task(
      R"({"task_id": "t", "status": 1.0, "sample_stats": {"total_sample_count": 10.0, "deleted_sample_count": 0.0}})"));
  EXPECT_EQ(t.status_code, 1);
  EXPECT_EQ(t.stats->total_sample_count, 10);
  EXPECT_EQ(t.stats->deleted_sample_count, 0);
  EXPECT_EQ(error_of(decode_workforce_task(
                R"({"task_id": "t", "status": 1, "sample_stats": {"total_sample_count": 10.5}})")),
            "sample_stats.total_sample_count: expected integer, got 10.5");
  EXPECT_EQ(error_of(decode_workforce_task(
                R"({"task_id": "t", "status": 1, "sample_stats": {"total_sample_count": "10.5"}})")),
            "sample_stats.total_sample_count: expected integer, got \"10.5\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1.5})")),
            "status: expected integer, got 1.5");
}

TEST(decode_quirk, create_time_forms_for_both_task_kinds) {
  struct row {
    std::string_view json_value;
    sys_time expected;
    std::string_view raw;
  };
  const row rows[] = {
      {R"("2020-11-23 11:08:20")", at_ms(1606129700000), "2020-11-23 11:08:20"},
      {"1606184400278", at_ms(1606184400278), "1606184400278"},
      {"1606184400278.0", at_ms(1606184400278), "1606184400278"},
      {R"("1606184400278")", at_ms(1606184400278), "1606184400278"},
      {R"("2020-11-24T02:20:00.278Z")", at_ms(1606184400278), "2020-11-24T02:20:00.278Z"},
      {"0", at_ms(0), "0"},
  };
  for (const auto& r : rows) {
    const std::string body = std::string(R"({"task_id": "t", "status": 1, "create_time": )") +
                             std::string(r.json_value) + "}";
    const auto a = ok(decode_auto_task(body));
    EXPECT_EQ(a.create_time, r.expected) << body;
    EXPECT_EQ(a.create_time_raw, r.raw) << body;
    const auto w = ok(decode_workforce_task(body));
    EXPECT_EQ(w.create_time, r.expected) << body;
  }
  // Millisecond fields documented as Long take the same forms.
  const auto s = ok(decode_sample(R"({"sample_id": "s", "sample_time": "2020-11-23 11:08:20"})"));
  EXPECT_EQ(s.sample_time_ms, 1606129700000);
}

TEST(decode_quirk, create_time_errors) {
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "create_time": "yesterday"})")),
            "create_time: expected epoch milliseconds or \"YYYY-MM-DD hh:mm:ss\", got \"yesterday\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "create_time": true})")),
            "create_time: expected epoch milliseconds or \"YYYY-MM-DD hh:mm:ss\", got true");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "update_time": -5})")),
            "update_time: epoch milliseconds out of range (0..253402300799999): -5");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "create_time": 1e300})")),
            "create_time: epoch milliseconds out of range (0..253402300799999): 1e+300");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "create_time": "1969-12-31 23:59:59"})")),
            "create_time: time out of range (1970..9999): \"1969-12-31 23:59:59\"");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "create_time": "2020-13-45 99:99:99"})")),
            "create_time: expected epoch milliseconds or \"YYYY-MM-DD hh:mm:ss\", got \"2020-13-45 99:99:99\"");
}

TEST(decode_quirk, hard_flag_forms) {
  struct row {
    std::string_view json_value;
    bool expected;
  };
  const row rows[] = {{R"("true")", true}, {R"("false")", false}, {R"("1")", true},  {R"("0")", false},
                      {R"("TRUE")", true}, {R"("False")", false}, {"1", true},       {"0", false},
                      {"true", true},      {"false", false},      {"1.0", true},     {"0.0", false},
                      {R"("1.0")", true}};
  for (const auto& r : rows) {
    const std::string v(r.json_value);
    const auto s = ok(decode_sample(R"({"sample_id": "s", "labels": [{"property": {"@modelarts:hard": )" + v +
                                    R"(}}], "metadata": {"@modelarts:hard": )" + v + "}}"));
    ASSERT_EQ(s.labels.size(), 1u);
    EXPECT_EQ(s.labels[0].hard, r.expected) << v;
    EXPECT_EQ(s.metadata->hard, r.expected) << v;
  }
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "labels": [{"property": {"@modelarts:hard": "maybe"}}]})")),
            "labels[0].property.@modelarts:hard: expected boolean, got \"maybe\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard": 2}})")),
            "metadata.@modelarts:hard: expected boolean, got 2");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard": [true]}})")),
            "metadata.@modelarts:hard: expected boolean, got an array");
}

TEST(decode_quirk, hard_reasons_string_or_array_anywhere) {
  const auto s = ok(decode_sample(R"({"sample_id": "s",
    "labels": [{"property": {"@modelarts:hard_reasons": "3-20-21-19"}},
               {"property": {"@modelarts:hard_reasons": [1, "2", 30.0]}},
               {"property": {"@modelarts:hard_reasons": ""}},
               {"property": {"@modelarts:hard_reasons": "7"}}],
    "metadata": {"@modelarts:hard_reasons": "0-1"}})"));
  ASSERT_EQ(s.labels.size(), 4u);
  EXPECT_EQ(s.labels[0].hard_reasons, (std::vector<std::int64_t>{3, 20, 21, 19}));
  EXPECT_EQ(s.labels[1].hard_reasons, (std::vector<std::int64_t>{1, 2, 30}));
  EXPECT_TRUE(s.labels[2].hard_reasons.empty());
  EXPECT_EQ(s.labels[3].hard_reasons, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(s.metadata->hard_reasons, (std::vector<std::int64_t>{0, 1}));
  const auto m = ok(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard_reasons": [3, 20]}})"));
  EXPECT_EQ(m.metadata->hard_reasons, (std::vector<std::int64_t>{3, 20}));

  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "labels": [{"property": {"@modelarts:hard_reasons": "3-x"}}]})")),
            "labels[0].property.@modelarts:hard_reasons: expected hyphen-separated integers like "
            "\"3-20-21-19\", got \"3-x\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "labels": [{"property": {"@modelarts:hard_reasons": "3--4"}}]})")),
            "labels[0].property.@modelarts:hard_reasons: expected hyphen-separated integers like "
            "\"3-20-21-19\", got \"3--4\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard_reasons": [1, "x"]}})")),
            "metadata.@modelarts:hard_reasons[1]: expected integer, got \"x\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard_reasons": {"a": 1}}})")),
            "metadata.@modelarts:hard_reasons: expected an integer array or \"3-20-21-19\", got an object");
}

TEST(decode_quirk, hard_coefficient_string_or_number) {
  const auto s = ok(decode_sample(R"({"sample_id": "s", "labels": [{"property": {"@modelarts:hard_coefficient": "0.75"}}],
    "metadata": {"@modelarts:hard_coefficient": 0.25}})"));
  EXPECT_EQ(s.labels[0].hard_coefficient, 0.75);
  EXPECT_EQ(s.metadata->hard_coefficient, 0.25);
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "metadata": {"@modelarts:hard_coefficient": "high"}})")),
            "metadata.@modelarts:hard_coefficient: expected number, got \"high\"");
}

TEST(decode_quirk, missing_optional_objects_and_null_are_absent) {
  const auto t = ok(decode_workforce_task(R"({"task_id": "t", "status": 0})"));
  EXPECT_FALSE(t.stats);
  EXPECT_FALSE(t.checking);
  EXPECT_FALSE(t.workforce);
  EXPECT_FALSE(t.config);
  EXPECT_TRUE(t.workers.empty());
  EXPECT_FALSE(t.create_time);
  const auto n = ok(decode_workforce_task(R"({"task_id": "t", "status": 0, "sample_stats": null,
    "checking_task_desc": null, "worker_stats": null, "task_name": null, "pass_rate": null, "create_time": null})"));
  EXPECT_EQ(n, t);
  const auto a = ok(decode_auto_task(R"({"status": 1, "result": null, "config": null, "progress": null})"));
  EXPECT_FALSE(a.result);
  EXPECT_FALSE(a.progress);
  const auto s = ok(decode_sample(R"({"sample_id": "s", "metadata": null, "labels": null, "hard_details": null})"));
  EXPECT_FALSE(s.metadata);
  EXPECT_TRUE(s.labels.empty());
}

TEST(decode_quirk, empty_string_is_absent_for_non_string_fields) {
  const auto a = ok(decode_auto_task(R"({"status": 1, "progress": "", "elapsed_time": "", "create_time": ""})"));
  EXPECT_FALSE(a.progress);
  EXPECT_FALSE(a.elapsed_time);
  EXPECT_FALSE(a.create_time);
  EXPECT_EQ(a.create_time_raw, "");
  // ... but a required field given as "" is an error, not a zero.
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": ""})")), "status: expected integer, got \"\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "", "status": 1})")), "task_id: must not be empty");
}

TEST(decode_quirk, unknown_fields_are_ignored) {
  const auto plain = ok(decode_workforce_task(R"({"task_id": "t", "status": 1, "sample_stats": {"total_sample_count": 3}})"));
  const auto noisy = ok(decode_workforce_task(R"({"future_field": {"deep": [1, {"x": null}]}, "task_id": "t",
    "label_stats": [{"name": "bee", "count": 3}], "status": 1, "sample_search_conditions": [],
    "sample_stats": {"total_sample_count": 3, "brand_new_count": "n/a"}, "extra": true})"));
  EXPECT_EQ(plain, noisy);
}

TEST(decode_quirk, unknown_status_codes_are_kept_raw) {
  const auto a = ok(decode_auto_task(R"({"status": 42})"));
  EXPECT_EQ(a.status_code, 42);
  EXPECT_EQ(a.status(), auto_status::unknown);
  const auto w = ok(decode_workforce_task(R"({"task_id": "t", "status": -7})"));
  EXPECT_EQ(w.status_code, -7);
  EXPECT_EQ(w.status(), workforce_status::unknown);
}

TEST(decode_quirk, numbers_for_string_fields_keep_their_text) {
  const auto a = ok(decode_auto_task(R"({"status": 1, "task_name": 12345, "result": {"dataset_type": 0}})"));
  EXPECT_EQ(a.task_name, "12345");
  EXPECT_EQ(a.result->dataset_type, "0");
  const auto w = ok(decode_workforce_task(R"({"task_id": 987, "status": 1})"));
  EXPECT_EQ(w.task_id, "987");
}

TEST(decode_quirk, negative_values_other_than_counts_are_kept) {
  const auto a = ok(decode_auto_task(R"({"status": -1, "elapsed_time": -5, "progress": -1.5})"));
  EXPECT_EQ(a.status_code, -1);
  EXPECT_EQ(a.elapsed_time, -5);
  EXPECT_EQ(a.progress, -1.5);
}

TEST(decode_quirk, nested_events_decode) {
  const auto a = ok(decode_auto_task(R"({"status": 1, "result": {"events": [
    {"name": "train", "status": "running", "level": 1, "ordinal": 2, "create_time": 1606184400278,
     "elapsed_time": 30, "events": [{"name": "prepare", "status": "success", "error_code": "", "error_message": ""}]},
    {"name": "infer", "status": "failed", "error_code": "ModelArts.0010", "error_message": "Internal error.",
     "description": "inference"}]}})"));
  ASSERT_TRUE(a.result);
  ASSERT_EQ(a.result->events.size(), 2u);
  const auto& e = a.result->events[0];
  EXPECT_EQ(e.name, "train");
  EXPECT_EQ(e.status, "running");
  EXPECT_EQ(e.level, 1);
  EXPECT_EQ(e.ordinal, 2);
  EXPECT_EQ(e.create_time_ms, 1606184400278);
  EXPECT_EQ(e.elapsed_time, 30);
  ASSERT_EQ(e.events.size(), 1u);
  EXPECT_EQ(e.events[0].name, "prepare");
  EXPECT_EQ(a.result->events[1].error_code, "ModelArts.0010");
  EXPECT_EQ(a.result->events[1].error_message, "Internal error.");
  EXPECT_EQ(a.result->events[1].description, "inference");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "result": {"events": [{"events": [{"level": "high"}]}]}})")),
            "result.events[0].events[0].level: expected integer, got \"high\"");
}

TEST(decode_quirk, duplicate_keys_last_one_wins) {
  const auto w = ok(decode_workforce_task(R"({"task_id": "a", "status": 1, "status": 3, "task_id": "b"})"));
  EXPECT_EQ(w.task_id, "b");
  EXPECT_EQ(w.status_code, 3);
}

// ---- failure paths -------------------------------------------------------------------------

TEST(decode_failure, required_fields) {
  EXPECT_EQ(error_of(decode_auto_task("{}")), "status: missing required field");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": null})")), "status: missing required field");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"status": 1})")), "task_id: missing required field");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t"})")), "status: missing required field");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_name": "x"})")), "sample_id: missing required field");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": ""})")), "sample_id: must not be empty");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": true, "status": 1})")),
            "task_id: expected string, got true");
}

TEST(decode_failure, wrong_types_name_the_full_path) {
  EXPECT_EQ(error_of(decode_workforce_task(
                R"({"task_id": "t", "status": 1, "sample_stats": {"total_sample_count": "abc"}})")),
            "sample_stats.total_sample_count: expected integer, got \"abc\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1,
                "worker_stats": [{"sample_stats": {"accepted_sample_count": "many"}}]})")),
            "worker_stats[0].sample_stats.accepted_sample_count: expected integer, got \"many\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1,
                "worker_stats": [{}, {"sample_stats": {"accepted_sample_count": -2}}]})")),
            "worker_stats[1].sample_stats.accepted_sample_count: expected a non-negative count, got -2");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "sample_stats": 5})")),
            "sample_stats: expected object, got 5");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "worker_stats": {}})")),
            "worker_stats: expected array, got an object");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "worker_stats": [{}, "x"]})")),
            "worker_stats[1]: expected object, got \"x\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "task_name": false})")),
            "task_name: expected string, got false");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1, "auto_sync_dataset": "yes"})")),
            "auto_sync_dataset: expected boolean, got \"yes\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1,
                "workforces_config": {"workforces": [{"workers": [{"role": "admin"}]}]}})")),
            "workforces_config.workforces[0].workers[0].role: expected integer, got \"admin\"");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1,
                "checking_task_desc": {"checking_stats": {"pass_rate": "high"}}})")),
            "checking_task_desc.checking_stats.pass_rate: expected number, got \"high\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "hard_details": {"3": {"id": "three"}}})")),
            "hard_details.3.id: expected integer, got \"three\"");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "hard_details": {"3": 3}})")),
            "hard_details.3: expected object, got 3");
}

TEST(decode_failure, long_member_names_are_cut_in_paths) {
  const std::string key(100, 'k');
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s", "hard_details": {")" + key + R"(": {"id": true}}})")),
            "hard_details." + std::string(64, 'k') + "....id: expected integer, got true");
}

TEST(decode_failure, first_error_wins) {
  EXPECT_EQ(error_of(decode_workforce_task(
                R"({"task_id": "t", "status": 1, "sample_stats": {"total_sample_count": "a", "unannotated_sample_count": "b"}})")),
            "sample_stats.total_sample_count: expected integer, got \"a\"");
}

TEST(decode_failure, numeric_edge_values) {
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 9223372036854775808})")),
            "status: integer out of range: 9223372036854775808");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 123456789012345678901234567890})")),
            "status: integer out of range: 1.2345678901234568e+29");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "progress": 1e999})")),
            "progress: expected finite number, got inf");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "progress": "NaN"})")),
            "progress: expected number, got \"NaN\"");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": 1, "progress": "inf"})")),
            "progress: expected number, got \"inf\"");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": "0x10"})")), "status: expected integer, got \"0x10\"");
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": " 1"})")), "status: expected integer, got \" 1\"");
  const auto a = ok(decode_auto_task(R"({"status": -9223372036854775808})"));
  EXPECT_EQ(a.status_code, std::numeric_limits<std::int64_t>::min());
}

TEST(decode_failure, long_strings_are_cut_in_messages) {
  const std::string long_value(200, 'x');
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": ")" + long_value + "\"}")),
            "status: expected integer, got \"" + std::string(64, 'x') + "...\"");
  // Cut on a character boundary: 63 ASCII bytes then a 2-byte character straddling 64.
  const std::string utf8 = std::string(63, 'a') + "\xC3\xA9" + std::string(10, 'b');
  EXPECT_EQ(error_of(decode_auto_task(R"({"status": ")" + utf8 + "\"}")),
            "status: expected integer, got \"" + std::string(63, 'a') + "...\"");
}

TEST(decode_failure, bodies_that_are_not_one_json_object) {
  EXPECT_EQ(error_of(decode_auto_task("")), "empty body");
  EXPECT_EQ(error_of(decode_workforce_task(" \n ")), "empty body");
  EXPECT_EQ(error_of(decode_auto_task("<html>502 Bad Gateway</html>")),
            "invalid JSON at line 1, column 1 (byte 0): syntax error");
  EXPECT_EQ(error_of(decode_workforce_task("{\n  \"task_id\": \"t\",\n  \"status\": 1,\n}")),
            "invalid JSON at line 4, column 1 (byte 35): syntax error");
  EXPECT_EQ(error_of(decode_workforce_task(R"({"task_id": "t", "status": 1)")),
            "invalid JSON at line 1, column 29 (byte 28): incomplete JSON");
  EXPECT_EQ(error_of(decode_sample(R"({"sample_id": "s"} trailing)")),
            "invalid JSON at line 1, column 20 (byte 19): extra data");
  EXPECT_EQ(error_of(decode_sample("[{\"sample_id\": \"s\"}]")), "expected a JSON object, got an array");
  EXPECT_EQ(error_of(decode_sample("\"just a string\"")),
            "expected a JSON object, got \"just a string\"");
  EXPECT_EQ(error_of(decode_sample("null")), "expected a JSON object, got null");
  EXPECT_EQ(error_of(decode_sample("{\"sample_id\": \"\xff\"}")),
            "invalid JSON at line 1, column 16 (byte 15): syntax error");
}

TEST(decode_failure, message_without_path_is_the_problem_alone) {
  EXPECT_EQ((decode_error{"", "empty body"}).message(), "empty body");
  EXPECT_EQ((decode_error{"a.b", "bad"}).message(), "a.b: bad");
}

TEST(decode_failure, value_throws_system_error_with_the_message) {
  const auto r = decode_workforce_task(R"({"task_id": "t", "status": true})");
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::decode));
    EXPECT_NE(std::string(e.what()).find("status: expected integer, got true"), std::string::npos)
        << e.what();
  }
}
