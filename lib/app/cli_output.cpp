// JSON and table rendering for the CLI (see cli_output.hpp).
#include "app/cli_output.hpp"

#include "core/sample_quality.hpp"
#include "core/status.hpp"
#include "core/time.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace labelwatch::app {
namespace {

namespace json = boost::json;
using namespace labelwatch::modelarts;

// Members are added only when present: absent stays absent in the output too.
template <class T>
void put(json::object& o, std::string_view key, const std::optional<T>& v) {
  if (v) o[key] = *v;
}
void put(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}
// Hard-example reasons as the API sent them, and by name ("1_low_confidence").
void put_reasons(json::object& o, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  o["hard_reasons"] = json::value_from(ids);
  json::array names;
  for (const auto id : ids) names.emplace_back(hard_reason_label(id));
  o["hard_reason_names"] = std::move(names);
}
void put_time(json::object& o, std::string_view key, const std::optional<sys_time>& t) {
  if (t) o[key] = format_rfc3339_ms(*t);
}
void put_time_ms(json::object& o, std::string_view key, const std::optional<std::int64_t>& ms) {
  if (ms) o[key] = format_rfc3339_ms(from_unix_ms(*ms));
}

json::value stats_json(const sample_stats& s) {
  json::object o;
  put(o, "total_sample_count", s.total_sample_count);
  put(o, "unannotated_sample_count", s.unannotated_sample_count);
  put(o, "unreviewed_sample_count", s.unreviewed_sample_count);
  put(o, "uncheck_sample_count", s.uncheck_sample_count);
  put(o, "sampled_sample_count", s.sampled_sample_count);
  put(o, "rejected_sample_count", s.rejected_sample_count);
  put(o, "accepted_sample_count", s.accepted_sample_count);
  put(o, "auto_annotation_sample_count", s.auto_annotation_sample_count);
  put(o, "deleted_sample_count", s.deleted_sample_count);
  return o;
}

json::value check_stats_json(const check_task_stats& s) {
  json::object o;
  put(o, "accepted_sample_count", s.accepted_sample_count);
  put(o, "checked_sample_count", s.checked_sample_count);
  put(o, "pass_rate", s.pass_rate);
  put(o, "rejected_sample_count", s.rejected_sample_count);
  put(o, "sampled_sample_count", s.sampled_sample_count);
  put(o, "sampling_num", s.sampling_num);
  put(o, "sampling_rate", s.sampling_rate);
  put(o, "score", s.score);
  put(o, "task_id", s.task_id);
  put(o, "total_sample_count", s.total_sample_count);
  put(o, "total_score", s.total_score);
  put(o, "unchecked_sample_count", s.unchecked_sample_count);
  return o;
}

json::value event_json(const task_event& e) {
  json::object o;
  put_time_ms(o, "create_time", e.create_time_ms);
  put(o, "name", e.name);
  put(o, "description", e.description);
  put(o, "status", e.status);
  put(o, "error_code", e.error_code);
  put(o, "error_message", e.error_message);
  put(o, "level", e.level);
  put(o, "ordinal", e.ordinal);
  put(o, "elapsed_time", e.elapsed_time);
  if (!e.events.empty()) {
    json::array sub;
    for (const auto& s : e.events) sub.push_back(event_json(s));
    o["events"] = std::move(sub);
  }
  return o;
}

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  return out;
}

std::string count(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : "-";
}

std::string fixed(const std::optional<double>& v, int decimals) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string when(const std::optional<sys_time>& t) {
  if (!t) return "-";
  auto s = format_rfc3339_ms(*t);
  // Seconds are enough in a table: "2020-11-23T11:08:20Z".
  if (s.size() == 24 && s[19] == '.') s = s.substr(0, 19) + "Z";
  return s;
}

// Doubles in their shortest round-trip form with a decimal point ("10.0", "0.98"), not
// Boost.JSON's "1E1".
std::string number_text(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, ec == std::errc{} ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string scalar_text(const json::value& v) {
  if (v.is_string()) return one_line(v.as_string());
  if (v.is_null()) return "null";
  if (v.is_double()) return number_text(v.as_double());
  return json::serialize(v);
}

void flatten(const json::value& v, const std::string& path,
             std::vector<std::vector<std::string>>& rows) {
  if (v.is_object()) {
    if (v.as_object().empty() && !path.empty()) rows.push_back({path, "{}"});
    for (const auto& [k, member] : v.as_object())
      flatten(member, path.empty() ? std::string(k) : path + "." + std::string(k), rows);
  } else if (v.is_array()) {
    if (v.as_array().empty()) rows.push_back({path, "[]"});
    std::size_t i = 0;
    for (const auto& element : v.as_array())
      flatten(element, path + "[" + std::to_string(i++) + "]", rows);
  } else {
    rows.push_back({path, scalar_text(v)});
  }
}

void pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [k, member] : o) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::string(k)) + ": ";
      pretty(out, member, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& element : a) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      pretty(out, element, indent + 1);
    }
    out += "\n" + pad + "]";
  } else if (v.is_double()) {
    out += number_text(v.as_double());
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

json::value to_json(const auto_task& t) {
  json::object o;
  o["task_id"] = t.task_id;
  put(o, "task_name", t.task_name);
  put(o, "dataset_id", t.dataset_id);
  put(o, "resource_id", t.resource_id);
  o["status"] = to_string(t.status());
  o["status_code"] = t.status_code;
  put(o, "progress", t.progress);
  put_time(o, "create_time", t.create_time);
  if (!t.create_time && !t.create_time_raw.empty()) o["create_time_raw"] = t.create_time_raw;
  put(o, "elapsed_time", t.elapsed_time);
  put(o, "export_type", t.export_type);
  put(o, "type", t.type);
  put(o, "code", t.code);
  put(o, "message", t.message);
  put(o, "error_code", t.error_code);
  put(o, "error_msg", t.error_msg);
  put(o, "error_detail", t.error_detail);
  put(o, "total_sample_count", t.total_sample_count);
  put(o, "annotated_sample_count", t.annotated_sample_count);
  put(o, "unconfirmed_sample_count", t.unconfirmed_sample_count);
  put(o, "model_id", t.model_id);
  put(o, "model_name", t.model_name);
  put(o, "model_version", t.model_version);
  json::object config;
  put(config, "algorithm_type", t.config.algorithm_type);
  put(config, "name", t.config.name);
  put(config, "description", t.config.description);
  put(config, "model_id", t.config.model_id);
  put(config, "model_name", t.config.model_name);
  put(config, "model_version", t.config.model_version);
  put(config, "collect_sample", t.config.collect_sample);
  put(config, "worker_server_num", t.config.worker_server_num);
  if (!config.empty()) o["config"] = std::move(config);
  if (t.result) {
    const auto& r = *t.result;
    json::object res;
    put(res, "total_sample_count", r.total_sample_count);
    put(res, "annotated_sample_count", r.annotated_sample_count);
    put(res, "unconfirmed_sample_count", r.unconfirmed_sample_count);
    put(res, "dataset_name", r.dataset_name);
    put(res, "dataset_type", r.dataset_type);
    put(res, "confidence_scope", r.confidence_scope);
    put(res, "train_job_id", r.train_job_id);
    put(res, "train_job_name", r.train_job_name);
    put(res, "service_id", r.service_id);
    put(res, "service_name", r.service_name);
    put(res, "version_id", r.version_id);
    put(res, "version_name", r.version_name);
    if (!r.events.empty()) {
      json::array events;
      for (const auto& e : r.events) events.push_back(event_json(e));
      res["events"] = std::move(events);
    }
    o["result"] = std::move(res);
  }
  return o;
}

json::value to_json(const workforce_task& t) {
  json::object o;
  o["task_id"] = t.task_id;
  put(o, "task_name", t.task_name);
  put(o, "dataset_id", t.dataset_id);
  put(o, "description", t.description);
  put(o, "version_id", t.version_id);
  o["status"] = to_string(t.status());
  o["status_code"] = t.status_code;
  put_time(o, "create_time", t.create_time);
  put_time(o, "update_time", t.update_time);
  put(o, "pass_rate", t.pass_rate);
  put(o, "score", t.score);
  put(o, "check_rate", t.check_rate);
  put(o, "repetition", t.repetition);
  put(o, "auto_sync_dataset", t.auto_sync_dataset);
  put(o, "synchronize_data", t.synchronize_data);
  put(o, "synchronize_auto_labeling_data", t.synchronize_auto_labeling_data);
  if (t.stats) o["sample_stats"] = stats_json(*t.stats);
  if (t.checking) {
    const auto& c = *t.checking;
    json::object desc;
    put(desc, "checking_task_id", c.checking_task_id);
    put(desc, "action", c.action);
    put(desc, "overwrite_last_result", c.overwrite_last_result);
    if (c.checking_stats) desc["checking_stats"] = check_stats_json(*c.checking_stats);
    if (c.total_stats) desc["total_stats"] = check_stats_json(*c.total_stats);
    o["checking_task_desc"] = std::move(desc);
  }
  if (t.workforce) {
    json::object w;
    put(w, "workforce_count", t.workforce->workforce_count);
    put(w, "labeler_count", t.workforce->labeler_count);
    put(w, "reviewer_count", t.workforce->reviewer_count);
    o["workforce_stats"] = std::move(w);
  }
  if (t.config) {
    json::object cfg;
    put(cfg, "agency", t.config->agency);
    json::array forces;
    for (const auto& f : t.config->workforces) {
      json::object fo;
      put(fo, "workforce_id", f.workforce_id);
      put(fo, "workforce_name", f.workforce_name);
      json::array workers;
      for (const auto& w : f.workers) {
        json::object wo;
        put(wo, "worker_id", w.worker_id);
        put(wo, "email", w.email);
        put(wo, "role", w.role);
        put(wo, "status", w.status);
        workers.push_back(std::move(wo));
      }
      if (!workers.empty()) fo["workers"] = std::move(workers);
      forces.push_back(std::move(fo));
    }
    if (!forces.empty()) cfg["workforces"] = std::move(forces);
    o["workforces_config"] = std::move(cfg);
  }
  if (!t.workers.empty()) {
    json::array workers;
    for (const auto& w : t.workers) {
      json::object wo;
      put(wo, "worker_id", w.worker_id);
      put(wo, "email", w.email);
      put(wo, "role", w.role);
      put(wo, "task_status", w.task_status);
      put(wo, "email_status", w.email_status);
      put(wo, "pass_rate", w.pass_rate);
      put(wo, "score", w.score);
      if (w.stats) wo["sample_stats"] = stats_json(*w.stats);
      put_time_ms(wo, "create_time", w.create_time_ms);
      put_time_ms(wo, "update_time", w.update_time_ms);
      put(wo, "last_notify_time", w.last_notify_time_ms);
      workers.push_back(std::move(wo));
    }
    o["worker_stats"] = std::move(workers);
  }
  return o;
}

json::value to_json(const sample& s) {
  json::object o;
  o["sample_id"] = s.sample_id;
  put(o, "sample_name", s.sample_name);
  put(o, "sample_type", s.sample_type);
  put(o, "sample_status", s.sample_status);
  put_time_ms(o, "sample_time", s.sample_time_ms);
  put(o, "sample_size", s.sample_size);
  put(o, "worker_id", s.worker_id);
  // `source` deliberately left out: a pre-signed URL is a credential.
  json::array labels;
  for (const auto& l : s.labels) {
    json::object lo;
    put(lo, "id", l.id);
    put(lo, "name", l.name);
    put(lo, "type", l.type);
    put(lo, "score", l.score);
    put(lo, "annotated_by", l.annotated_by);
    put(lo, "hard", l.hard);
    put(lo, "hard_coefficient", l.hard_coefficient);
    put_reasons(lo, l.hard_reasons);
    labels.push_back(std::move(lo));
  }
  o["labels"] = std::move(labels);
  if (s.metadata) {
    json::object m;
    put(m, "hard", s.metadata->hard);
    put(m, "hard_coefficient", s.metadata->hard_coefficient);
    put_reasons(m, s.metadata->hard_reasons);
    put(m, "import_origin", s.metadata->import_origin);
    o["metadata"] = std::move(m);
  }
  if (!s.hard_details.empty()) {
    json::object details;
    for (const auto& [k, d] : s.hard_details) {
      json::object dobj;
      put(dobj, "id", d.id);
      put(dobj, "alo_name", d.alo_name);
      put(dobj, "reason", d.reason);
      put(dobj, "suggestion", d.suggestion);
      details[k] = std::move(dobj);
    }
    o["hard_details"] = std::move(details);
  }
  return o;
}

json::value to_json(const dataset& d) {
  json::object o;
  o["dataset_id"] = d.dataset_id;
  put(o, "dataset_name", d.dataset_name);
  put(o, "dataset_type", d.dataset_type);
  put(o, "status", d.status);
  put(o, "total_sample_count", d.total_sample_count);
  put(o, "annotated_sample_count", d.annotated_sample_count);
  put(o, "workforce_task_count", d.workforce_task_count);
  return o;
}

json::value to_json(const acceptance_status_response& r) {
  json::object o;
  put(o, "sample_count", r.sample_count);
  json::array samples;
  for (const auto& s : r.samples) samples.push_back(to_json(s));
  o["samples"] = std::move(samples);
  return o;
}

json::value sample_detail_json(const sample& s) {
  auto v = to_json(s);
  const auto f = figures_of(s);
  json::object q;
  q["waiting"] = f.waiting;
  q["hard"] = f.hard;
  json::array reasons;
  for (const auto id : f.hard_reasons) reasons.emplace_back(hard_reason_label(id));
  q["hard_reasons"] = std::move(reasons);
  if (f.best_score) q["best_score"] = *f.best_score;
  q["labels_scored"] = f.scores.size();
  v.as_object()["quality"] = std::move(q);
  return v;
}

std::string summary_table(std::string_view dataset_id, std::size_t max_samples,
                          const sample_quality& q) {
  std::vector<std::vector<std::string>> rows;
  const auto row = [&rows](std::string k, std::string v) {
    rows.push_back({std::move(k), std::move(v)});
  };
  row("dataset_id", std::string(dataset_id));
  std::string read = std::to_string(q.samples);
  if (q.dataset_samples) read += " of " + std::to_string(*q.dataset_samples);
  if (q.truncated) read += " (truncated at max " + std::to_string(max_samples) + ")";
  row("samples", read);
  row("waiting", std::to_string(q.waiting));
  for (const auto& [status, n] : q.by_status) row("status " + status, std::to_string(n));
  row("labels_scored", std::to_string(q.scores.count()));
  if (q.quantiles)
    row("score p10/p50/p90", fixed(q.quantiles->p10, 2) + " / " + fixed(q.quantiles->p50, 2) +
                                 " / " + fixed(q.quantiles->p90, 2));
  for (std::size_t i = 0; i < score_distribution::le_labels.size(); ++i)
    row("score <= " + std::string(score_distribution::le_labels[i]),
        std::to_string(q.scores.cumulative(i)));
  for (const auto& [name, d] : q.scores_by_label) {
    std::string text = std::to_string(d.count()) + " labels";
    const auto it = q.quantiles_by_label.find(name);
    if (it != q.quantiles_by_label.end() && it->second)
      text += ", p50 " + fixed(it->second->p50, 2);
    row("label " + name, text);
  }
  row("hard_samples", std::to_string(q.hard_samples));
  for (const auto& [label, n] : q.hard_reasons_by_label())
    row("reason " + label, std::to_string(n));
  return render_table({"figure", "value"}, rows);
}

std::string pretty_json(const json::value& v) {
  std::string out;
  pretty(out, v, 0);
  out += '\n';
  return out;
}

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  std::vector<std::string> head;
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string h = one_line(header[i]);
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    width[i] = h.size();
    head.push_back(std::move(h));
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < header.size(); ++i) {
      line.push_back(i < row.size() ? one_line(row[i]) : "");
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  const auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  emit(head);
  for (const auto& line : cells) emit(line);
  return out;
}

std::string table_of(const std::vector<auto_task>& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : items) {
    const auto total = t.total_sample_count
                           ? t.total_sample_count
                           : (t.result ? t.result->total_sample_count : std::nullopt);
    const auto annotated = t.annotated_sample_count
                               ? t.annotated_sample_count
                               : (t.result ? t.result->annotated_sample_count : std::nullopt);
    rows.push_back({t.task_id, t.task_name, std::string(to_string(t.status())),
                    t.progress ? fixed(t.progress, 1) + "%" : "-",
                    count(annotated) + "/" + count(total), when(t.create_time)});
  }
  return render_table({"task_id", "name", "status", "progress", "annotated/total", "created"},
                      rows);
}

std::string table_of(const std::vector<workforce_task>& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : items) {
    const auto total = t.stats ? t.stats->total_sample_count : std::nullopt;
    const auto accepted = t.stats ? t.stats->accepted_sample_count : std::nullopt;
    rows.push_back({t.task_id, t.task_name, std::string(to_string(t.status())), count(total),
                    count(accepted), fixed(t.pass_rate, 2), when(t.create_time)});
  }
  return render_table({"task_id", "name", "status", "samples", "accepted", "pass_rate", "created"},
                      rows);
}

std::string table_of(const std::vector<sample>& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : items) {
    std::string labels;
    for (const auto& l : s.labels) {
      if (!labels.empty()) labels += ", ";
      labels += l.name.empty() ? l.id : l.name;
      if (l.score) labels += " (" + fixed(l.score, 2) + ")";
    }
    const bool hard = figures_of(s).hard;
    rows.push_back({s.sample_id, s.sample_name, s.sample_status, labels.empty() ? "-" : labels,
                    hard ? "yes" : "no"});
  }
  return render_table({"sample_id", "name", "status", "labels", "hard"}, rows);
}

std::string table_of(const std::vector<dataset>& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : items)
    rows.push_back({d.dataset_id, d.dataset_name, count(d.dataset_type), count(d.status),
                    count(d.annotated_sample_count) + "/" + count(d.total_sample_count),
                    count(d.workforce_task_count)});
  return render_table(
      {"dataset_id", "name", "type", "status", "annotated/total", "workforce_tasks"}, rows);
}

std::string key_value_table(const json::value& document) {
  std::vector<std::vector<std::string>> rows;
  flatten(document, "", rows);
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r[0].size());
  std::string out;
  for (const auto& r : rows) out += r[0] + std::string(width - r[0].size() + 2, ' ') + r[1] + "\n";
  return out;
}

}  // namespace labelwatch::app
