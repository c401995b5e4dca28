#include "sim/journal.hpp"

#include <gtest/gtest.h>

namespace sim = labelwatch::sim;

namespace {
sim::journal_entry entry(std::string method, sim::endpoint e, std::string task, int status) {
  sim::journal_entry j;
  j.method = std::move(method);
  j.target = e;
  j.task_id = std::move(task);
  j.status = status;
  j.auth = "ok";
  return j;
}
}  // namespace

TEST(journal, sequence_numbers_and_since) {
  sim::journal j;
  EXPECT_EQ(j.last_seq(), 0u);
  EXPECT_EQ(j.append(entry("GET", sim::endpoint::auto_task, "a", 200)), 1u);
  EXPECT_EQ(j.append(entry("PUT", sim::endpoint::acceptance, "w", 200)), 2u);
  EXPECT_EQ(j.append(entry("GET", sim::endpoint::workforce_task, "w", 429)), 3u);
  auto q = j.query({.since = 1});
  ASSERT_EQ(q.at("entries").as_array().size(), 2u);
  EXPECT_EQ(q.at("entries").as_array()[0].as_object().at("seq").as_uint64(), 2u);
  EXPECT_EQ(q.at("last_seq").as_uint64(), 3u);
  EXPECT_TRUE(j.query({.since = 3}).at("entries").as_array().empty());
}

TEST(journal, filters) {
  sim::journal j;
  j.append(entry("GET", sim::endpoint::auto_task, "a", 200));
  j.append(entry("PUT", sim::endpoint::acceptance, "w", 200));
  j.append(entry("PUT", sim::endpoint::acceptance, "w2", 400));
  EXPECT_EQ(j.query({.method = "PUT"}).at("entries").as_array().size(), 2u);
  EXPECT_EQ(j.query({.target = sim::endpoint::acceptance, .task_id = "w"})
                .at("entries")
                .as_array()
                .size(),
            1u);
  EXPECT_EQ(j.query({.status = 400}).at("entries").as_array().size(), 1u);
  EXPECT_EQ(j.query({.limit = 1}).at("entries").as_array().size(), 1u);
}

TEST(journal, bounded_capacity_drops_the_oldest) {
  sim::journal j(3);
  for (int i = 0; i < 5; ++i) j.append(entry("GET", sim::endpoint::auto_task, "a", 200));
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.oldest_seq(), 3u);
  const auto q = j.query({});
  EXPECT_EQ(q.at("dropped").as_uint64(), 2u);
  EXPECT_EQ(q.at("entries").as_array()[0].as_object().at("seq").as_uint64(), 3u);
  j.set_duration(1, 5);  // dropped: ignored
  j.set_duration(4, 7);
  EXPECT_EQ(
      j.query({.since = 3}).at("entries").as_array()[0].as_object().at("duration_ms").as_int64(),
      7);
}

TEST(journal, bodies_are_truncated_and_absent_fields_are_null) {
  sim::journal j(10, 8);
  auto e = entry("PUT", sim::endpoint::acceptance, "w", 200);
  e.body = R"({"action": 0, "overwrite_last_result": false})";
  j.append(std::move(e));
  const auto o = j.query({}).at("entries").as_array()[0].as_object();
  EXPECT_EQ(o.at("body").as_string().size(), 8u);
  EXPECT_TRUE(o.at("fault").is_null());
  EXPECT_TRUE(o.at("duration_ms").is_null());
  EXPECT_EQ(o.at("endpoint").as_string(), "acceptance");
}
