#include "sim/world.hpp"

#include "sim/document.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace labelwatch::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::int64_t int_member(const json::object& o, std::string_view key, std::int64_t fallback = 0) {
  const auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() && std::fabs(v->get_double()) < 9e18)
    return static_cast<std::int64_t>(v->get_double());
  return fallback;
}

const json::object* object_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

// "2020-11-23 11:08:20": the auto task's create_time format (no zone; UTC here).
std::string plain_datetime(sys_time t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool is_active_auto_status(std::int64_t s) {
  return s == -1 || s == 0 || s == 1 || s == 4;
}

}  // namespace

milliseconds saturating_add(milliseconds a, milliseconds b) noexcept {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a.count(), b.count(), &out))
    return b.count() > 0 ? milliseconds::max() : milliseconds::min();
  return milliseconds{out};
}

sys_time saturating_add(sys_time t, milliseconds d) noexcept {
  return sys_time{saturating_add(t.time_since_epoch(), d)};
}

page_bounds paginate(std::size_t total, std::size_t offset, std::size_t limit,
                     pagination_mode mode) noexcept {
  if (limit == 0) return {total, total};
  std::size_t first = 0;
  if (mode == pagination_mode::page) {
    // Saturate instead of overflowing for absurd offsets.
    first = offset > total / limit ? total : offset * limit;
  } else {
    first = std::min(offset, total);
  }
  const std::size_t last = first + std::min(limit, total - first);
  return {first, last};
}

world::world(scenario s, sys_time start, std::uint64_t entropy)
    : scenario_(std::move(s)), start_(start), rng_(entropy ^ 0x5DEECE66Dull) {
  auto datasets = std::move(scenario_.datasets);
  auto tasks = std::move(scenario_.tasks);
  auto faults = std::move(scenario_.faults);
  scenario_.datasets.clear();
  scenario_.tasks.clear();
  scenario_.faults.clear();
  for (auto& d : datasets) add_dataset(std::move(d));
  for (auto& t : tasks) add_task(std::move(t));
  for (auto& f : faults) arm_fault(std::move(f), start);
}

milliseconds world::scenario_time(sys_time now) const noexcept {
  const auto wall = (now - start_).count();
  return milliseconds{
      static_cast<std::int64_t>(std::llround(static_cast<double>(wall) * scenario_.speed))};
}

sys_time world::wall_of(milliseconds st) const noexcept {
  const double ms = static_cast<double>(st.count()) / scenario_.speed;
  if (!(ms > -9e18 && ms < 9e18)) return ms > 0 ? sys_time::max() : sys_time::min();
  return saturating_add(start_, milliseconds{static_cast<std::int64_t>(std::llround(ms))});
}

void world::add_dataset(dataset_spec spec) {
  dataset_runtime d;
  d.samples = spec.samples;
  if (spec.generator) {
    auto generated = generate_samples(*spec.generator);
    d.samples.insert(d.samples.end(), std::make_move_iterator(generated.begin()),
                     std::make_move_iterator(generated.end()));
  }
  for (std::size_t i = 0; i < d.samples.size(); ++i) {
    const auto* id = d.samples[i].if_contains("sample_id");
    if (id && id->is_string()) d.sample_index.emplace(std::string(id->get_string()), i);
  }
  d.summary = summarize_samples(d.samples);
  d.spec = std::move(spec);
  dataset_index_.emplace(d.spec.dataset_id, datasets_.size());
  datasets_.push_back(std::move(d));
}

void world::add_task(task_spec spec) {
  task_runtime t;
  t.base = spec.document;
  json::object acc = t.base;
  for (const auto& k : spec.timeline) {
    merge_patch(acc, k.patch);
    t.frames.push_back(acc);
  }
  const auto ds = dataset_index_.find(spec.dataset_id);
  const auto index = tasks_.size();
  if (ds != dataset_index_.end()) {
    auto& list = spec.kind == task_kind::auto_labeling ? datasets_[ds->second].auto_tasks
                                                       : datasets_[ds->second].workforce_tasks;
    list.push_back(index);
  }
  task_index_.emplace(spec.task_id, index);
  t.spec = std::move(spec);
  tasks_.push_back(std::move(t));
}

std::optional<std::size_t> world::find_dataset(std::string_view dataset_id) const {
  const auto it = dataset_index_.find(dataset_id);
  if (it == dataset_index_.end()) return std::nullopt;
  return it->second;
}

const std::vector<json::object>& world::samples(std::size_t dataset) const {
  return datasets_[dataset].samples;
}

const json::object* world::sample(std::size_t dataset, std::string_view sample_id) const {
  const auto& d = datasets_[dataset];
  const auto it = d.sample_index.find(sample_id);
  return it == d.sample_index.end() ? nullptr : &d.samples[it->second];
}

sample_summary world::sample_summary_of(std::size_t dataset) const {
  return datasets_[dataset].summary;
}

std::optional<std::size_t> world::find_task(std::string_view task_id) const {
  const auto it = task_index_.find(task_id);
  if (it == task_index_.end()) return std::nullopt;
  return it->second;
}

bool world::is_visible(std::size_t index, sys_time now) const {
  const auto& t = tasks_[index];
  const auto st = scenario_time(now);
  if (st < t.spec.visible_from) return false;
  if (t.spec.gone_at && st >= *t.spec.gone_at) return false;
  if (t.deleted_at && st >= *t.deleted_at) return false;
  return true;
}

std::optional<std::size_t> world::visible_task(task_kind kind, std::string_view dataset_id,
                                               std::string_view task_id, sys_time now) const {
  const auto idx = find_task(task_id);
  if (!idx) return std::nullopt;
  const auto& t = tasks_[*idx].spec;
  if (t.kind != kind || t.dataset_id != dataset_id || !is_visible(*idx, now)) return std::nullopt;
  return idx;
}

std::vector<std::size_t> world::visible_tasks(task_kind kind, std::size_t dataset,
                                              sys_time now) const {
  const auto& list = kind == task_kind::auto_labeling ? datasets_[dataset].auto_tasks
                                                      : datasets_[dataset].workforce_tasks;
  std::vector<std::size_t> out;
  out.reserve(list.size());
  for (const auto i : list)
    if (is_visible(i, now)) out.push_back(i);
  return out;
}

json::object world::render_at(const task_runtime& t, milliseconds st) const {
  const auto& tl = t.spec.timeline;
  // Last keyframe at or before st.
  const auto after = std::upper_bound(tl.begin(), tl.end(), st,
                                      [](milliseconds v, const keyframe& k) { return v < k.at; });
  const auto applied = static_cast<std::size_t>(after - tl.begin());
  json::object doc = applied == 0 ? t.base : t.frames[applied - 1];
  if (applied > 0 && applied < tl.size() && tl[applied].ramp) {
    const auto span = (tl[applied].at - tl[applied - 1].at).count();
    const double fraction = span <= 0 ? 1.0
                                      : static_cast<double>((st - tl[applied - 1].at).count()) /
                                            static_cast<double>(span);
    interpolate(doc, t.frames[applied], fraction);
  }
  milliseconds last_change = applied > 0 ? tl[applied - 1].at : milliseconds{0};
  for (const auto& o : t.overrides) {
    if (o.at > st) continue;
    merge_patch(doc, o.patch);
    last_change = std::max(last_change, o.at);
  }
  const auto created = wall_of(t.spec.created.value_or(t.spec.visible_from));
  if (t.spec.kind == task_kind::auto_labeling) {
    if (!doc.contains("create_time")) doc["create_time"] = plain_datetime(created);
  } else {
    if (!doc.contains("create_time")) doc["create_time"] = to_unix_ms(created);
    // update_time follows the last change the simulation made (keyframe or runtime),
    // never going back behind what the document says.
    const auto changed = last_change > milliseconds{0} ? to_unix_ms(wall_of(last_change)) : 0;
    const auto current = int_member(doc, "update_time", to_unix_ms(created));
    doc["update_time"] = std::max(current, changed);
  }
  return doc;
}

json::object world::render(std::size_t index, sys_time now) const {
  return render_at(tasks_[index], scenario_time(now));
}

json::object world::dataset_document(std::size_t index, sys_time now) const {
  const auto& d = datasets_[index];
  const auto created = saturating_add(start_, d.spec.created.value_or(-std::chrono::hours(24 * 7)));
  json::object doc{
      {"dataset_id", d.spec.dataset_id},
      {"dataset_name", d.spec.dataset_name},
      {"dataset_type", d.spec.dataset_type},
      {"dataset_format", 0},
      {"status", 1},
      {"description", ""},
      {"data_format", "Default"},
      {"work_path", "/labelwatch-sim/" + d.spec.dataset_name + "/"},
      {"work_path_type", 0},
      {"create_time", to_unix_ms(created)},
      {"update_time", to_unix_ms(created)},
  };
  merge_patch(doc, d.spec.document);
  const auto teams = visible_tasks(task_kind::workforce, index, now);
  json::array running;
  for (const auto i : visible_tasks(task_kind::auto_labeling, index, now)) {
    const auto task_doc = render(i, now);
    if (is_active_auto_status(int_member(task_doc, "status", -100)))
      running.push_back(json::string(tasks_[i].spec.task_id));
  }
  doc["exist_workforce_task"] = !teams.empty();
  doc["workforce_task_count"] = teams.size();
  doc["exist_running_task"] = !running.empty();
  doc["running_tasks_id"] = std::move(running);
  if (!doc.contains("total_sample_count")) doc["total_sample_count"] = d.samples.size();
  if (!doc.contains("annotated_sample_count")) {
    std::size_t annotated = 0;
    for (const auto& [name, n] : d.summary.statuses)
      if (name != "UN_ANNOTATION" && name != "__NONE__") annotated += n;
    doc["annotated_sample_count"] = annotated;
  }
  return doc;
}

acceptance_result world::apply_acceptance(std::size_t index, int action, bool overwrite,
                                          sys_time now) {
  auto& t = tasks_[index];
  const auto st = scenario_time(now);
  const auto doc = render_at(t, st);
  const auto status = int_member(doc, "status", -1);
  acceptance_result out;
  if (status == 5 || status == 7) {
    out.failure = api_failure{400, "ModelArts.4623", "Workforce task is checking"};
    return out;
  }
  if (status != 2) {
    out.failure = api_failure{400, "ModelArts.4624", "The member task is not checked."};
    return out;
  }
  if (action == 3) {
    // The conflict list: the task's conflict samples as full sample documents.
    json::array samples;
    if (const auto ds = find_dataset(t.spec.dataset_id)) {
      for (const auto& id : t.spec.conflict_samples)
        if (const auto* s = sample(*ds, id)) samples.push_back(*s);
    }
    out.body["sample_count"] = samples.size();
    out.body["samples"] = std::move(samples);
    return out;
  }
  if (action == 2) {
    t.overrides.push_back({st, json::object{{"status", 1}, {"checking_task_desc", nullptr}}});
    return out;
  }

  // 0, 1, 4, 5: syncing now, the final state after the sync time.
  json::object stats;
  if (const auto* s = object_member(doc, "sample_stats")) stats = *s;
  std::int64_t check_accepted = 0, check_rejected = 0;
  if (const auto* desc = object_member(doc, "checking_task_desc"))
    if (const auto* cs = object_member(*desc, "checking_stats")) {
      check_accepted = int_member(*cs, "accepted_sample_count");
      check_rejected = int_member(*cs, "rejected_sample_count");
    }
  auto accepted = int_member(stats, "accepted_sample_count");
  auto rejected = int_member(stats, "rejected_sample_count");
  const auto uncheck = int_member(stats, "uncheck_sample_count");
  switch (action) {
    case 0:
      accepted += uncheck;
      break;
    case 1:
      rejected += uncheck;
      break;
    case 4:
      rejected += std::min(check_rejected, uncheck);
      accepted += uncheck - std::min(check_rejected, uncheck);
      break;
    case 5:
      accepted += std::min(check_accepted, uncheck);
      rejected += uncheck - std::min(check_accepted, uncheck);
      break;
    default:
      break;
  }
  json::object final_stats{{"accepted_sample_count", accepted},
                           {"rejected_sample_count", rejected},
                           {"uncheck_sample_count", 0},
                           {"sampled_sample_count", 0}};
  const auto sync = t.spec.acceptance_sync.value_or(scenario_.acceptance_sync);
  t.overrides.push_back(
      {st, json::object{{"status", 5},
                        {"checking_task_desc",
                         json::object{{"action", action}, {"overwrite_last_result", overwrite}}}}});
  t.overrides.push_back(
      {saturating_add(st, sync),
       json::object{{"status", action == 1 ? 4 : 3}, {"sample_stats", std::move(final_stats)}}});
  out.body = json::object{};
  return out;
}

void world::patch_task(std::size_t index, const json::object& patch, bool freeze, sys_time now) {
  auto& t = tasks_[index];
  const auto st = scenario_time(now);
  if (freeze) {
    t.base = render_at(t, st);
    t.frames.clear();
    t.spec.timeline.clear();
    t.overrides.clear();
  }
  t.overrides.push_back({st, patch});
}

void world::delete_task(std::size_t index, sys_time now) {
  auto& t = tasks_[index];
  const auto st = scenario_time(now);
  if (!t.deleted_at || *t.deleted_at > st) t.deleted_at = st;
}

std::string world::new_id(std::size_t length) {
  static constexpr char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  do {
    out.clear();
    while (out.size() < length) out += chars[splitmix64(rng_) % 62];
  } while (task_index_.contains(out));
  return out;
}

std::variant<std::string, api_failure> world::create_task(task_spec spec, sys_time now) {
  if (!dataset_index_.contains(spec.dataset_id))
    return api_failure{400, "ModelArts.4352", "Dataset does not exist"};
  if (spec.task_id.empty()) {
    spec.task_id = new_id();
    if (spec.task_name.empty()) spec.task_name = spec.task_id;
    spec.document["task_id"] = spec.task_id;
    if (spec.kind == task_kind::auto_labeling) spec.document["resource_id"] = spec.task_id;
  }
  if (task_index_.contains(spec.task_id))
    return api_failure{400, "ModelArts.4620", "The workforce task already exists"};
  const auto st = scenario_time(now);
  spec.visible_from = saturating_add(spec.visible_from, st);
  if (spec.gone_at) spec.gone_at = saturating_add(*spec.gone_at, st);
  spec.created = saturating_add(st, spec.created.value_or(milliseconds{0}));
  for (auto& k : spec.timeline) k.at = saturating_add(k.at, st);
  auto id = spec.task_id;
  add_task(std::move(spec));
  return id;
}

std::optional<api_failure> world::create_dataset(dataset_spec spec, sys_time now) {
  if (dataset_index_.contains(spec.dataset_id))
    return api_failure{400, "ModelArts.4351", "Dataset already exists"};
  // `created` is relative to now for datasets made at runtime.
  spec.created = saturating_add(now - start_, spec.created.value_or(milliseconds{0}));
  add_dataset(std::move(spec));
  return std::nullopt;
}

std::string world::arm_fault(fault_spec f, sys_time now) {
  armed_fault a;
  if (f.from) a.from = saturating_add(start_, *f.from);
  if (f.until) a.until = saturating_add(start_, *f.until);
  if (f.for_) {
    a.from = a.from.value_or(now);
    a.until = saturating_add(now, *f.for_);
  }
  a.remaining = f.count;
  const auto taken = [&](const std::string& id) {
    return std::any_of(faults_.begin(), faults_.end(),
                       [&](const armed_fault& x) { return x.spec.id == id; });
  };
  if (f.id.empty() || taken(f.id)) {
    do f.id = "f" + std::to_string(++fault_counter_);
    while (taken(f.id));
  }
  a.spec = std::move(f);
  faults_.push_back(std::move(a));
  return faults_.back().spec.id;
}

bool world::clear_fault(std::string_view id) {
  const auto it = std::find_if(faults_.begin(), faults_.end(),
                               [&](const armed_fault& f) { return f.spec.id == id; });
  if (it == faults_.end()) return false;
  faults_.erase(it);
  return true;
}

void world::clear_faults() {
  faults_.clear();
}

std::optional<fault_spec> world::take_fault(const request_facts& r, sys_time now) {
  if (r.target == endpoint::control || r.target == endpoint::unknown) return std::nullopt;
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    auto& f = *it;
    if (f.spec.target == endpoint::any ? r.target == endpoint::iam : f.spec.target != r.target)
      continue;
    if (!f.spec.task_id.empty() && f.spec.task_id != r.task_id) continue;
    if (!f.spec.dataset_id.empty() && f.spec.dataset_id != r.dataset_id) continue;
    if (!f.spec.method.empty() && f.spec.method != r.method) continue;
    if (f.from && now < *f.from) continue;
    if (f.until && now >= *f.until) continue;
    ++f.hits;
    auto spec = f.spec;
    if (f.remaining && --*f.remaining == 0) faults_.erase(it);
    return spec;
  }
  return std::nullopt;
}

json::array world::faults_json(sys_time now) const {
  json::array out;
  for (const auto& f : faults_) {
    json::object o{{"id", f.spec.id},
                   {"kind", to_string(f.spec.kind)},
                   {"endpoint", to_string(f.spec.target)},
                   {"hits", f.hits}};
    if (!f.spec.task_id.empty()) o["task_id"] = f.spec.task_id;
    if (!f.spec.dataset_id.empty()) o["dataset_id"] = f.spec.dataset_id;
    if (!f.spec.method.empty()) o["method"] = f.spec.method;
    if (f.remaining) o["remaining"] = *f.remaining;
    if (f.from) o["from_ms"] = to_unix_ms(*f.from);
    if (f.until) o["until_ms"] = to_unix_ms(*f.until);
    o["active"] = (!f.from || now >= *f.from) && (!f.until || now < *f.until);
    out.push_back(std::move(o));
  }
  return out;
}

json::array world::datasets_view(sys_time now) const {
  json::array out;
  for (std::size_t di = 0; di < datasets_.size(); ++di) {
    const auto& d = datasets_[di];
    json::object o{{"dataset_id", d.spec.dataset_id}, {"dataset_name", d.spec.dataset_name}};
    const std::pair<const char*, const std::vector<std::size_t>*> lists[] = {
        {"auto_tasks", &d.auto_tasks}, {"workforce_tasks", &d.workforce_tasks}};
    for (const auto& [key, list] : lists) {
      json::array tasks;
      for (const auto i : *list) {
        const auto& t = tasks_[i];
        const bool visible = is_visible(i, now);
        json::object to{
            {"task_id", t.spec.task_id}, {"task_name", t.spec.task_name}, {"visible", visible}};
        if (t.deleted_at) to["deleted"] = true;
        if (visible) {
          const auto doc = render(i, now);
          const auto code = int_member(doc, "status", -100);
          to["status"] = code;
          to["status_name"] = status_name(t.spec.kind, code);
          if (const auto* p = doc.if_contains("progress"); p && p->is_number())
            to["progress"] = p->to_number<double>();
        }
        tasks.push_back(std::move(to));
      }
      o[key] = std::move(tasks);
    }
    const auto& s = d.summary;
    json::object statuses, reasons;
    for (const auto& [name, n] : s.statuses) statuses[name] = n;
    for (const auto& [r, n] : s.reasons) reasons[std::to_string(r)] = n;
    json::array buckets;
    for (const auto n : s.score_buckets) buckets.push_back(n);
    json::object by_label;
    for (const auto& [name, counts] : s.label_score_buckets) {
      json::array a;
      for (const auto n : counts) a.push_back(n);
      by_label[name] = std::move(a);
    }
    o["samples"] = json::object{{"count", s.count},
                                {"hard", s.hard},
                                {"statuses", std::move(statuses)},
                                {"reasons", std::move(reasons)},
                                {"labels_scored", s.labels_scored},
                                {"score_buckets", std::move(buckets)},
                                {"scores_above_one", s.scores_above_one},
                                {"label_score_buckets", std::move(by_label)}};
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace labelwatch::sim
