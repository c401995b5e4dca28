#include "observe/views.hpp"

#include "fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::observe;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;
namespace fx = observe::fixtures;

TEST(task_view, from_seed_auto_task) {
  const auto v = make_task_view(fx::auto_key(), fx::seed_auto_task());
  EXPECT_EQ(v.kind, task_kind::auto_labeling);
  EXPECT_EQ(v.dataset_id, "WxCREuCkBSAlQr9xrde");
  EXPECT_EQ(v.task_id, "XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(v.status(), "running");
  ASSERT_TRUE(v.progress_ratio);
  EXPECT_DOUBLE_EQ(*v.progress_ratio, 0.1);
  EXPECT_THAT(v.samples, ElementsAre(Pair("total", 49), Pair("annotated", 30)));
  EXPECT_FALSE(v.failed());
}

TEST(task_view, failed_auto_task_keeps_the_api_error) {
  auto t = fx::seed_auto_task();
  t.status_code = 2;
  t.error_code = "ModelArts.4352";
  t.error_msg = "Training failed <oom>";
  const auto v = make_task_view(fx::auto_key(), t);
  EXPECT_TRUE(v.failed());
  EXPECT_EQ(v.status(), "failed");
  EXPECT_EQ(v.api_error_code, "ModelArts.4352");
  EXPECT_EQ(v.api_error_msg, "Training failed <oom>");
}

TEST(task_view, from_workforce_task_with_acceptance) {
  const auto v = make_task_view(fx::workforce_key(), fx::accepting_workforce_task());
  EXPECT_EQ(v.status(), "accepting");
  EXPECT_THAT(v.samples,
              ElementsAre(Pair("total", 317), Pair("unannotated", 310), Pair("unreviewed", 0),
                          Pair("uncheck", 0), Pair("sampled", 0), Pair("rejected", 0),
                          Pair("accepted", 7), Pair("auto_annotation", 0)));
  EXPECT_THAT(v.acceptance,
              ElementsAre(Pair("sampled", 63), Pair("checked", 50), Pair("accepted", 48),
                          Pair("rejected", 2), Pair("unchecked", 13)));
  ASSERT_TRUE(v.progress_ratio);
  EXPECT_DOUBLE_EQ(*v.progress_ratio, 7.0 / 317.0);
  EXPECT_DOUBLE_EQ(*v.acceptance_pass_rate, 0.96);
  EXPECT_EQ(v.acceptance_score, "A");
  EXPECT_DOUBLE_EQ(*v.pass_rate, 0.96);
  EXPECT_DOUBLE_EQ(*v.check_rate, 0.2);
  EXPECT_DOUBLE_EQ(*v.score, 87.5);
}

TEST(task_view, workforce_without_stats_has_no_progress) {
  auto t = fx::seed_workforce_task();
  t.stats.reset();
  t.pass_rate = 42.0;  // not a ratio: dropped
  const auto v = make_task_view(fx::workforce_key(), t);
  EXPECT_FALSE(v.progress_ratio);
  EXPECT_TRUE(v.samples.empty());
  EXPECT_FALSE(v.pass_rate);
}

TEST(format_age, two_most_significant_units) {
  EXPECT_EQ(format_age(0ms), "0s");
  EXPECT_EQ(format_age(-5s), "0s");
  EXPECT_EQ(format_age(45s), "45s");
  EXPECT_EQ(format_age(60s), "1m");
  EXPECT_EQ(format_age(200s), "3m 20s");
  EXPECT_EQ(format_age(3h + 12min + 59s), "3h 12m");
  EXPECT_EQ(format_age(2h), "2h");
  EXPECT_EQ(format_age(52h + 5min), "2d 4h");
}

namespace {
health_view healthy() {
  health_view h;
  h.now = from_unix_ms(1'700'000'000'000);
  h.last_loop_turn = h.now - 2s;
  h.config_loaded = true;
  h.auth_ok = true;
  h.first_poll_done = true;
  return h;
}
}  // namespace

TEST(health, liveness_follows_the_loop) {
  auto h = healthy();
  EXPECT_TRUE(evaluate_liveness(h).ok);
  h.last_loop_turn = h.now - 45s;
  const auto c = evaluate_liveness(h);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.reason, "event loop stalled for 45s");
  h.last_loop_turn.reset();
  EXPECT_FALSE(evaluate_liveness(h).ok);
}

TEST(health, readiness_lists_every_unmet_condition) {
  auto h = healthy();
  EXPECT_TRUE(evaluate_readiness(h).ok);
  EXPECT_EQ(evaluate_readiness(h).reason, "ready");
  h.auth_ok = false;
  h.auth_problem = "IAM answered 401 APIG.0301";
  h.first_poll_done = false;
  const auto c = evaluate_readiness(h);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.reason,
            "not ready: authentication not working: IAM answered 401 APIG.0301; "
            "first poll round not finished");
  h = health_view{};
  EXPECT_EQ(evaluate_readiness(h).reason,
            "not ready: configuration not loaded; authentication not working; first poll "
            "round not finished");
}
