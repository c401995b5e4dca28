#include "core/event.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;

TEST(event, task_event_line_has_common_fields_first) {
  auto e = make_task_event(from_unix_ms(1606184400278), event_level::info, "task_status_changed",
                           task_key{task_kind::workforce, "ds1", "t1"}, "task-e63f");
  e.fields["from"] = "running";
  e.fields["to"] = "accepting";
  EXPECT_EQ(e.to_json_line(),
            R"({"ts":"2020-11-24T02:20:00.278Z","level":"info","event":"task_status_changed",)"
            R"("kind":"workforce","dataset_id":"ds1","task_id":"t1","task_name":"task-e63f",)"
            R"("from":"running","to":"accepting"})");
}

TEST(event, non_task_event_has_no_task_fields_and_escapes_strings) {
  event e;
  e.ts = from_unix_ms(0);
  e.level = event_level::error;
  e.name = "config_rejected";
  e.fields["errors"] = boost::json::array{"a.toml:3: poll.max_rate: \"x\"\n"};
  EXPECT_EQ(e.to_json_line(),
            R"({"ts":"1970-01-01T00:00:00.000Z","level":"error","event":"config_rejected",)"
            R"("errors":["a.toml:3: poll.max_rate: \"x\"\n"]})");
}
