// Sample-quality aggregation: the reason table, histogram bucket edges, reason counting
// across the documented field variants, nearest-rank quantiles, statuses, truncation and
// low-confidence crossings. Samples come through the real decoder from JSON text, so the
// variants are the ones the API pages show.
#include "core/sample_quality.hpp"

#include "modelarts/decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cmath>
#include <set>

using namespace labelwatch;
using ::testing::ElementsAre;
using ::testing::Pair;

namespace {

modelarts::sample decode(std::string_view json) {
  auto r = modelarts::decode_sample(json);
  if (!r) ADD_FAILURE() << r.error().message();
  return r ? *r : modelarts::sample{};
}

// A sample with one label per score (names "a", "b", ... unless given).
modelarts::sample scored(std::vector<double> scores, std::string status = "UN_ANNOTATION",
                         std::vector<std::string> names = {}) {
  modelarts::sample s;
  s.sample_id = "s";
  s.sample_status = std::move(status);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    modelarts::sample_label l;
    l.name = i < names.size() ? names[i] : std::string(1, static_cast<char>('a' + i));
    l.score = scores[i];
    s.labels.push_back(std::move(l));
  }
  return s;
}

std::size_t bucket_of(double score) {
  score_distribution d;
  d.add(score);
  for (std::size_t i = 0; i < d.counts.size(); ++i)
    if (d.counts[i] == 1) return i;
  return 99;
}

}  // namespace

TEST(hard_reasons, every_documented_id_has_a_distinct_stable_name) {
  std::set<std::string_view> names;
  for (std::int64_t id = 0; id < k_hard_reason_count; ++id) {
    const auto name = hard_reason_name(id);
    EXPECT_FALSE(name.empty()) << id;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos)
        << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 31u);
  // Released names are metric labels: these must never change.
  EXPECT_EQ(hard_reason_name(0), "no_target");
  EXPECT_EQ(hard_reason_name(1), "low_confidence");
  EXPECT_EQ(hard_reason_name(2), "cluster_inconsistent");
  EXPECT_EQ(hard_reason_name(7), "brightness_offset");
  EXPECT_EQ(hard_reason_name(12), "box_area_std_offset");
  EXPECT_EQ(hard_reason_name(19), "gaussian_blur_inconsistent");
  EXPECT_EQ(hard_reason_name(29), "invert_inconsistent");
  EXPECT_EQ(hard_reason_name(30), "abnormal_data");
  EXPECT_EQ(hard_reason_label(1), "1_low_confidence");
  EXPECT_EQ(hard_reason_label(20), "20_fliplr_inconsistent");
  EXPECT_TRUE(hard_reason_name(-1).empty());
  EXPECT_TRUE(hard_reason_name(31).empty());
  EXPECT_EQ(hard_reason_label(31), "undocumented");
  EXPECT_EQ(hard_reason_label(-4), "undocumented");
}

TEST(score_distribution, buckets_are_upper_inclusive_like_le) {
  EXPECT_EQ(bucket_of(-0.5), 0u);
  EXPECT_EQ(bucket_of(0.0), 0u);
  EXPECT_EQ(bucket_of(0.1), 0u);
  EXPECT_EQ(bucket_of(std::nextafter(0.1, 1.0)), 1u);
  EXPECT_EQ(bucket_of(0.2), 1u);
  // The same double the decoder reads from "0.3", not 0.1 + 0.2 (which is above 0.3).
  EXPECT_EQ(
      bucket_of(decode(R"({"sample_id":"x","labels":[{"score":0.3}]})").labels[0].score.value()),
      2u);
  EXPECT_EQ(bucket_of(0.1 + 0.2), 3u);
  EXPECT_EQ(bucket_of(0.7), 6u);
  EXPECT_EQ(bucket_of(0.71), 7u);
  EXPECT_EQ(bucket_of(0.9), 8u);
  EXPECT_EQ(bucket_of(0.95), 9u);
  EXPECT_EQ(bucket_of(1.0), 9u);
  EXPECT_EQ(bucket_of(std::nextafter(1.0, 2.0)), 10u);  // +Inf only
  EXPECT_EQ(bucket_of(7.0), 10u);

  score_distribution d;
  d.add(std::nan(""));
  EXPECT_EQ(d.count(), 0u);
  for (double s : {0.05, 0.15, 0.15, 0.95, 1.5}) d.add(s);
  EXPECT_EQ(d.count(), 5u);
  EXPECT_DOUBLE_EQ(d.sum, 2.8);
  EXPECT_EQ(d.cumulative(0), 1u);
  EXPECT_EQ(d.cumulative(1), 3u);
  EXPECT_EQ(d.cumulative(8), 3u);
  EXPECT_EQ(d.cumulative(9), 4u);
  EXPECT_EQ(d.cumulative(10), 5u);
  EXPECT_EQ(score_distribution::le_labels[9], "1");
  EXPECT_EQ(score_distribution::le_labels[10], "+Inf");
}

TEST(quantiles, nearest_rank_in_integers) {
  EXPECT_EQ(quantiles_of({}), std::nullopt);
  EXPECT_EQ(quantiles_of({0.4}), (score_quantiles{0.4, 0.4, 0.4}));
  // n = 3: ranks ceil(0.3) = 1, ceil(1.5) = 2, ceil(2.7) = 3.
  EXPECT_EQ(quantiles_of({0.9, 0.2, 0.5}), (score_quantiles{0.2, 0.5, 0.9}));
  // n = 10: ranks 1, 5, 9; the median is the lower middle, a score that was observed.
  EXPECT_EQ(quantiles_of({1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1}),
            (score_quantiles{0.1, 0.5, 0.9}));
  // n = 11: ranks 2, 6, 10.
  EXPECT_EQ(quantiles_of({0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}),
            (score_quantiles{0.1, 0.5, 0.9}));
  // n = 2000: exactly rank 200, 1000, 1800 (a double product could round past them).
  std::vector<double> many;
  for (int i = 1; i <= 2000; ++i) many.push_back(i / 2000.0);
  const auto q = quantiles_of(many).value();
  EXPECT_EQ(q.p10, 200 / 2000.0);
  EXPECT_EQ(q.p50, 1000 / 2000.0);
  EXPECT_EQ(q.p90, 1800 / 2000.0);
  EXPECT_EQ(nearest_rank({0.1, 0.2}, 100), 0.2);
  EXPECT_EQ(nearest_rank({0.1, 0.2}, 1), 0.1);
}

TEST(sample_figures, seed_002_example_is_not_hard) {
  // The API page's example: label "@modelarts:hard": "false", metadata false, [].
  const auto s = decode(R"({
    "sample_id" : "0059c1b9458a2da9443af684b5099b4e", "sample_type" : 0,
    "labels" : [ { "name" : "Bees", "type" : 0, "id" : "1",
      "property" : { "@modelarts:hard_coefficient" : "0.0", "@modelarts:hard" : "false" },
      "score" : 0.66 } ],
    "metadata" : { "@modelarts:hard_coefficient" : 0.0, "@modelarts:hard" : false,
      "@modelarts:import_origin" : 0, "@modelarts:hard_reasons" : [ ] },
    "sample_time" : 1600490651933, "sample_status" : "UN_ANNOTATION" })");
  const auto f = figures_of(s);
  EXPECT_FALSE(f.hard);
  EXPECT_TRUE(f.hard_reasons.empty());
  EXPECT_TRUE(f.waiting);
  ASSERT_EQ(f.scores.size(), 1u);
  EXPECT_EQ(f.scores[0], (std::pair<std::string, double>{"Bees", 0.66}));
  EXPECT_EQ(f.best_score, 0.66);
}

TEST(sample_figures, reasons_from_labels_and_metadata_count_once_per_sample) {
  // Label text "3-20-21-19", metadata ints repeating some of them, a second label
  // repeating again: each id once.
  const auto s = decode(R"({"sample_id": "x",
    "labels": [
      {"name": "car", "score": 0.4,
       "property": {"@modelarts:hard": "true", "@modelarts:hard_reasons": "3-20-21-19"}},
      {"name": "bus", "score": "0.9",
       "property": {"@modelarts:hard": "1", "@modelarts:hard_reasons": "20-20"}}],
    "metadata": {"@modelarts:hard": 1.0, "@modelarts:hard_reasons": [19, 3, 30, 45]}})");
  const auto f = figures_of(s);
  EXPECT_TRUE(f.hard);
  EXPECT_EQ(f.hard_reasons, (std::vector<std::int64_t>{3, 19, 20, 21, 30, 45}));
  EXPECT_EQ(f.best_score, 0.9);

  const auto q = summarize({s, s}, {});
  EXPECT_EQ(q.hard_samples, 2);
  EXPECT_THAT(q.hard_reasons, ElementsAre(Pair(3, 2), Pair(19, 2), Pair(20, 2), Pair(21, 2),
                                          Pair(30, 2), Pair(45, 2)));
  EXPECT_THAT(
      q.hard_reasons_by_label(),
      ElementsAre(Pair("19_gaussian_blur_inconsistent", 2), Pair("20_fliplr_inconsistent", 2),
                  Pair("21_crop_inconsistent", 2), Pair("30_abnormal_data", 2),
                  Pair("3_training_outlier", 2), Pair("undocumented", 2)));
}

TEST(sample_figures, which_flag_makes_a_sample_hard) {
  // Label says false, metadata says true: hard (either level suffices).
  EXPECT_TRUE(figures_of(decode(R"({"sample_id": "x",
    "labels": [{"property": {"@modelarts:hard": "false"}}],
    "metadata": {"@modelarts:hard": true, "@modelarts:hard_reasons": [1]}})"))
                  .hard);
  // Metadata missing entirely, label says "true".
  const auto label_only = figures_of(decode(R"({"sample_id": "x",
    "labels": [{"property": {"@modelarts:hard": "True", "@modelarts:hard_reasons": "7"}}]})"));
  EXPECT_TRUE(label_only.hard);
  EXPECT_EQ(label_only.hard_reasons, (std::vector<std::int64_t>{7}));
  // No flag anywhere, reasons listed: the reasons make it hard.
  const auto reasons_only = figures_of(decode(R"({"sample_id": "x",
    "metadata": {"@modelarts:hard_reasons": [0, 1]}})"));
  EXPECT_TRUE(reasons_only.hard);
  EXPECT_EQ(reasons_only.hard_reasons, (std::vector<std::int64_t>{0, 1}));
  // An explicit false wins over listed reasons, which are then not counted.
  const auto said_no = figures_of(decode(R"({"sample_id": "x",
    "metadata": {"@modelarts:hard": 0, "@modelarts:hard_reasons": [1]}})"));
  EXPECT_FALSE(said_no.hard);
  EXPECT_TRUE(said_no.hard_reasons.empty());
  // Missing metadata and no labels: nothing to say.
  const auto bare = figures_of(decode(R"({"sample_id": "x"})"));
  EXPECT_FALSE(bare.hard);
  EXPECT_FALSE(bare.best_score);
  EXPECT_TRUE(bare.waiting);
}

TEST(sample_figures, waiting_means_no_person_has_dealt_with_it) {
  for (const auto* s : {"UN_ANNOTATION", "__AUTO_ANNOTATION__", "__NONE__", "", "SOMETHING_NEW"})
    EXPECT_TRUE(sample_waiting(s)) << s;
  for (const auto* s :
       {"__ALL__", "__UNCHECK__", "__ACCEPTED__", "__REJECTED__", "__UNREVIEWED__", "__REVIEWED__",
        "__WORKFORCE_SAMPLED__", "__WORKFORCE_SAMPLED_UNCHECK__", "__WORKFORCE_SAMPLED_CHECKED__",
        "__WORKFORCE_SAMPLED_ACCEPTED__", "__WORKFORCE_SAMPLED_REJECTED__"})
    EXPECT_FALSE(sample_waiting(s)) << s;
}

TEST(summarize, statuses_verbatim_scores_per_label_and_breakdown) {
  std::vector<modelarts::sample> batch{
      scored({0.95}, "__AUTO_ANNOTATION__", {"car"}),
      scored({0.2, 0.6, 0.61}, "UN_ANNOTATION", {"car", "bus", "Car"}),
      scored({}, "__ALL__"),
      scored({0.1}, "", {"truck"}),
  };
  const auto q = summarize(batch, {"car", "bus", "bicycle"});
  EXPECT_EQ(q.samples, 4);
  EXPECT_THAT(q.by_status, ElementsAre(Pair("", 1), Pair("UN_ANNOTATION", 1), Pair("__ALL__", 1),
                                       Pair("__AUTO_ANNOTATION__", 1)));
  EXPECT_EQ(q.waiting, 3);
  // Every scored label counts once: 5 scores from 4 samples.
  EXPECT_EQ(q.scores.count(), 5u);
  EXPECT_EQ(q.quantiles, (score_quantiles{0.1, 0.6, 0.95}));
  // Exact names only ("Car" is not "car"); configured names appear even when empty.
  ASSERT_EQ(q.scores_by_label.size(), 3u);
  EXPECT_EQ(q.scores_by_label.at("car").count(), 2u);
  EXPECT_EQ(q.scores_by_label.at("bus").count(), 1u);
  EXPECT_EQ(q.scores_by_label.at("bicycle").count(), 0u);
  EXPECT_EQ(q.quantiles_by_label.at("car"), (score_quantiles{0.2, 0.2, 0.95}));
  EXPECT_EQ(q.quantiles_by_label.at("bicycle"), std::nullopt);
  EXPECT_EQ(q.hard_samples, 0);
}

TEST(summarize, status_names_are_capped) {
  std::vector<modelarts::sample> batch;
  for (std::size_t i = 0; i < k_max_status_names + 5; ++i)
    batch.push_back(scored({0.5}, "S" + std::to_string(i)));
  batch.push_back(scored({0.5}, "S0"));
  const auto q = summarize(batch, {});
  EXPECT_EQ(q.by_status.size(), k_max_status_names + 1);
  EXPECT_EQ(q.by_status.at("other"), 5);
  EXPECT_EQ(q.by_status.at("S0"), 2);
  std::int64_t total = 0;
  for (const auto& [k, n] : q.by_status) total += n;
  EXPECT_EQ(total, q.samples);
}

TEST(summarize, json_matches_the_exported_histogram) {
  auto q = summarize({scored({0.1, 0.15}), scored({0.95}, "__AUTO_ANNOTATION__")}, {"a"});
  q.dataset_samples = 10;
  q.truncated = true;
  const auto j = to_json(q);
  EXPECT_EQ(j.at("samples").as_int64(), 2);
  EXPECT_EQ(j.at("dataset_samples").as_int64(), 10);
  EXPECT_TRUE(j.at("truncated").as_bool());
  EXPECT_EQ(j.at("waiting").as_int64(), 2);
  EXPECT_EQ(j.at("labels_scored").as_uint64(), 3u);
  EXPECT_EQ(j.at("score_p10").as_double(), 0.1);
  EXPECT_EQ(j.at("score_p50").as_double(), 0.15);
  EXPECT_EQ(j.at("score_p90").as_double(), 0.95);
  const auto& b = j.at("score_buckets").as_object();
  EXPECT_EQ(b.size(), 11u);
  EXPECT_EQ(b.at("0.1").as_uint64(), 1u);
  EXPECT_EQ(b.at("0.2").as_uint64(), 2u);
  EXPECT_EQ(b.at("0.9").as_uint64(), 2u);
  EXPECT_EQ(b.at("1").as_uint64(), 3u);
  EXPECT_EQ(b.at("+Inf").as_uint64(), 3u);
  EXPECT_EQ(j.at("by_label").at("a").at("labels_scored").as_uint64(), 2u);
  EXPECT_EQ(j.at("hard_samples").as_int64(), 0);
  EXPECT_TRUE(j.at("hard_reasons").as_object().empty());
  // No scores: no quantiles at all (never a made-up 0).
  const auto empty = to_json(summarize({scored({})}, {}));
  EXPECT_FALSE(empty.contains("score_p50"));
  EXPECT_FALSE(empty.contains("by_label"));
}

TEST(truncation, only_when_samples_were_left_unread) {
  // A new item after the maximum: certainly truncated.
  EXPECT_TRUE(listing_truncated(true, 100, 100, false, std::nullopt));
  EXPECT_TRUE(listing_truncated(true, 100, 100, true, 100));
  // Below the maximum: the list ended by itself.
  EXPECT_FALSE(listing_truncated(false, 99, 100, false, 250));
  // At the maximum, list ended (or total reached): complete.
  EXPECT_FALSE(listing_truncated(false, 100, 100, true, 100));
  EXPECT_FALSE(listing_truncated(false, 100, 100, false, 100));
  // At the maximum with pages left: the total decides; unknown means "maybe more".
  EXPECT_TRUE(listing_truncated(false, 100, 100, false, 101));
  EXPECT_TRUE(listing_truncated(false, 100, 100, false, std::nullopt));
}

TEST(low_confidence, one_event_per_crossing) {
  bool low = false;
  const std::optional<double> t = 0.6;
  EXPECT_EQ(next_confidence(low, 0.7, t), confidence_change::none);
  EXPECT_EQ(next_confidence(low, 0.59, t), confidence_change::dropped);
  EXPECT_TRUE(low);
  EXPECT_EQ(next_confidence(low, 0.3, t), confidence_change::none);  // still low: no repeat
  EXPECT_EQ(next_confidence(low, std::nullopt, t), confidence_change::none);  // no scores
  EXPECT_TRUE(low);
  EXPECT_EQ(next_confidence(low, 0.6, t), confidence_change::recovered);  // at the threshold
  EXPECT_FALSE(low);
  EXPECT_EQ(next_confidence(low, 0.65, t), confidence_change::none);
  EXPECT_EQ(next_confidence(low, 0.1, t), confidence_change::dropped);
  // The threshold removed: forget quietly.
  EXPECT_EQ(next_confidence(low, 0.1, std::nullopt), confidence_change::none);
  EXPECT_FALSE(low);
}
