#include "core/status.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;

TEST(status, auto_codes_map_to_design_names) {
  const std::pair<int, std::string_view> expected[] = {
      {-1, "queuing"},  {0, "initialized"}, {1, "running"}, {2, "failed"},
      {3, "succeeded"}, {4, "stopping"},    {5, "stopped"}, {6, "unknown"},
      {-2, "unknown"},  {100, "unknown"},
  };
  for (const auto& [code, name] : expected)
    EXPECT_EQ(to_string(auto_status_from_code(code)), name) << code;
}

TEST(status, workforce_codes_map_to_design_names) {
  const std::pair<int, std::string_view> expected[] = {
      {0, "starting"}, {1, "running"}, {2, "accepting"}, {3, "accepted"}, {4, "rejected"},
      {5, "syncing"},  {6, "created"}, {7, "sampling"},  {8, "unknown"},  {-1, "unknown"},
  };
  for (const auto& [code, name] : expected)
    EXPECT_EQ(to_string(workforce_status_from_code(code)), name) << code;
}

TEST(status, names_round_trip_and_state_sets_are_complete) {
  EXPECT_EQ(all_auto_statuses().size(), 8u);
  EXPECT_EQ(all_workforce_statuses().size(), 9u);
  for (auto s : all_auto_statuses()) EXPECT_EQ(parse_auto_status(to_string(s)), s);
  for (auto s : all_workforce_statuses()) EXPECT_EQ(parse_workforce_status(to_string(s)), s);
  EXPECT_FALSE(parse_auto_status("accepting"));
  EXPECT_FALSE(parse_workforce_status("Running"));
}

TEST(status, classes_follow_the_poll_design) {
  EXPECT_EQ(classify(auto_status::queuing), status_class::active);
  EXPECT_EQ(classify(auto_status::initialized), status_class::active);
  EXPECT_EQ(classify(auto_status::running), status_class::active);
  EXPECT_EQ(classify(auto_status::stopping), status_class::active);
  EXPECT_EQ(classify(auto_status::stopped), status_class::idle);
  EXPECT_EQ(classify(auto_status::succeeded), status_class::terminal);
  EXPECT_EQ(classify(auto_status::failed), status_class::terminal);
  EXPECT_EQ(classify(auto_status::unknown), status_class::active);

  for (auto s : {workforce_status::starting, workforce_status::running, workforce_status::accepting,
                 workforce_status::syncing, workforce_status::sampling, workforce_status::unknown})
    EXPECT_EQ(classify(s), status_class::active) << to_string(s);
  EXPECT_EQ(classify(workforce_status::created), status_class::idle);
  EXPECT_EQ(classify(workforce_status::rejected), status_class::idle);
  EXPECT_EQ(classify(workforce_status::accepted), status_class::terminal);
}

TEST(status, kind_agnostic_helpers) {
  EXPECT_EQ(status_name(task_kind::auto_labeling, 3), "succeeded");
  EXPECT_EQ(status_name(task_kind::workforce, 3), "accepted");
  EXPECT_EQ(status_class_of(task_kind::workforce, 6), status_class::idle);
  EXPECT_TRUE(is_known_status(task_kind::auto_labeling, -1));
  EXPECT_FALSE(is_known_status(task_kind::workforce, -1));
  EXPECT_EQ(parse_task_kind("auto"), task_kind::auto_labeling);
  EXPECT_EQ(parse_task_kind("workforce"), task_kind::workforce);
  EXPECT_FALSE(parse_task_kind("team"));
}
