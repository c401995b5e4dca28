// How the `labelwatch` CLI prints ModelArts documents: JSON (normalised: status names
// next to the raw codes, times in RFC 3339 UTC) or aligned text tables. Pure.
//
// Sample `source` fields are pre-signed OBS URLs that carry a credential; they are never
// printed (the sample's OBS location is not something the CLI needs to show).
#pragma once

#include "core/sample_quality.hpp"
#include "modelarts/types.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace labelwatch::app {

boost::json::value to_json(const modelarts::auto_task& t);
boost::json::value to_json(const modelarts::workforce_task& t);
boost::json::value to_json(const modelarts::sample& s);
boost::json::value to_json(const modelarts::dataset& d);
boost::json::value to_json(const modelarts::acceptance_status_response& r);

// `labelwatch get sample`: to_json(s) plus "quality": {"waiting", "hard", "hard_reasons"
// (by name, "1_low_confidence"), "best_score"?, "labels_scored"}, counted by the same
// rules as the daemon's sample-quality round (core/sample_quality.hpp).
boost::json::value sample_detail_json(const modelarts::sample& s);

// `labelwatch list samples --summary` as a table: samples read (of how many, truncated),
// statuses, score quantiles, the cumulative score buckets, label breakdown, hard
// samples and reasons.
std::string summary_table(std::string_view dataset_id, std::size_t max_samples,
                          const sample_quality& q);

// Indented JSON text with a final newline.
std::string pretty_json(const boost::json::value& v);

// Columns padded to the widest cell; the header row is upper case. Cells are made one
// line (control characters become spaces).
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

// One row per item, with the columns that matter for each kind.
std::string table_of(const std::vector<modelarts::auto_task>& items);
std::string table_of(const std::vector<modelarts::workforce_task>& items);
std::string table_of(const std::vector<modelarts::sample>& items);
std::string table_of(const std::vector<modelarts::dataset>& items);

// A single document as "key  value" lines, nested members as dotted paths
// ("sample_stats.total_sample_count", "worker_stats[0].email").
std::string key_value_table(const boost::json::value& document);

}  // namespace labelwatch::app
