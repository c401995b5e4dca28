#include "config/config.hpp"
#include "config/reader.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::config;

TEST(config, action_names_round_trip) {
  for (auto a : {acceptance_action::pass_all, acceptance_action::reject_all, acceptance_action::cancel,
                 acceptance_action::pass_single_and_unprocessed, acceptance_action::pass_single}) {
    const auto name = to_string(a);
    EXPECT_EQ(parse_acceptance_action(name), a) << name;
  }
  EXPECT_EQ(to_string(acceptance_action::pass_single_and_unprocessed), "pass_single_and_unprocessed");
  EXPECT_EQ(static_cast<int>(acceptance_action::pass_single), 5);
  EXPECT_FALSE(parse_acceptance_action("Pass_All"));
  EXPECT_FALSE(parse_acceptance_action("3"));
  EXPECT_FALSE(parse_acceptance_action(""));
}

TEST(config, enum_names) {
  EXPECT_EQ(to_string(auth_method::aksk), "aksk");
  EXPECT_EQ(to_string(auth_method::token), "token");
  EXPECT_EQ(to_string(auth_method::none), "none");
  EXPECT_EQ(to_string(acceptance_mode::dry_run), "dry-run");
  EXPECT_EQ(to_string(acceptance_mode::enforce), "enforce");
}

TEST(config, error_to_string_leaves_out_unknown_parts) {
  EXPECT_EQ((config_error{"a.toml", "poll.max_rate", 7, "bad"}.to_string()), "a.toml:7: poll.max_rate: bad");
  EXPECT_EQ((config_error{"a.toml", "poll.max_rate", 0, "bad"}.to_string()), "a.toml: poll.max_rate: bad");
  EXPECT_EQ((config_error{"a.toml", "", 3, "bad"}.to_string()), "a.toml:3: bad");
  EXPECT_EQ((config_error{"", "k", 0, "bad"}.to_string()), "k: bad");
  EXPECT_EQ((config_error{"", "", 0, "bad"}.to_string()), "bad");
}
