#include "sim/scenario.hpp"
#include "core/json_text.hpp"

#include "core/time.hpp"
#include "sim/document.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <span>
#include <stdexcept>

namespace labelwatch::sim {
namespace {

// The reader throws this internally; the public functions turn it into a result.
struct read_failure {
  scenario_error error;
};

[[noreturn]] void fail(const std::string& path, std::string message) {
  throw read_failure{scenario_error{path, std::move(message)}};
}

// A string as it appears in a message: JSON-quoted, so control characters in ids or
// keys can never split a message over lines.
std::string quoted(std::string_view s) {
  return json::serialize(json::value(json::string(s)));
}

// A key as it appears in a path: plain when it is printable without '.', '[', ']', '"',
// '\\' or spaces, otherwise ["..."] (JSON-quoted), so a path is one unambiguous line.
std::string join(const std::string& path, std::string_view key) {
  bool plain = !key.empty();
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c == 0x7f || c == '.' || c == '[' || c == ']' || c == '"' || c == '\\')
      plain = false;
  }
  if (!plain) return path + "[" + quoted(key) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// A short rendering of a JSON value for messages: 12, "abc", an object, an array.
std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      return "an object";
    case json::kind::array:
      return "an array";
    case json::kind::null:
      return "null";
    default: {
      auto text = json::serialize(v);
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      return text;
    }
  }
}

const json::object& as_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) fail(path, "expected an object, got " + describe(v));
  return v.get_object();
}

const json::array& as_array(const json::value& v, const std::string& path) {
  if (!v.is_array()) fail(path, "expected an array, got " + describe(v));
  return v.get_array();
}

std::string as_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) fail(path, "expected a string, got " + describe(v));
  return std::string(v.get_string());
}

std::int64_t as_int(const json::value& v, const std::string& path) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
      std::fabs(v.get_double()) < 9e15)
    return static_cast<std::int64_t>(v.get_double());
  fail(path, "expected an integer, got " + describe(v));
}

std::uint64_t as_count(const json::value& v, const std::string& path, std::uint64_t max) {
  const auto n = as_int(v, path);
  if (n < 0 || static_cast<std::uint64_t>(n) > max)
    fail(path, "expected an integer from 0 to " + std::to_string(max) + ", got " + describe(v));
  return static_cast<std::uint64_t>(n);
}

double as_number(const json::value& v, const std::string& path) {
  if (!v.is_number()) fail(path, "expected a number, got " + describe(v));
  return v.to_number<double>();
}

bool as_bool(const json::value& v, const std::string& path) {
  if (!v.is_bool()) fail(path, "expected true or false, got " + describe(v));
  return v.get_bool();
}

milliseconds as_duration(const json::value& v, const std::string& path) {
  if (v.is_string()) {
    if (const auto d = parse_duration(v.get_string())) return *d;
  }
  fail(path, "expected a duration like \"30s\", got " + describe(v));
}

milliseconds as_signed_duration(const json::value& v, const std::string& path) {
  if (v.is_string()) {
    if (const auto d = parse_signed_duration(v.get_string())) return *d;
  }
  fail(path, "expected a duration like \"30s\" or \"-2h\", got " + describe(v));
}

void check_keys(const json::object& o, const std::string& path,
                std::span<const std::string_view> allowed) {
  for (const auto& [key, value] : o) {
    (void)value;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      std::string list;
      for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(join(path, key), "unknown key (expected one of: " + list + ")");
    }
  }
}

void check_keys(const json::object& o, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
  check_keys(o, path, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

const json::value* find(const json::object& o, std::string_view key) {
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

// Ids end up as URL path segments: keep them to characters that need no thought there.
constexpr const char* k_id_rule =
    "must be non-empty, without '/', '?', '#', '%', spaces or control characters";
bool usable_id(std::string_view id) {
  if (id.empty()) return false;
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '%') return false;
  }
  return true;
}

// ---- tasks -------------------------------------------------------------------------

constexpr std::array<std::string_view, 22> k_auto_fields{
    "code",      "config",    "create_time", "elapsed_time", "error_code", "error_detail",
    "error_msg", "message",   "progress",    "resource_id",  "result",     "status",
    "task_id",   "task_name", "export_type", "model_id",     "model_name", "model_version",
    "type",      "at",        "ramp",        "extra"};

constexpr std::array<std::string_view, 25> k_workforce_fields{"auto_sync_dataset",
                                                              "check_rate",
                                                              "checking_task_desc",
                                                              "create_time",
                                                              "dataset_id",
                                                              "description",
                                                              "label_stats",
                                                              "pass_rate",
                                                              "repetition",
                                                              "sample_search_conditions",
                                                              "sample_stats",
                                                              "score",
                                                              "status",
                                                              "synchronize_auto_labeling_data",
                                                              "synchronize_data",
                                                              "task_id",
                                                              "task_name",
                                                              "update_time",
                                                              "version_id",
                                                              "worker_stats",
                                                              "workforce_stats",
                                                              "workforces_config",
                                                              "at",
                                                              "ramp",
                                                              "extra"};

void check_member_type(const json::object& o, const std::string& path, std::string_view key,
                       json::kind wanted) {
  const auto* v = find(o, key);
  if (!v || v->is_null()) return;
  const auto p = join(path, key);
  switch (wanted) {
    case json::kind::object:
      (void)as_object(*v, p);
      break;
    case json::kind::array:
      (void)as_array(*v, p);
      break;
    case json::kind::int64:
      (void)as_int(*v, p);
      break;
    case json::kind::double_:
      (void)as_number(*v, p);
      break;
    case json::kind::string:
      (void)as_string(*v, p);
      break;
    case json::kind::bool_:
      (void)as_bool(*v, p);
      break;
    default:
      break;
  }
}

keyframe read_keyframe(const json::value& v, task_kind kind, const std::string& path) {
  const auto& o = as_object(v, path);
  if (kind == task_kind::auto_labeling)
    check_keys(o, path, k_auto_fields);
  else
    check_keys(o, path, k_workforce_fields);
  keyframe k;
  const auto* at = find(o, "at");
  if (!at) fail(join(path, "at"), "missing (every keyframe needs a time, e.g. \"30s\")");
  k.at = as_duration(*at, join(path, "at"));
  if (const auto* r = find(o, "ramp")) k.ramp = as_bool(*r, join(path, "ramp"));
  check_member_type(o, path, "status", json::kind::int64);
  if (kind == task_kind::auto_labeling) {
    check_member_type(o, path, "progress", json::kind::double_);
    check_member_type(o, path, "result", json::kind::object);
    check_member_type(o, path, "config", json::kind::object);
    check_member_type(o, path, "create_time", json::kind::string);
    check_member_type(o, path, "elapsed_time", json::kind::int64);
  } else {
    check_member_type(o, path, "sample_stats", json::kind::object);
    check_member_type(o, path, "checking_task_desc", json::kind::object);
    check_member_type(o, path, "workforce_stats", json::kind::object);
    check_member_type(o, path, "workforces_config", json::kind::object);
    check_member_type(o, path, "worker_stats", json::kind::array);
    check_member_type(o, path, "label_stats", json::kind::array);
    check_member_type(o, path, "create_time", json::kind::int64);
    check_member_type(o, path, "update_time", json::kind::int64);
    check_member_type(o, path, "pass_rate", json::kind::double_);
    check_member_type(o, path, "score", json::kind::double_);
    check_member_type(o, path, "check_rate", json::kind::double_);
  }
  for (const auto& [key, value] : o) {
    if (key == "at" || key == "ramp") continue;
    if (key == "extra") {
      merge_patch(k.patch, as_object(value, join(path, "extra")));
      continue;
    }
    k.patch[key] = value;
  }
  return k;
}

json::object default_auto_document(const std::string& id, const std::string& name) {
  return json::object{
      {"task_id", id},
      {"task_name", name},
      {"resource_id", id},
      {"progress", 0.0},
      {"status", 1},
      {"elapsed_time", 0},
      {"result", json::object{{"total_sample_count", 0}, {"annotated_sample_count", 0}}},
      {"export_type", 0},
      {"config", json::object{{"ambiguity", false},
                              {"worker_server_num", 0},
                              {"collect_sample", false},
                              {"algorithm_type", "fast"},
                              {"image_brightness", false},
                              {"image_colorfulness", false}}},
  };
}

json::object zero_sample_stats() {
  return json::object{{"total_sample_count", 0},      {"unannotated_sample_count", 0},
                      {"unreviewed_sample_count", 0}, {"uncheck_sample_count", 0},
                      {"sampled_sample_count", 0},    {"rejected_sample_count", 0},
                      {"accepted_sample_count", 0},   {"auto_annotation_sample_count", 0}};
}

json::object default_workforce_document(const std::string& ds, const std::string& id,
                                        const std::string& name) {
  return json::object{
      {"dataset_id", ds},
      {"task_id", id},
      {"task_name", name},
      {"status", 1},
      {"repetition", 1},
      {"synchronize_data", false},
      {"synchronize_auto_labeling_data", false},
      {"workforce_stats",
       json::object{{"workforce_count", 1}, {"labeler_count", 0}, {"reviewer_count", 0}}},
      {"sample_stats", zero_sample_stats()},
      {"auto_sync_dataset", true},
      {"worker_stats", json::array{}},
  };
}

task_spec read_task_impl(const json::value& v, task_kind kind, const std::string& dataset_id,
                         const std::string& path) {
  const auto& o = as_object(v, path);
  const bool workforce = kind == task_kind::workforce;
  if (workforce)
    check_keys(o, path,
               {"task_id", "task_name", "document", "verbatim", "created", "visible_from",
                "gone_at", "timeline", "acceptance_sync", "conflict_samples"});
  else
    check_keys(o, path,
               {"task_id", "task_name", "document", "verbatim", "created", "visible_from",
                "gone_at", "timeline"});
  task_spec t;
  t.kind = kind;
  t.dataset_id = dataset_id;
  const auto* id = find(o, "task_id");
  if (!id) fail(join(path, "task_id"), "missing");
  t.task_id = as_string(*id, join(path, "task_id"));
  if (!usable_id(t.task_id)) fail(join(path, "task_id"), k_id_rule);
  t.task_name = t.task_id;
  if (const auto* n = find(o, "task_name")) t.task_name = as_string(*n, join(path, "task_name"));
  bool verbatim = false;
  if (const auto* b = find(o, "verbatim")) verbatim = as_bool(*b, join(path, "verbatim"));
  if (!verbatim)
    t.document = workforce ? default_workforce_document(dataset_id, t.task_id, t.task_name)
                           : default_auto_document(t.task_id, t.task_name);
  if (const auto* d = find(o, "document")) {
    const auto& doc = as_object(*d, join(path, "document"));
    if (verbatim)
      t.document = doc;
    else
      merge_patch(t.document, doc);
  } else if (verbatim) {
    fail(join(path, "document"), "missing (\"verbatim\": true needs the whole document)");
  }
  if (const auto* c = find(o, "created")) t.created = as_signed_duration(*c, join(path, "created"));
  if (const auto* c = find(o, "visible_from"))
    t.visible_from = as_duration(*c, join(path, "visible_from"));
  if (const auto* c = find(o, "gone_at")) {
    t.gone_at = as_duration(*c, join(path, "gone_at"));
    if (*t.gone_at <= t.visible_from) fail(join(path, "gone_at"), "must be after visible_from");
  }
  if (const auto* tl = find(o, "timeline")) {
    const auto& arr = as_array(*tl, join(path, "timeline"));
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto kp = index(join(path, "timeline"), i);
      auto k = read_keyframe(arr[i], kind, kp);
      if (!t.timeline.empty() && k.at < t.timeline.back().at)
        fail(join(kp, "at"), "keyframes must be in time order (" + format_duration(k.at) +
                                 " comes after " + format_duration(t.timeline.back().at) + ")");
      if (i == 0 && k.ramp) fail(join(kp, "ramp"), "the first keyframe has nothing to ramp from");
      t.timeline.push_back(std::move(k));
    }
  }
  if (const auto* s = find(o, "acceptance_sync"))
    t.acceptance_sync = as_duration(*s, join(path, "acceptance_sync"));
  if (const auto* cs = find(o, "conflict_samples")) {
    const auto& arr = as_array(*cs, join(path, "conflict_samples"));
    for (std::size_t i = 0; i < arr.size(); ++i)
      t.conflict_samples.push_back(as_string(arr[i], index(join(path, "conflict_samples"), i)));
  }
  return t;
}

// ---- samples -----------------------------------------------------------------------

sample_generator read_generator(const json::value& v, const std::string& path) {
  const auto& o = as_object(v, path);
  check_keys(o, path,
             {"count", "seed", "hard", "statuses", "labels", "reasons", "score_min", "score_max",
              "sample_type"});
  sample_generator g;
  const auto* c = find(o, "count");
  if (!c) fail(join(path, "count"), "missing");
  g.count = as_count(*c, join(path, "count"), 1'000'000);
  if (const auto* s = find(o, "seed"))
    g.seed = as_count(*s, join(path, "seed"), static_cast<std::uint64_t>(INT64_MAX));
  if (const auto* h = find(o, "hard")) {
    g.hard = as_count(*h, join(path, "hard"), g.count);
  }
  if (const auto* st = find(o, "statuses")) {
    const auto& so = as_object(*st, join(path, "statuses"));
    std::size_t sum = 0;
    for (const auto& [name, n] : so) {
      const auto k = as_count(n, join(join(path, "statuses"), name), g.count);
      g.statuses.emplace_back(std::string(name), k);
      sum += k;
    }
    if (sum != g.count)
      fail(join(path, "statuses"), "the counts add up to " + std::to_string(sum) +
                                       ", expected count = " + std::to_string(g.count));
  } else {
    g.statuses.emplace_back("UN_ANNOTATION", g.count);
  }
  if (const auto* l = find(o, "labels")) {
    const auto& arr = as_array(*l, join(path, "labels"));
    if (arr.empty()) fail(join(path, "labels"), "needs at least one label name");
    g.labels.clear();
    for (std::size_t i = 0; i < arr.size(); ++i)
      g.labels.push_back(as_string(arr[i], index(join(path, "labels"), i)));
  }
  if (const auto* r = find(o, "reasons")) {
    const auto& arr = as_array(*r, join(path, "reasons"));
    g.reasons.clear();
    for (std::size_t i = 0; i < arr.size(); ++i)
      g.reasons.push_back(static_cast<int>(as_count(arr[i], index(join(path, "reasons"), i), 30)));
    if (g.reasons.empty() && g.hard > 0)
      fail(join(path, "reasons"), "needs at least one reason when hard > 0");
  }
  if (const auto* s = find(o, "score_min")) g.score_min = as_number(*s, join(path, "score_min"));
  if (const auto* s = find(o, "score_max")) g.score_max = as_number(*s, join(path, "score_max"));
  if (!(g.score_min >= 0.0 && g.score_min <= g.score_max && g.score_max <= 1.0))
    fail(path, "needs 0 <= score_min <= score_max <= 1");
  if (const auto* s = find(o, "sample_type"))
    g.sample_type = static_cast<int>(as_count(*s, join(path, "sample_type"), 9));
  return g;
}

dataset_spec read_dataset_impl(const json::value& v, const std::string& path,
                               std::vector<task_spec>* tasks, std::set<std::string>* task_ids) {
  const auto& o = as_object(v, path);
  check_keys(o, path,
             {"dataset_id", "dataset_name", "dataset_type", "created", "document", "auto_tasks",
              "workforce_tasks", "samples", "generate_samples"});
  dataset_spec d;
  const auto* id = find(o, "dataset_id");
  if (!id) fail(join(path, "dataset_id"), "missing");
  d.dataset_id = as_string(*id, join(path, "dataset_id"));
  if (!usable_id(d.dataset_id)) fail(join(path, "dataset_id"), k_id_rule);
  d.dataset_name = d.dataset_id;
  if (const auto* n = find(o, "dataset_name"))
    d.dataset_name = as_string(*n, join(path, "dataset_name"));
  if (const auto* t = find(o, "dataset_type"))
    d.dataset_type = as_int(*t, join(path, "dataset_type"));
  if (const auto* c = find(o, "created")) d.created = as_signed_duration(*c, join(path, "created"));
  if (const auto* doc = find(o, "document")) d.document = as_object(*doc, join(path, "document"));
  const std::pair<const char*, task_kind> lists[] = {{"auto_tasks", task_kind::auto_labeling},
                                                     {"workforce_tasks", task_kind::workforce}};
  for (const auto& [key, kind] : lists) {
    const auto* l = find(o, key);
    if (!l) continue;
    if (!tasks) fail(join(path, key), "tasks are created one by one through the control API");
    const auto& arr = as_array(*l, join(path, key));
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto tp = index(join(path, key), i);
      auto t = read_task_impl(arr[i], kind, d.dataset_id, tp);
      // Unique across the scenario: the control API and faults address tasks by id alone.
      if (task_ids && !task_ids->insert(t.task_id).second)
        fail(join(tp, "task_id"), "duplicate task id " + quoted(t.task_id));
      tasks->push_back(std::move(t));
    }
  }
  std::set<std::string> sample_ids;
  if (const auto* s = find(o, "samples")) {
    const auto& arr = as_array(*s, join(path, "samples"));
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto sp = index(join(path, "samples"), i);
      const auto& so = as_object(arr[i], sp);
      const auto* sid = find(so, "sample_id");
      if (!sid) fail(join(sp, "sample_id"), "missing");
      const auto sample_id = as_string(*sid, join(sp, "sample_id"));
      if (!sample_ids.insert(sample_id).second)
        fail(join(sp, "sample_id"), "duplicate sample id " + quoted(sample_id));
      d.samples.push_back(so);
    }
  }
  if (const auto* g = find(o, "generate_samples"))
    d.generator = read_generator(*g, join(path, "generate_samples"));
  return d;
}

fault_spec read_fault_impl(const json::value& v, const std::string& path) {
  const auto& o = as_object(v, path);
  check_keys(o, path, {"id",          "kind",
                       "endpoint",    "task_id",
                       "dataset_id",  "method",
                       "count",       "from",
                       "until",       "for",
                       "status",      "code",
                       "retry_after", "retry_after_format",
                       "delay",       "bytes",
                       "status_code", "partial_bytes",
                       "error_code",  "error_msg"});
  fault_spec f;
  const auto* k = find(o, "kind");
  if (!k) fail(join(path, "kind"), "missing");
  const auto kind_name = as_string(*k, join(path, "kind"));
  const auto kind = parse_fault_kind(kind_name);
  if (!kind)
    fail(join(path, "kind"),
         "unknown fault kind " + quoted(kind_name) +
             " (expected throttle, error, delay, hang, close, reset, truncated_json, "
             "malformed_json, oversized, invalid_utf8, numbers_as_strings, unknown_status, "
             "missing_optional, extra_fields)");
  f.kind = *kind;
  if (const auto* x = find(o, "id")) f.id = as_string(*x, join(path, "id"));
  if (const auto* x = find(o, "endpoint")) {
    const auto name = as_string(*x, join(path, "endpoint"));
    const auto e = parse_endpoint(name);
    if (!e || *e == endpoint::control || *e == endpoint::unknown)
      fail(join(path, "endpoint"),
           "unknown endpoint " + quoted(name) +
               " (expected any, auto_task, auto_task_list, workforce_task, "
               "workforce_task_list, sample, sample_list, dataset_list, acceptance, iam)");
    f.target = *e;
  }
  if (const auto* x = find(o, "task_id")) f.task_id = as_string(*x, join(path, "task_id"));
  if (const auto* x = find(o, "dataset_id")) f.dataset_id = as_string(*x, join(path, "dataset_id"));
  if (const auto* x = find(o, "method")) {
    f.method = as_string(*x, join(path, "method"));
    std::transform(f.method.begin(), f.method.end(), f.method.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
  }
  if (const auto* x = find(o, "count")) {
    f.count = as_count(*x, join(path, "count"), static_cast<std::uint64_t>(INT64_MAX));
    if (*f.count == 0) fail(join(path, "count"), "must be at least 1");
  }
  if (const auto* x = find(o, "from")) f.from = as_duration(*x, join(path, "from"));
  if (const auto* x = find(o, "until")) f.until = as_duration(*x, join(path, "until"));
  if (const auto* x = find(o, "for")) f.for_ = as_duration(*x, join(path, "for"));
  if (f.from && f.until && *f.until <= *f.from) fail(join(path, "until"), "must be after from");
  if (const auto* x = find(o, "status")) {
    f.status = static_cast<int>(as_count(*x, join(path, "status"), 599));
    if (f.status < 100) fail(join(path, "status"), "expected an HTTP status code");
  }
  if (const auto* x = find(o, "code")) f.code = as_string(*x, join(path, "code"));
  if (const auto* x = find(o, "retry_after"))
    f.retry_after = static_cast<std::int64_t>(as_count(*x, join(path, "retry_after"), 86400));
  if (const auto* x = find(o, "retry_after_format")) {
    f.retry_after_format = as_string(*x, join(path, "retry_after_format"));
    if (f.retry_after_format != "seconds" && f.retry_after_format != "http_date" &&
        f.retry_after_format != "none")
      fail(join(path, "retry_after_format"), "expected \"seconds\", \"http_date\" or \"none\"");
  }
  if (const auto* x = find(o, "delay")) f.delay = as_duration(*x, join(path, "delay"));
  if (f.kind == fault_kind::delay && f.delay == milliseconds{0})
    fail(join(path, "delay"), "a delay fault needs \"delay\", e.g. \"15s\"");
  if (const auto* x = find(o, "bytes"))
    f.bytes = as_count(*x, join(path, "bytes"), 512u * 1024u * 1024u);
  if (const auto* x = find(o, "status_code")) f.status_code = as_int(*x, join(path, "status_code"));
  if (const auto* x = find(o, "partial_bytes"))
    f.partial_bytes = as_count(*x, join(path, "partial_bytes"), 1u << 30);
  if (const auto* x = find(o, "error_code")) f.error_code = as_string(*x, join(path, "error_code"));
  if (const auto* x = find(o, "error_msg")) f.error_msg = as_string(*x, join(path, "error_msg"));
  return f;
}

scenario read_scenario_impl(const json::value& root) {
  const auto& o = as_object(root, "");
  check_keys(o, "",
             {"name", "project_id", "project_name", "speed", "pagination", "not_found_status",
              "workforce_stats_default", "acceptance_sync", "datasets", "faults"});
  scenario s;
  if (const auto* x = find(o, "name")) s.name = as_string(*x, "name");
  if (const auto* x = find(o, "project_id")) {
    s.project_id = as_string(*x, "project_id");
    if (!usable_id(s.project_id)) fail("project_id", k_id_rule);
  }
  if (const auto* x = find(o, "project_name")) s.project_name = as_string(*x, "project_name");
  if (const auto* x = find(o, "speed")) {
    s.speed = as_number(*x, "speed");
    if (!(s.speed > 0.0 && s.speed <= 1e6)) fail("speed", "must be > 0 (1.0 = real time)");
  }
  if (const auto* x = find(o, "pagination")) {
    const auto m = parse_pagination_mode(as_string(*x, "pagination"));
    if (!m) fail("pagination", "expected \"page\" or \"record\", got " + describe(*x));
    s.pagination = *m;
  }
  if (const auto* x = find(o, "not_found_status")) {
    const auto n = as_int(*x, "not_found_status");
    if (n != 400 && n != 404) fail("not_found_status", "expected 400 or 404, got " + describe(*x));
    s.not_found_status = static_cast<int>(n);
  }
  if (const auto* x = find(o, "workforce_stats_default"))
    s.workforce_stats_default = as_bool(*x, "workforce_stats_default");
  if (const auto* x = find(o, "acceptance_sync"))
    s.acceptance_sync = as_duration(*x, "acceptance_sync");
  std::set<std::string> dataset_ids;
  std::set<std::string> task_ids;
  if (const auto* x = find(o, "datasets")) {
    const auto& arr = as_array(*x, "datasets");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto p = index("datasets", i);
      auto d = read_dataset_impl(arr[i], p, &s.tasks, &task_ids);
      if (!dataset_ids.insert(d.dataset_id).second)
        fail(join(p, "dataset_id"), "duplicate dataset id " + quoted(d.dataset_id));
      s.datasets.push_back(std::move(d));
    }
  }
  if (const auto* x = find(o, "faults")) {
    const auto& arr = as_array(*x, "faults");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      auto f = read_fault_impl(arr[i], index("faults", i));
      if (f.for_)
        fail(join(index("faults", i), "for"), "only for faults armed at runtime; use from/until");
      s.faults.push_back(std::move(f));
    }
  }
  return s;
}

// JSON allows numbers no double can hold (1e999 reads as infinity): refuse them up front,
// nothing downstream (ramps, dumps, clients) can do anything sensible with them.
void check_finite(const json::value& v, const std::string& path) {
  if (v.is_double() && !std::isfinite(v.get_double())) fail(path, "number out of range");
  if (v.is_object())
    for (const auto& [k, member] : v.get_object()) check_finite(member, join(path, k));
  if (v.is_array())
    for (std::size_t i = 0; i < v.get_array().size(); ++i)
      check_finite(v.get_array()[i], index(path, i));
}

template <class F>
auto catching(const json::value& input, const std::string& path, F&& f)
    -> scenario_result<decltype(f())> {
  try {
    check_finite(input, path);
    return f();
  } catch (const read_failure& e) {
    return e.error;
  }
}

// ---- deterministic randomness ------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double unit(std::uint64_t& state) {
  return static_cast<double>(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

template <class T>
void seeded_shuffle(std::vector<T>& v, std::uint64_t& state) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(splitmix64(state) % i);
    std::swap(v[i - 1], v[j]);
  }
}

std::string hex_id(std::uint64_t& state, std::size_t len) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < len) {
    auto x = splitmix64(state);
    for (int i = 0; i < 16 && out.size() < len; ++i, x >>= 4) out += digits[x & 0xf];
  }
  return out;
}

std::string alnum_id(std::uint64_t& state, std::size_t len) {
  static constexpr char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < len) out += chars[splitmix64(state) % 62];
  return out;
}

double round2(double d) {
  return std::round(d * 100.0) / 100.0;
}

}  // namespace

std::string_view to_string(pagination_mode m) noexcept {
  return m == pagination_mode::page ? "page" : "record";
}

std::optional<pagination_mode> parse_pagination_mode(std::string_view s) noexcept {
  if (s == "page") return pagination_mode::page;
  if (s == "record") return pagination_mode::record;
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, 14> k_fault_names{"throttle",
                                                         "error",
                                                         "delay",
                                                         "hang",
                                                         "close",
                                                         "reset",
                                                         "truncated_json",
                                                         "malformed_json",
                                                         "oversized",
                                                         "invalid_utf8",
                                                         "numbers_as_strings",
                                                         "unknown_status",
                                                         "missing_optional",
                                                         "extra_fields"};
constexpr std::array<std::string_view, 12> k_endpoint_names{
    "any",     "auto_task",   "auto_task_list", "workforce_task", "workforce_task_list",
    "sample",  "sample_list", "dataset_list",   "acceptance",     "iam",
    "control", "unknown"};
}  // namespace

std::string_view to_string(fault_kind k) noexcept {
  return k_fault_names[static_cast<std::size_t>(k)];
}

std::optional<fault_kind> parse_fault_kind(std::string_view s) noexcept {
  for (std::size_t i = 0; i < k_fault_names.size(); ++i)
    if (k_fault_names[i] == s) return static_cast<fault_kind>(i);
  return std::nullopt;
}

std::string_view to_string(endpoint e) noexcept {
  return k_endpoint_names[static_cast<std::size_t>(e)];
}

std::optional<endpoint> parse_endpoint(std::string_view s) noexcept {
  for (std::size_t i = 0; i < k_endpoint_names.size(); ++i)
    if (k_endpoint_names[i] == s) return static_cast<endpoint>(i);
  return std::nullopt;
}

std::optional<milliseconds> parse_signed_duration(std::string_view s) noexcept {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  const auto d = parse_duration(s);
  if (!d) return std::nullopt;
  return negative ? -*d : *d;
}

scenario_result<scenario> parse_scenario(std::string_view text, std::string_view source) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.allow_comments = true;
  opt.allow_trailing_commas = true;
  auto root = json::parse(text, ec, {}, opt);
  if (ec) {
    // Boost.JSON does not report where; find the line by re-parsing prefixes would be
    // quadratic, so use the stream parser's consumed byte count instead.
    json::stream_parser p({}, opt);
    std::size_t consumed = 0;
    boost::system::error_code pec;
    consumed = p.write_some(text.data(), text.size(), pec);
    if (!pec) p.finish(pec);
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return scenario_error{"", std::string(source) + ":" + std::to_string(line) + ":" +
                                  std::to_string(col) + ": invalid JSON: " + ec.message()};
  }
  return read_scenario(root);
}

scenario_result<scenario> read_scenario(const json::value& root) {
  return catching(root, "", [&] { return read_scenario_impl(root); });
}

scenario_result<task_spec> read_task(const json::value& v, task_kind kind,
                                     const std::string& dataset_id, const std::string& path) {
  return catching(v, path, [&] { return read_task_impl(v, kind, dataset_id, path); });
}

scenario_result<dataset_spec> read_dataset(const json::value& v, const std::string& path) {
  return catching(v, path, [&] { return read_dataset_impl(v, path, nullptr, nullptr); });
}

scenario_result<fault_spec> read_fault(const json::value& v, const std::string& path) {
  return catching(v, path, [&] { return read_fault_impl(v, path); });
}

// ---- samples -----------------------------------------------------------------------

std::vector<json::object> generate_samples(const sample_generator& g) {
  std::uint64_t state = g.seed * 0x2545F4914F6CDD1Dull + 0x1234567ull;
  std::vector<std::size_t> order(g.count);
  for (std::size_t i = 0; i < g.count; ++i) order[i] = i;
  // Hard flags: the first `hard` positions of a seeded permutation.
  seeded_shuffle(order, state);
  std::vector<bool> hard(g.count, false);
  for (std::size_t i = 0; i < g.hard; ++i) hard[order[i]] = true;
  // Statuses: exact counts, shuffled.
  std::vector<std::string_view> statuses;
  statuses.reserve(g.count);
  for (const auto& [name, n] : g.statuses) statuses.insert(statuses.end(), n, name);
  seeded_shuffle(statuses, state);

  std::vector<json::object> out;
  out.reserve(g.count);
  for (std::size_t i = 0; i < g.count; ++i) {
    std::uint64_t s = state ^ (static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull);
    const auto id = hex_id(s, 32);
    const auto& label = g.labels[static_cast<std::size_t>(splitmix64(s) % g.labels.size())];
    const double score = round2(g.score_min + (g.score_max - g.score_min) * unit(s));
    const bool is_hard = hard[i];
    const double coefficient = is_hard ? round2(0.5 + 0.5 * unit(s)) : 0.0;
    json::array reasons;
    std::string reasons_text;
    if (is_hard && !g.reasons.empty()) {
      std::vector<int> picked;
      const auto n = 1 + splitmix64(s) % std::min<std::size_t>(2, g.reasons.size());
      while (picked.size() < n) {
        const int r = g.reasons[static_cast<std::size_t>(splitmix64(s) % g.reasons.size())];
        if (std::find(picked.begin(), picked.end(), r) == picked.end()) picked.push_back(r);
      }
      std::sort(picked.begin(), picked.end());
      for (const int r : picked) {
        reasons.push_back(r);
        reasons_text += (reasons_text.empty() ? "" : "-") + std::to_string(r);
      }
    }
    json::object property{{"@modelarts:hard_coefficient", format_json_double(coefficient)},
                          {"@modelarts:hard", is_hard ? "true" : "false"}};
    if (is_hard) property["@modelarts:hard_reasons"] = reasons_text;
    const auto file = std::to_string(1597649054631 + static_cast<std::int64_t>(i) * 977) + ".jpg";
    out.push_back(json::object{
        {"sample_id", id},
        {"sample_type", g.sample_type},
        {"labels", json::array{json::object{{"name", label},
                                            {"type", 0},
                                            {"id", "1"},
                                            {"property", std::move(property)},
                                            {"score", score}}}},
        {"source",
         "https://sim-obs.obs.example.com:443/data/" + file +
             "?AccessKeyId=SIMULATEDOBSKEY00000&Expires=1606299474&Signature=c2ltdWxhdGVk"},
        {"metadata", json::object{{"@modelarts:hard_coefficient", coefficient},
                                  {"@modelarts:hard", is_hard},
                                  {"@modelarts:import_origin", 0},
                                  {"@modelarts:hard_reasons", std::move(reasons)}}},
        {"sample_time", 1600490651933 + static_cast<std::int64_t>(i) * 1000},
        {"sample_status", std::string(statuses[i])},
    });
  }
  return out;
}

namespace {

// "@modelarts:hard" as the pages send it: a JSON boolean, a number or "true"/"1".
std::optional<bool> hard_flag(const json::object& o) {
  const auto* h = o.if_contains("@modelarts:hard");
  if (!h) return std::nullopt;
  if (h->is_bool()) return h->get_bool();
  if (h->is_number()) return h->to_number<double>() != 0.0;
  if (h->is_string()) {
    const std::string_view t = h->get_string();
    return t == "true" || t == "True" || t == "1";
  }
  return std::nullopt;
}

// "@modelarts:hard_reasons" as an integer array or "3-20-21" text.
void add_reasons(const json::object& o, std::set<int>& out) {
  const auto* r = o.if_contains("@modelarts:hard_reasons");
  if (!r) return;
  if (r->is_array()) {
    for (const auto& x : r->get_array())
      if (x.is_int64()) out.insert(static_cast<int>(x.get_int64()));
  } else if (r->is_string()) {
    const std::string_view text = r->get_string();
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('-', start);
      if (end == std::string_view::npos) end = text.size();
      int id = 0;
      const auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + end, id);
      if (ec == std::errc{} && ptr == text.data() + end) out.insert(id);
      start = end + 1;
    }
  }
}

// Upper-inclusive buckets like Prometheus' `le`; nullopt above 1.0.
std::optional<std::size_t> score_bucket(double score) {
  static constexpr std::array<double, 10> bounds{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  for (std::size_t k = 0; k < bounds.size(); ++k)
    if (score <= bounds[k]) return k;
  return std::nullopt;
}

}  // namespace

sample_summary summarize_samples(const std::vector<json::object>& samples) {
  sample_summary s;
  s.count = samples.size();
  for (const auto& o : samples) {
    if (const auto* st = o.if_contains("sample_status"); st && st->is_string())
      ++s.statuses[std::string(st->get_string())];
    bool hard = false;
    bool flagged = false;
    std::set<int> reasons;
    if (const auto* md = o.if_contains("metadata"); md && md->is_object()) {
      const auto f = hard_flag(md->get_object());
      flagged = flagged || f.has_value();
      hard = hard || f.value_or(false);
      add_reasons(md->get_object(), reasons);
    }
    if (const auto* ls = o.if_contains("labels"); ls && ls->is_array()) {
      for (const auto& l : ls->get_array()) {
        if (!l.is_object()) continue;
        const auto& lo = l.get_object();
        if (const auto* p = lo.if_contains("property"); p && p->is_object()) {
          const auto f = hard_flag(p->get_object());
          flagged = flagged || f.has_value();
          hard = hard || f.value_or(false);
          add_reasons(p->get_object(), reasons);
        }
        const auto* sc = lo.if_contains("score");
        if (!sc || !sc->is_number()) continue;
        const double score = sc->to_number<double>();
        ++s.labels_scored;
        std::string name;
        if (const auto* n = lo.if_contains("name"); n && n->is_string()) name = n->get_string();
        auto& by_name = s.label_score_buckets[name];
        if (const auto b = score_bucket(score)) {
          ++s.score_buckets[*b];
          ++by_name[*b];
        } else {
          ++s.scores_above_one;
        }
      }
    }
    if (!flagged && !reasons.empty()) hard = true;
    if (hard) {
      ++s.hard;
      for (const int r : reasons) ++s.reasons[r];
    }
  }
  return s;
}

// ---- scale ---------------------------------------------------------------------------

scenario generate_scale_scenario(std::size_t auto_tasks, std::size_t workforce_tasks,
                                 std::size_t datasets, std::uint64_t seed) {
  scenario s;
  s.name = "scale";
  if (datasets == 0) datasets = 1;
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 7;
  for (std::size_t d = 0; d < datasets; ++d) {
    dataset_spec ds;
    ds.dataset_id = "ds" + alnum_id(state, 17);
    ds.dataset_name = "scale-dataset-" + std::to_string(d);
    ds.created = -std::chrono::hours(24 * static_cast<int>(30 + d % 60));
    s.datasets.push_back(std::move(ds));
  }
  using std::chrono::seconds;
  for (std::size_t i = 0; i < auto_tasks; ++i) {
    const auto& ds = s.datasets[i % datasets];
    task_spec t;
    t.kind = task_kind::auto_labeling;
    t.task_id = alnum_id(state, 19);
    t.task_name = "auto-label-" + std::to_string(i);
    t.dataset_id = ds.dataset_id;
    t.document = default_auto_document(t.task_id, t.task_name);
    t.created = -std::chrono::minutes(static_cast<int>(1 + i % 600));
    const std::int64_t total = 50 + static_cast<std::int64_t>(splitmix64(state) % 5000);
    // Staggered lifecycles: queue for a while, run for a few minutes, mostly succeed.
    const auto start = seconds(static_cast<int>(splitmix64(state) % 300));
    const auto run = seconds(60 + static_cast<int>(splitmix64(state) % 600));
    const bool fails = i % 17 == 5;
    t.document["result"] =
        json::object{{"total_sample_count", total}, {"annotated_sample_count", 0}};
    t.timeline.push_back(
        keyframe{seconds(0), false, json::object{{"status", -1}, {"progress", 0.0}}});
    t.timeline.push_back(
        keyframe{start, false, json::object{{"status", 1}, {"code", "ModelArts.4902"}}});
    if (fails) {
      t.timeline.push_back(keyframe{start + run / 2, true,
                                    json::object{{"progress", 40.0},
                                                 {"status", 2},
                                                 {"error_code", "ModelArts.4392"},
                                                 {"error_msg", "Task failed"}}});
    } else {
      t.timeline.push_back(
          keyframe{start + run, true,
                   json::object{{"progress", 100.0},
                                {"result", json::object{{"annotated_sample_count", total}}}}});
      t.timeline.push_back(keyframe{start + run + seconds(5), false,
                                    json::object{{"status", 3}, {"code", "ModelArts.4916"}}});
    }
    s.tasks.push_back(std::move(t));
  }
  for (std::size_t i = 0; i < workforce_tasks; ++i) {
    const auto& ds = s.datasets[i % datasets];
    task_spec t;
    t.kind = task_kind::workforce;
    t.task_id = alnum_id(state, 19);
    t.task_name = "team-task-" + std::to_string(i);
    t.dataset_id = ds.dataset_id;
    t.document = default_workforce_document(ds.dataset_id, t.task_id, t.task_name);
    t.created = -std::chrono::minutes(static_cast<int>(1 + i % 900));
    const std::int64_t total = 100 + static_cast<std::int64_t>(splitmix64(state) % 2000);
    auto stats = zero_sample_stats();
    stats["total_sample_count"] = total;
    stats["unannotated_sample_count"] = total;
    t.document["sample_stats"] = stats;
    const auto labeling = seconds(120 + static_cast<int>(splitmix64(state) % 900));
    auto done = stats;
    done["unannotated_sample_count"] = 0;
    done["uncheck_sample_count"] = total;
    t.timeline.push_back(keyframe{seconds(0), false, json::object{{"status", 1}}});
    t.timeline.push_back(keyframe{labeling, true, json::object{{"sample_stats", done}}});
    if (i % 3 == 0) {
      const std::int64_t sampling = std::max<std::int64_t>(1, total / 10);
      t.timeline.push_back(keyframe{
          labeling + seconds(10), false,
          json::object{
              {"status", 2},
              {"checking_task_desc",
               json::object{{"checking_task_id", alnum_id(state, 19)},
                            {"action", 0},
                            {"overwrite_last_result", false},
                            {"checking_stats", json::object{{"sampling_num", sampling},
                                                            {"sampled_sample_count", sampling},
                                                            {"checked_sample_count", 0},
                                                            {"accepted_sample_count", 0},
                                                            {"rejected_sample_count", 0},
                                                            {"unchecked_sample_count", sampling},
                                                            {"pass_rate", 0.0},
                                                            {"total_sample_count", total}}}}}}});
    }
    s.tasks.push_back(std::move(t));
  }
  return s;
}

// ---- dump ------------------------------------------------------------------------------

json::object scenario_to_json(const scenario& s) {
  json::object root;
  if (!s.name.empty()) root["name"] = s.name;
  root["project_id"] = s.project_id;
  root["project_name"] = s.project_name;
  root["speed"] = s.speed;
  root["pagination"] = to_string(s.pagination);
  root["not_found_status"] = s.not_found_status;
  root["workforce_stats_default"] = s.workforce_stats_default;
  root["acceptance_sync"] = format_duration(s.acceptance_sync);
  auto signed_text = [](milliseconds d) {
    return d < milliseconds{0} ? "-" + format_duration(-d) : format_duration(d);
  };
  json::array datasets;
  for (const auto& d : s.datasets) {
    json::object o{{"dataset_id", d.dataset_id},
                   {"dataset_name", d.dataset_name},
                   {"dataset_type", d.dataset_type}};
    if (d.created) o["created"] = signed_text(*d.created);
    if (!d.document.empty()) o["document"] = d.document;
    json::array autos, teams;
    for (const auto& t : s.tasks) {
      if (t.dataset_id != d.dataset_id) continue;
      json::object to{{"task_id", t.task_id},
                      {"task_name", t.task_name},
                      {"document", t.document},
                      {"verbatim", true}};
      if (t.created) to["created"] = signed_text(*t.created);
      if (t.visible_from > milliseconds{0}) to["visible_from"] = format_duration(t.visible_from);
      if (t.gone_at) to["gone_at"] = format_duration(*t.gone_at);
      if (!t.timeline.empty()) {
        json::array tl;
        for (const auto& k : t.timeline) {
          json::object ko{{"at", format_duration(k.at)}};
          if (k.ramp) ko["ramp"] = true;
          json::object extra;
          const auto known = t.kind == task_kind::auto_labeling
                                 ? std::span<const std::string_view>(k_auto_fields)
                                 : std::span<const std::string_view>(k_workforce_fields);
          for (const auto& [key, value] : k.patch) {
            if (std::find(known.begin(), known.end(), std::string_view(key)) != known.end())
              ko[key] = value;
            else
              extra[key] = value;
          }
          if (!extra.empty()) ko["extra"] = std::move(extra);
          tl.push_back(std::move(ko));
        }
        to["timeline"] = std::move(tl);
      }
      if (t.kind == task_kind::workforce) {
        if (t.acceptance_sync) to["acceptance_sync"] = format_duration(*t.acceptance_sync);
        if (!t.conflict_samples.empty()) {
          json::array cs;
          for (const auto& id : t.conflict_samples) cs.push_back(json::string(id));
          to["conflict_samples"] = std::move(cs);
        }
        teams.push_back(std::move(to));
      } else {
        autos.push_back(std::move(to));
      }
    }
    if (!autos.empty()) o["auto_tasks"] = std::move(autos);
    if (!teams.empty()) o["workforce_tasks"] = std::move(teams);
    if (!d.samples.empty()) {
      json::array samples;
      for (const auto& x : d.samples) samples.push_back(x);
      o["samples"] = std::move(samples);
    }
    if (d.generator) {
      const auto& g = *d.generator;
      json::object go{{"count", g.count},         {"seed", g.seed},
                      {"hard", g.hard},           {"score_min", g.score_min},
                      {"score_max", g.score_max}, {"sample_type", g.sample_type}};
      json::object st;
      for (const auto& [name, n] : g.statuses) st[name] = n;
      go["statuses"] = std::move(st);
      json::array labels, reasons;
      for (const auto& l : g.labels) labels.push_back(json::string(l));
      for (const int r : g.reasons) reasons.push_back(r);
      go["labels"] = std::move(labels);
      go["reasons"] = std::move(reasons);
      o["generate_samples"] = std::move(go);
    }
    datasets.push_back(std::move(o));
  }
  root["datasets"] = std::move(datasets);
  if (!s.faults.empty()) {
    json::array faults;
    for (const auto& f : s.faults) {
      json::object fo{{"kind", to_string(f.kind)}, {"endpoint", to_string(f.target)}};
      if (!f.id.empty()) fo["id"] = f.id;
      if (!f.task_id.empty()) fo["task_id"] = f.task_id;
      if (!f.dataset_id.empty()) fo["dataset_id"] = f.dataset_id;
      if (!f.method.empty()) fo["method"] = f.method;
      if (f.count) fo["count"] = *f.count;
      if (f.from) fo["from"] = format_duration(*f.from);
      if (f.until) fo["until"] = format_duration(*f.until);
      if (f.status) fo["status"] = f.status;
      if (!f.code.empty()) fo["code"] = f.code;
      if (f.retry_after) fo["retry_after"] = *f.retry_after;
      fo["retry_after_format"] = f.retry_after_format;
      if (f.delay > milliseconds{0}) fo["delay"] = format_duration(f.delay);
      fo["bytes"] = f.bytes;
      fo["status_code"] = f.status_code;
      if (f.partial_bytes) fo["partial_bytes"] = *f.partial_bytes;
      if (!f.error_code.empty()) fo["error_code"] = f.error_code;
      if (!f.error_msg.empty()) fo["error_msg"] = f.error_msg;
      faults.push_back(std::move(fo));
    }
    root["faults"] = std::move(faults);
  }
  return root;
}

void throw_exception_from_error(const scenario_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::invalid_argument(e.to_string()), loc);
}

}  // namespace labelwatch::sim
