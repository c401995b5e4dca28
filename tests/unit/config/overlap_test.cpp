// Two rules that could both match one task must agree on what to do.
#include "config/reader.hpp"
#include "config_test_util.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::config;
using namespace labelwatch::config::testing;

namespace {

constexpr std::string_view k_watches = R"(
[[watch]]
dataset_id = "a"
[[watch]]
dataset_id = "b"
)";

struct overlap_case {
  std::string_view name;
  std::string_view first;   // body of rule "one" (name is added)
  std::string_view second;  // body of rule "two"
  bool overlaps;
};

const overlap_case k_cases[] = {
    {"same_scope_different_action", "action = \"pass_all\"", "action = \"reject_all\"", true},
    {"same_scope_same_action", "action = \"pass_all\"", "action = \"pass_all\"", false},
    {"same_action_different_overwrite", "action = \"pass_all\"",
     "action = \"pass_all\"\noverwrite_last_result = true", true},
    {"disjoint_datasets", "action = \"pass_all\"\ndatasets = [\"a\"]", "action = \"reject_all\"\ndatasets = [\"b\"]",
     false},
    {"star_meets_everything", "action = \"pass_all\"\ndatasets = [\"*\"]", "action = \"reject_all\"\ndatasets = [\"b\"]",
     true},
    {"shared_dataset", "action = \"pass_all\"\ndatasets = [\"a\", \"b\"]",
     "action = \"reject_all\"\ndatasets = [\"b\"]", true},
    {"disjoint_statuses", "action = \"pass_all\"\nwhen_status = [\"accepting\"]",
     "action = \"cancel\"\nwhen_status = [\"sampling\", \"running\"]", false},
    {"shared_status", "action = \"pass_all\"\nwhen_status = [\"accepting\", \"sampling\"]",
     "action = \"cancel\"\nwhen_status = [\"sampling\"]", true},
    {"default_status_is_accepting", "action = \"pass_all\"", "action = \"cancel\"\nwhen_status = [\"accepting\"]",
     true},
    {"pass_rates_apart", "action = \"pass_all\"\nmin_pass_rate = 0.9",
     "action = \"reject_all\"\nmax_pass_rate = 0.5", false},
    {"pass_rates_touch", "action = \"pass_all\"\nmin_pass_rate = 0.9",
     "action = \"reject_all\"\nmax_pass_rate = 0.9", true},
    {"pass_rates_cross", "action = \"pass_all\"\nmin_pass_rate = 0.5",
     "action = \"reject_all\"\nmax_pass_rate = 0.9", true},
    {"closed_intervals_apart", "action = \"pass_all\"\nmin_pass_rate = 0.95\nmax_pass_rate = 1",
     "action = \"reject_all\"\nmin_pass_rate = 0\nmax_pass_rate = 0.94", false},
    {"interval_inside_open_bound", "action = \"pass_all\"\nmin_pass_rate = 0.2\nmax_pass_rate = 0.3",
     "action = \"reject_all\"\nmax_pass_rate = 0.25", true},
    {"unbounded_meets_bounded", "action = \"pass_all\"", "action = \"reject_all\"\nmax_pass_rate = 0.1", true},
    {"other_conditions_do_not_separate",
     "action = \"pass_all\"\nmin_checked_samples = 100\nrequire_sampling_complete = true\nmax_conflicts = 0",
     "action = \"reject_all\"\nmin_checked_samples = 0\nrequire_sampling_complete = false\nmax_conflicts = 5",
     true},
    {"mode_does_not_separate", "action = \"pass_all\"\nmode = \"dry-run\"",
     "action = \"reject_all\"\nmode = \"enforce\"", true},
};

void PrintTo(const overlap_case& c, std::ostream* os) { *os << c.name; }

class overlap : public ::testing::TestWithParam<overlap_case> {};

}  // namespace

TEST_P(overlap, is_detected_exactly_when_rules_can_meet) {
  const auto& c = GetParam();
  const std::string doc = with_cloud(std::string{k_watches} + "[[acceptance.rule]]\nname = \"one\"\n" +
                                     std::string{c.first} + "\n[[acceptance.rule]]\nname = \"two\"\n" +
                                     std::string{c.second} + "\n");
  const auto errors = errors_of(doc);
  if (!c.overlaps) {
    EXPECT_TRUE(errors.empty()) << doc << "\n" << dump(errors);
    return;
  }
  ASSERT_EQ(errors.size(), 1u) << doc << "\n" << dump(errors);
  EXPECT_EQ(errors[0].key, "acceptance.rule[1]");
  EXPECT_TRUE(errors[0].message.starts_with("rule \"two\" overlaps rule \"one\" (line 9)")) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(config, overlap, ::testing::ValuesIn(k_cases),
                         [](const auto& p) { return std::string{p.param.name}; });

TEST(overlap_message, names_both_rules_their_lines_and_the_shared_ground) {
  const auto errors = errors_of(with_cloud(R"([[watch]]
dataset_id = "a"

[[acceptance.rule]]
name = "pass-good"
datasets = ["*"]
when_status = ["accepting", "sampling"]
min_pass_rate = 0.9
action = "pass_all"

[[acceptance.rule]]
name = "reject-bad"
datasets = ["a"]
when_status = ["accepting"]
max_pass_rate = 0.95
action = "reject_all"
)"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].to_string(),
            "t.toml:14: acceptance.rule[1]: rule \"reject-bad\" overlaps rule \"pass-good\" (line 7): both "
            "could act on one task (dataset \"a\", status accepting, pass_rate 0.9..0.95) with different "
            "actions (reject_all here, pass_all there); make their datasets, when_status or pass-rate "
            "bounds disjoint, or give them the same action");
}

TEST(overlap_message, different_overwrite_is_explained) {
  const auto errors = errors_of(with_cloud(R"([[acceptance.rule]]
name = "x"
action = "pass_single"
[[acceptance.rule]]
name = "y"
action = "pass_single"
overwrite_last_result = true
min_pass_rate = 1
)"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].message,
            "rule \"y\" overlaps rule \"x\" (line 4): both could act on one task (every dataset, status "
            "accepting, pass_rate >= 1) with different overwrite_last_result (true here, false there); make "
            "their datasets, when_status or pass-rate bounds disjoint, or give them the same action");
}

TEST(overlap_message, every_conflicting_pair_is_reported) {
  const auto errors = errors_of(with_cloud(R"([[acceptance.rule]]
name = "a"
action = "pass_all"
[[acceptance.rule]]
name = "b"
action = "reject_all"
[[acceptance.rule]]
name = "c"
action = "cancel"
[[acceptance.rule]]
name = "d"
action = "pass_all"
)"));
  // b-a, c-a, c-b, d-b, d-c; d-a share an action.
  ASSERT_EQ(errors.size(), 5u) << dump(errors);
  EXPECT_EQ(errors[0].key, "acceptance.rule[1]");
  EXPECT_EQ(errors[4].key, "acceptance.rule[3]");
}

TEST(overlap_message, a_rule_with_errors_is_not_compared) {
  // "two" has an invalid action: one error for it, no overlap noise on top.
  const auto errors = errors_of(with_cloud(R"([[acceptance.rule]]
name = "one"
action = "pass_all"
[[acceptance.rule]]
name = "two"
action = "rejectall"
)"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].key, "acceptance.rule[1].action");
}
