// Sample-quality aggregation (see sample_quality.hpp for the counting rules).
#include "core/sample_quality.hpp"

#include <algorithm>
#include <cmath>

namespace labelwatch {
namespace {

namespace json = boost::json;

// Seed 002, `@modelarts:hard_reasons`. The API page's "frames" (11-18) are the bounding
// boxes of object detection; 19-29 compare a prediction on an augmented copy of the
// image with the prediction on the original.
constexpr std::array<std::string_view, k_hard_reason_count> k_reason_names{
    "no_target",                // 0  no target objects are identified
    "low_confidence",           // 1  the confidence is low
    "cluster_inconsistent",     // 2  clustering on the training set disagrees with the prediction
    "training_outlier",         // 3  prediction far from same-type data in the training set
    "sequence_inconsistent",    // 4  consecutive similar images predicted differently
    "resolution_offset",        // 5  image resolution vs training distribution
    "aspect_ratio_offset",      // 6  image aspect ratio
    "brightness_offset",        // 7  image brightness
    "saturation_offset",        // 8  image saturation
    "color_richness_offset",    // 9  image colour richness
    "definition_offset",        // 10 image definition (sharpness)
    "box_count_offset",         // 11 number of boxes
    "box_area_std_offset",      // 12 standard deviation of box areas
    "box_aspect_ratio_offset",  // 13 box aspect ratio
    "box_area_ratio_offset",    // 14 share of the image the boxes cover
    "box_edge_offset",          // 15 box edges
    "box_brightness_offset",    // 16 box brightness
    "box_definition_offset",    // 17 box definition
    "box_stack_offset",         // 18 stacking (overlap) of boxes
    "gaussian_blur_inconsistent",  // 19 augmentation: GaussianBlur
    "fliplr_inconsistent",         // 20 augmentation: fliplr
    "crop_inconsistent",           // 21 augmentation: Crop
    "flipud_inconsistent",         // 22 augmentation: flipud
    "scale_inconsistent",          // 23 augmentation: scale
    "translate_inconsistent",      // 24 augmentation: translate
    "shear_inconsistent",          // 25 augmentation: shear
    "superpixels_inconsistent",    // 26 augmentation: superpixels
    "sharpen_inconsistent",        // 27 augmentation: sharpen
    "add_inconsistent",            // 28 augmentation: add
    "invert_inconsistent",         // 29 augmentation: invert
    "abnormal_data",               // 30 the data is predicted to be abnormal
};

constexpr std::array<std::string_view, 6> k_settled_statuses{
    "__ALL__", "__UNCHECK__", "__ACCEPTED__", "__REJECTED__", "__UNREVIEWED__", "__REVIEWED__"};

json::object buckets_json(const score_distribution& d) {
  json::object o;
  for (std::size_t i = 0; i < score_distribution::le_labels.size(); ++i)
    o[score_distribution::le_labels[i]] = d.cumulative(i);
  return o;
}

void put_quantiles(json::object& o, const std::optional<score_quantiles>& q) {
  if (!q) return;
  o["score_p10"] = q->p10;
  o["score_p50"] = q->p50;
  o["score_p90"] = q->p90;
}

}  // namespace

std::string_view hard_reason_name(std::int64_t id) noexcept {
  if (id < 0 || id >= k_hard_reason_count) return {};
  return k_reason_names[static_cast<std::size_t>(id)];
}

std::string hard_reason_label(std::int64_t id) {
  const auto name = hard_reason_name(id);
  if (name.empty()) return "undocumented";
  return std::to_string(id) + "_" + std::string(name);
}

bool sample_waiting(std::string_view status) noexcept {
  if (status.starts_with("__WORKFORCE_SAMPLED")) return false;
  return std::find(k_settled_statuses.begin(), k_settled_statuses.end(), status) ==
         k_settled_statuses.end();
}

void score_distribution::add(double score) noexcept {
  if (std::isnan(score)) return;
  const auto it = std::lower_bound(upper_bounds.begin(), upper_bounds.end(), score);
  ++counts[static_cast<std::size_t>(it - upper_bounds.begin())];
  sum += score;
}

std::uint64_t score_distribution::count() const noexcept {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

std::uint64_t score_distribution::cumulative(std::size_t i) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t k = 0; k <= i && k < counts.size(); ++k) n += counts[k];
  return n;
}

double nearest_rank(const std::vector<double>& sorted, unsigned percent) noexcept {
  if (sorted.empty()) return 0.0;
  const std::size_t n = sorted.size();
  // ceil(percent * n / 100) in integers: a double product can land just above an integer.
  std::size_t rank = (static_cast<std::size_t>(percent) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

std::optional<score_quantiles> quantiles_of(std::vector<double> scores) {
  std::erase_if(scores, [](double s) { return std::isnan(s); });
  if (scores.empty()) return std::nullopt;
  std::sort(scores.begin(), scores.end());
  return score_quantiles{nearest_rank(scores, 10), nearest_rank(scores, 50),
                         nearest_rank(scores, 90)};
}

sample_figures figures_of(const modelarts::sample& s) {
  sample_figures f;
  f.waiting = sample_waiting(s.sample_status);
  bool flagged_true = false;
  bool flagged_at_all = false;
  std::vector<std::int64_t> reasons;
  const auto note_flag = [&](const std::optional<bool>& hard) {
    if (!hard) return;
    flagged_at_all = true;
    flagged_true = flagged_true || *hard;
  };
  if (s.metadata) {
    note_flag(s.metadata->hard);
    reasons.insert(reasons.end(), s.metadata->hard_reasons.begin(), s.metadata->hard_reasons.end());
  }
  for (const auto& l : s.labels) {
    note_flag(l.hard);
    reasons.insert(reasons.end(), l.hard_reasons.begin(), l.hard_reasons.end());
    if (l.score && !std::isnan(*l.score)) {
      f.scores.emplace_back(l.name, *l.score);
      f.best_score = std::max(f.best_score.value_or(*l.score), *l.score);
    }
  }
  f.hard = flagged_true || (!flagged_at_all && !reasons.empty());
  if (f.hard) {
    std::sort(reasons.begin(), reasons.end());
    reasons.erase(std::unique(reasons.begin(), reasons.end()), reasons.end());
    f.hard_reasons = std::move(reasons);
  }
  return f;
}

std::map<std::string, std::int64_t> sample_quality::hard_reasons_by_label() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& [id, n] : hard_reasons) out[hard_reason_label(id)] += n;
  return out;
}

sample_quality summarize(const std::vector<modelarts::sample>& samples,
                         const std::vector<std::string>& label_names) {
  sample_quality q;
  std::vector<double> all_scores;
  std::map<std::string, std::vector<double>> named_scores;
  for (const auto& name : label_names) {
    q.scores_by_label[name];
    named_scores[name];
  }
  for (const auto& s : samples) {
    const auto f = figures_of(s);
    ++q.samples;
    if (q.by_status.contains(s.sample_status) || q.by_status.size() < k_max_status_names)
      ++q.by_status[s.sample_status];
    else
      ++q.by_status["other"];
    if (f.waiting) ++q.waiting;
    for (const auto& [name, score] : f.scores) {
      q.scores.add(score);
      all_scores.push_back(score);
      const auto it = named_scores.find(name);
      if (it != named_scores.end()) {
        q.scores_by_label[name].add(score);
        it->second.push_back(score);
      }
    }
    if (f.hard) {
      ++q.hard_samples;
      for (const auto id : f.hard_reasons) ++q.hard_reasons[id];
    }
  }
  q.quantiles = quantiles_of(std::move(all_scores));
  for (auto& [name, scores] : named_scores)
    q.quantiles_by_label[name] = quantiles_of(std::move(scores));
  return q;
}

json::object to_json(const sample_quality& q) {
  json::object o;
  o["samples"] = q.samples;
  if (q.dataset_samples) o["dataset_samples"] = *q.dataset_samples;
  o["truncated"] = q.truncated;
  json::object statuses;
  for (const auto& [name, n] : q.by_status) statuses[name] = n;
  o["by_status"] = std::move(statuses);
  o["waiting"] = q.waiting;
  o["labels_scored"] = q.scores.count();
  put_quantiles(o, q.quantiles);
  o["score_buckets"] = buckets_json(q.scores);
  o["score_sum"] = q.scores.sum;
  o["hard_samples"] = q.hard_samples;
  json::object reasons;
  for (const auto& [label, n] : q.hard_reasons_by_label()) reasons[label] = n;
  o["hard_reasons"] = std::move(reasons);
  if (!q.scores_by_label.empty()) {
    json::object by_label;
    for (const auto& [name, d] : q.scores_by_label) {
      json::object lo;
      lo["labels_scored"] = d.count();
      const auto it = q.quantiles_by_label.find(name);
      if (it != q.quantiles_by_label.end()) put_quantiles(lo, it->second);
      lo["score_buckets"] = buckets_json(d);
      by_label[name] = std::move(lo);
    }
    o["by_label"] = std::move(by_label);
  }
  return o;
}

bool listing_truncated(bool left_over, std::size_t read, std::size_t max_samples, bool list_ended,
                       std::optional<std::int64_t> total) noexcept {
  if (left_over) return true;
  if (read < max_samples || list_ended) return false;
  return !total || *total > static_cast<std::int64_t>(read);
}

confidence_change next_confidence(bool& low, std::optional<double> median,
                                  std::optional<double> threshold) noexcept {
  if (!threshold) {
    low = false;
    return confidence_change::none;
  }
  if (!median) return confidence_change::none;
  if (!low && *median < *threshold) {
    low = true;
    return confidence_change::dropped;
  }
  if (low && *median >= *threshold) {
    low = false;
    return confidence_change::recovered;
  }
  return confidence_change::none;
}

}  // namespace labelwatch
