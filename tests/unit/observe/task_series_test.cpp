#include "observe/task_series.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace labelwatch;
using observe::detail::task_record;
using observe::detail::task_series;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

namespace {

using label_list = std::vector<prometheus::ClientMetric::Label>;

void label_state(const task_record&, std::uint32_t id, label_list& out) {
  out.push_back({"state", "s" + std::to_string(id)});
}
void label_name(const task_record& t, std::uint32_t, label_list& out) {
  out.push_back({"task_name", t.strings.empty() ? std::string{} : t.strings[0]});
}
void label_none(const task_record&, std::uint32_t, label_list&) {}

task_series make() {
  return task_series({{"lw_state", "States.", label_state},
                      {"lw_info", "Info.", label_name},
                      {"lw_plain", "", label_none}});
}

task_key key(int i) {
  return {task_kind::workforce, "ds" + std::to_string(i % 3), "task" + std::to_string(i)};
}

std::vector<std::string> lines(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The same series rendered without any cache, straight through TextSerializer.
std::string uncached(const task_series& s) {
  return prometheus::TextSerializer{}.Serialize(s.collect());
}

std::string cached(task_series& s) {
  std::string out;
  s.serialize(out);
  return out;
}

}  // namespace

TEST(task_series, renders_like_text_serializer_with_sorted_labels) {
  auto s = make();
  auto& t = s.record(key(1));
  t.strings = {"a \"quoted\"\\name\nnext"};
  task_series::set(t, 0, 2, 5.0);
  task_series::set(t, 0, 0, 0.25);
  task_series::set(t, 1, 0, 1.0);
  task_series::set(t, 2, 0, 1606184400.278);
  const auto body = cached(s);
  EXPECT_THAT(lines(body),
              ElementsAre("# HELP lw_state States.", "# TYPE lw_state gauge",
                          R"(lw_state{dataset_id="ds1",state="s0",task_id="task1"} 0.25)",
                          R"(lw_state{dataset_id="ds1",state="s2",task_id="task1"} 5)",
                          "# HELP lw_info Info.", "# TYPE lw_info gauge",
                          R"(lw_info{dataset_id="ds1",task_id="task1",task_name="a \"quoted\"\\name\nnext"} 1)",
                          "# TYPE lw_plain gauge",
                          R"(lw_plain{dataset_id="ds1",task_id="task1"} 1606184400.278)"));
  EXPECT_EQ(body, uncached(s));
}

TEST(task_series, families_without_series_are_left_out_like_the_registry_does) {
  auto s = make();
  EXPECT_EQ(cached(s), "");
  auto& t = s.record(key(1));
  task_series::set(t, 2, 0, 1.0);
  task_series::set(t, 0, 0, 1.0);
  task_series::set(t, 0, 0, std::nullopt);
  EXPECT_THAT(lines(cached(s)), ElementsAre("# TYPE lw_plain gauge",
                                            R"(lw_plain{dataset_id="ds1",task_id="task1"} 1)"));
}

TEST(task_series, set_reports_changes_only) {
  auto s = make();
  auto& t = s.record(key(1));
  EXPECT_FALSE(task_series::set(t, 0, 1, std::nullopt));  // absent stays absent
  EXPECT_TRUE(task_series::set(t, 0, 1, 2.0));
  EXPECT_FALSE(task_series::set(t, 0, 1, 2.0));
  EXPECT_TRUE(task_series::set(t, 0, 1, 3.0));
  EXPECT_TRUE(task_series::set(t, 0, 1, std::nan("")));
  EXPECT_FALSE(task_series::set(t, 0, 1, std::nan("")));  // NaN stays NaN: no change
  EXPECT_TRUE(task_series::set(t, 0, 1, std::nullopt));
  EXPECT_FALSE(task_series::set(t, 0, 1, std::nullopt));
}

TEST(task_series, cached_text_follows_every_change) {
  auto s = make();
  auto& t = s.record(key(1));
  t.strings = {"first"};
  task_series::set(t, 1, 0, 1.0);
  task_series::set(t, 0, 0, 1.0);
  EXPECT_EQ(cached(s), uncached(s));

  task_series::set(t, 0, 0, 2.0);  // value
  EXPECT_THAT(cached(s), ::testing::HasSubstr(R"(state="s0",task_id="task1"} 2)"));
  t.strings = {"renamed"};  // label: needs touch
  task_series::touch(t, 1);
  EXPECT_THAT(cached(s), ::testing::HasSubstr(R"(task_name="renamed"} 1)"));
  task_series::set(t, 0, 0, std::nullopt);  // removal
  EXPECT_EQ(cached(s), uncached(s));
  EXPECT_THAT(cached(s), ::testing::Not(::testing::HasSubstr("state=\"s0\"")));
}

TEST(task_series, erase_if_and_remove) {
  auto s = make();
  for (int i = 0; i < 3; ++i) {
    auto& t = s.record(key(i));
    for (std::uint32_t id = 0; id < 4; ++id) task_series::set(t, 0, id, id);
  }
  task_series::erase_if(*s.find(key(1)), 0, [](std::uint32_t id) { return id % 2 == 1; });
  EXPECT_TRUE(s.remove(key(2)));
  EXPECT_FALSE(s.remove(key(2)));
  EXPECT_EQ(s.find(key(2)), nullptr);
  EXPECT_EQ(s.size(), 2u);
  const auto body = cached(s);
  EXPECT_EQ(body, uncached(s));
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 2 + 4 + 2);
}

// Random updates, removals and scrapes: the cached exposition always equals a fresh
// rendering of the same series.
TEST(task_series, randomised_against_uncached_rendering) {
  auto s = make();
  std::mt19937 rng(7);
  for (int round = 0; round < 60; ++round) {
    for (int op = 0; op < 40; ++op) {
      const int i = static_cast<int>(rng() % 25);
      const auto r = rng() % 10;
      if (r == 0) {
        s.remove(key(i));
        continue;
      }
      auto& t = s.record(key(i));
      if (r == 1) {
        t.strings = {"name" + std::to_string(rng() % 3)};
        task_series::touch(t, 1);
        task_series::set(t, 1, 0, 1.0);
      } else {
        const auto family = static_cast<std::uint8_t>(rng() % 3 == 0 ? 2 : 0);
        const auto id = static_cast<std::uint32_t>(rng() % 5);
        std::optional<double> v;
        if (rng() % 4 != 0) v = static_cast<double>(rng() % 7) / 2.0;
        task_series::set(t, family, family == 2 ? 0 : id, v);
      }
    }
    const auto body = cached(s);
    ASSERT_EQ(body, uncached(s)) << "round " << round;
  }
}
