#include "core/tracker.hpp"

#include "modelarts/decode.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

using namespace labelwatch;

namespace {

std::string seed(const std::string& name) {
  std::ifstream in(std::string(LABELWATCH_TEST_DATA_DIR) + "/seeds/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const sys_time t0 = from_unix_ms(1'700'000'000'000);

}  // namespace

TEST(tracker_restore, the_stored_body_rebuilds_the_snapshot) {
  const auto body = seed("001_workforce_task_detail.json");
  ASSERT_FALSE(body.empty());
  auto doc = modelarts::decode_workforce_task(body);
  ASSERT_TRUE(doc) << doc.error().message();
  const task_key key{task_kind::workforce, "WxCREuCkBSAlQr9xrde", "iYZx7gScPUozOXner9k"};
  const auto out = track(nullptr, key, *doc, body, t0, tracker_settings{});
  EXPECT_EQ(out.state.name, "task-e63f");
  EXPECT_NEAR(*out.state.progress, 100.0 * 7 / 317, 1e-9);

  tracked_task loaded = out.state;
  loaded.snapshot = std::monostate{};  // as the store returns it
  EXPECT_EQ(restore_snapshot(loaded), std::nullopt);
  ASSERT_TRUE(std::holds_alternative<modelarts::workforce_task>(loaded.snapshot));
  const auto& w = std::get<modelarts::workforce_task>(loaded.snapshot);
  EXPECT_EQ(w.stats->total_sample_count, 317);
  EXPECT_EQ(movement_fingerprint(w), out.state.fingerprint);
}

TEST(tracker_restore, auto_tasks_too) {
  const auto body = seed("000_auto_task_detail.json");
  auto doc = modelarts::decode_auto_task(body);
  ASSERT_TRUE(doc) << doc.error().message();
  tracked_task t = track(nullptr, task_key{task_kind::auto_labeling, "ds", "XGrRZuCV1qmMxnsmD5u"},
                           *doc, body, t0, tracker_settings{})
                       .state;
  t.snapshot = std::monostate{};
  EXPECT_EQ(restore_snapshot(t), std::nullopt);
  ASSERT_TRUE(std::holds_alternative<modelarts::auto_task>(t.snapshot));
  EXPECT_EQ(std::get<modelarts::auto_task>(t.snapshot).progress, 10.0);
}

TEST(tracker_restore, an_unreadable_body_leaves_no_snapshot_and_says_why) {
  tracked_task t;
  t.key = task_key{task_kind::auto_labeling, "ds", "a"};
  t.snapshot_json = R"({"task_id":"a","status":"abc"})";
  t.snapshot = modelarts::auto_task{};
  const auto err = restore_snapshot(t);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("status"), std::string::npos) << *err;
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.snapshot));
  t.snapshot_json.clear();  // never polled successfully: nothing to restore
  EXPECT_EQ(restore_snapshot(t), std::nullopt);
}
