// Auto-labeling sample quality (issue 10): what a list of auto-annotated samples (seed 002
// documents, already decoded) says about the batch, as plain numbers. Pure: no clocks,
// no I/O. One function feeds the daemon's metrics and events and the CLI summary, so the
// three always agree.
//
// What is counted (README "Sample quality" documents the same rules for operators):
// - Statuses: `sample_status` exactly as the API sent it ("UN_ANNOTATION" and other
//   undocumented values included; an absent status counts as ""). At most
//   k_max_status_names distinct names are kept; samples with further names count under
//   "other" (a misbehaving server must not explode the metric's cardinality).
// - Scores: every label that carries a score counts once ("label confidence"): a sample
//   with three detected objects contributes three scores, a classified sample one. A
//   configured label name's histogram counts the labels with exactly that name. Labels
//   without a score are not counted. Buckets are Prometheus `le` buckets: upper bounds
//   0.1 ... 1.0 inclusive, then +Inf (anything above 1; negative scores fall in le=0.1).
// - Quantiles p10/p50/p90: nearest rank over the same scores, i.e. the smallest score
//   such that at least q% of the scores are <= it (rank ceil(q*n/100), computed in
//   integers). Always a score that was observed; absent when there is none.
// - Hard samples: a sample is hard when `metadata["@modelarts:hard"]` or any label's
//   `property["@modelarts:hard"]` is true; when neither says anything (both absent) but
//   hard reasons are listed, the reasons make it hard. A flag that says false wins over
//   listed reasons.
// - Hard reasons: for a hard sample, the union of the reason ids in its metadata and in
//   every label's property, each id counted once per sample (the API repeats the same
//   reasons at both levels). Ids 0..30 are the documented ones (hard_reason_name);
//   others count under "undocumented".
// - Waiting for confirmation: every sample whose status is not one that means a person
//   has already dealt with it (__ALL__, __UNCHECK__, __ACCEPTED__, __REJECTED__,
//   __UNREVIEWED__, __REVIEWED__, __WORKFORCE_SAMPLED*); unknown statuses such as the
//   API example's UN_ANNOTATION count as waiting.
#pragma once

#include "modelarts/types.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch {

// ---- hard-example reasons (seed 002, `@modelarts:hard_reasons`) ----------------------

inline constexpr std::int64_t k_hard_reason_count = 31;  // documented ids 0..30

// Short stable name of a documented reason id ("no_target", "low_confidence", ...);
// empty outside 0..30. Names never change once released (they are metric labels).
std::string_view hard_reason_name(std::int64_t id) noexcept;
// The `reason` label value: "<id>_<name>" ("1_low_confidence"), or "undocumented".
std::string hard_reason_label(std::int64_t id);

// ---- statuses -------------------------------------------------------------------------

// False for the documented statuses that mean a person already labeled, reviewed or
// accepted the sample; true for everything else (see above).
bool sample_waiting(std::string_view sample_status) noexcept;

inline constexpr std::size_t k_max_status_names = 32;

// ---- score histogram -------------------------------------------------------------------

// Label confidence bucketed like the exported histogram: upper bounds 0.1, 0.2, ... 1.0
// (inclusive), then +Inf.
struct score_distribution {
  static constexpr std::array<double, 10> upper_bounds{0.1, 0.2, 0.3, 0.4, 0.5,
                                                       0.6, 0.7, 0.8, 0.9, 1.0};
  // The `le` label text of each bucket, +Inf last (what Prometheus prints).
  static constexpr std::array<std::string_view, 11> le_labels{
      "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1", "+Inf"};
  std::array<std::uint64_t, upper_bounds.size() + 1> counts{};  // per bucket, not cumulative
  double sum = 0.0;

  // Counts one score. NaN is ignored; negative scores count in the first bucket.
  void add(double score) noexcept;
  std::uint64_t count() const noexcept;
  // Cumulative count of bucket `i` (what `_bucket{le=...}` shows).
  std::uint64_t cumulative(std::size_t i) const noexcept;
  friend bool operator==(const score_distribution&, const score_distribution&) = default;
};

struct score_quantiles {
  double p10 = 0.0;
  double p50 = 0.0;
  double p90 = 0.0;
  friend bool operator==(const score_quantiles&, const score_quantiles&) = default;
};

// Nearest-rank quantile `percent` (1..100) of `sorted` (ascending, non-empty).
double nearest_rank(const std::vector<double>& sorted, unsigned percent) noexcept;
// p10/p50/p90 of `scores` (any order); nullopt when empty.
std::optional<score_quantiles> quantiles_of(std::vector<double> scores);

// ---- one sample ------------------------------------------------------------------------

struct sample_figures {
  bool hard = false;
  // Ids of a hard sample, ascending, each once (empty for a sample that is not hard).
  std::vector<std::int64_t> hard_reasons;
  // (label name, score) of every label with a score, in document order.
  std::vector<std::pair<std::string, double>> scores;
  std::optional<double> best_score;
  bool waiting = false;
  friend bool operator==(const sample_figures&, const sample_figures&) = default;
};

sample_figures figures_of(const modelarts::sample& s);

// ---- a batch ---------------------------------------------------------------------------

struct sample_quality {
  std::int64_t samples = 0;  // samples aggregated
  // The list's sample_count: every auto-annotated sample of the dataset, including those
  // a bounded round did not read. Set by the caller.
  std::optional<std::int64_t> dataset_samples;
  bool truncated = false;  // set by the caller: the round stopped at its maximum
  std::map<std::string, std::int64_t> by_status;  // raw status -> samples (see above)
  std::int64_t waiting = 0;
  score_distribution scores;  // every scored label
  std::optional<score_quantiles> quantiles;
  // Configured label names -> their labels' scores; every configured name is present.
  std::map<std::string, score_distribution> scores_by_label;
  std::map<std::string, std::optional<score_quantiles>> quantiles_by_label;
  std::int64_t hard_samples = 0;
  std::map<std::int64_t, std::int64_t> hard_reasons;  // reason id -> samples listing it
  friend bool operator==(const sample_quality&, const sample_quality&) = default;

  // Reason label value (hard_reason_label) -> samples; undocumented ids add up.
  std::map<std::string, std::int64_t> hard_reasons_by_label() const;
};

// Aggregates `samples` (see the rules at the top). `label_names` are the configured
// breakdown names (duplicates are harmless).
sample_quality summarize(const std::vector<modelarts::sample>& samples,
                         const std::vector<std::string>& label_names);

// The figures as JSON, as the sample_quality_round event and `labelwatch list samples
// --summary` print them:
//   {"samples", "dataset_samples"?, "truncated", "by_status": {raw: n}, "waiting",
//    "labels_scored", "score_p10"?, "score_p50"?, "score_p90"?,
//    "score_buckets": {"0.1": cumulative, ..., "1": n, "+Inf": n}, "score_sum",
//    "hard_samples", "hard_reasons": {"1_low_confidence": n, ...},
//    "by_label"?: {"car": {"labels_scored", "score_p50"?, "score_buckets"}}}
// The bucket counts are cumulative, exactly as modelarts_auto_annotation_label_score_bucket.
boost::json::object to_json(const sample_quality& q);

// ---- truncation ---------------------------------------------------------------------------

// Whether a bounded listing left samples unread. `left_over`: a new item arrived after the
// maximum was reached (certainly more). Otherwise only a listing that stopped at the
// maximum (`read >= max_samples`) with the list not at its end can be truncated, and then
// only when the list's `total` (sample_count) exceeds what was read or is unknown.
bool listing_truncated(bool left_over, std::size_t read, std::size_t max_samples, bool list_ended,
                       std::optional<std::int64_t> total) noexcept;

// ---- low-confidence crossings ------------------------------------------------------------

enum class confidence_change : std::uint8_t {
  none,
  dropped,    // the median fell below the threshold: emit low_confidence_batch
  recovered,  // it is back at or above the threshold: emit low_confidence_cleared
};

// Advances `low` (whether the dataset's last median was below the threshold) with a new
// round's median. No threshold: `low` becomes false silently. No median (no scored
// label): nothing changes. Otherwise exactly one event per crossing.
confidence_change next_confidence(bool& low, std::optional<double> median,
                                  std::optional<double> threshold) noexcept;

}  // namespace labelwatch
