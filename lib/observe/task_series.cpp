// Cached rendering of the per-task series (see task_series.hpp for why).
#include "observe/task_series.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <utility>

namespace labelwatch::observe::detail {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

// An ostream target that appends to a std::string: TextSerializer issues one write per
// label character, and std::ostringstream's buffer handling (plus the final copy out of
// it) costs a third more than a plain append.
class string_sink final : public std::streambuf {
 public:
  explicit string_sink(std::string& out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::string& out_;
};

bool row_less(const task_record::row& r, std::uint32_t id) noexcept { return r.id < id; }

}  // namespace

void serialize_families(std::string& out, const std::vector<MetricFamily>& families) {
  string_sink sink(out);
  std::ostream stream(&sink);
  prometheus::TextSerializer{}.Serialize(stream, families);
}

task_record::slot* task_record::find(std::uint8_t family) noexcept {
  for (auto& s : slots)
    if (s.family == family) return &s;
  return nullptr;
}

const task_record::slot* task_record::find(std::uint8_t family) const noexcept {
  for (const auto& s : slots)
    if (s.family == family) return &s;
  return nullptr;
}

task_series::task_series(std::vector<task_family> families) : families_(std::move(families)) {
  // The HELP and TYPE lines never change: render them once, with TextSerializer too.
  for (const auto& f : families_) {
    MetricFamily empty;
    empty.name = f.name;
    empty.help = f.help;
    empty.type = prometheus::MetricType::Gauge;
    std::string header;
    serialize_families(header, {empty});
    headers_.push_back(std::move(header));
  }
}

task_record& task_series::record(const task_key& key) {
  auto it = tasks_.find(key);
  if (it == tasks_.end()) {
    it = tasks_.emplace(key, task_record{}).first;
    it->second.key = key;
  }
  return it->second;
}

task_record* task_series::find(const task_key& key) noexcept {
  const auto it = tasks_.find(key);
  return it == tasks_.end() ? nullptr : &it->second;
}

bool task_series::remove(const task_key& key) {
  const auto it = tasks_.find(key);
  if (it == tasks_.end()) return false;
  bool had = false;
  for (const auto& s : it->second.slots) had = had || !s.rows.empty();
  tasks_.erase(it);
  return had;
}

bool task_series::set(task_record& t, std::uint8_t family, std::uint32_t id,
                      std::optional<double> value) {
  auto* s = t.find(family);
  if (s == nullptr) {
    if (!value) return false;
    s = &t.slots.emplace_back();
    s->family = family;
  }
  auto it = std::lower_bound(s->rows.begin(), s->rows.end(), id, row_less);
  const bool present = it != s->rows.end() && it->id == id;
  if (!value) {
    if (!present) return false;
    std::size_t offset = 0;
    for (auto r = s->rows.begin(); r != it; ++r) offset += r->length;
    s->text.erase(offset, it->length);
    s->rows.erase(it);
    return true;
  }
  if (!present) {
    s->rows.insert(it, task_record::row{id, 0, *value, true});
  } else if (std::memcmp(&it->value, &*value, sizeof(double)) != 0) {
    // Bitwise: NaN never compares equal, and a NaN that stays NaN is no change.
    it->value = *value;
    it->dirty = true;
  } else {
    return false;
  }
  s->dirty = true;
  return true;
}

void task_series::touch(task_record& t, std::uint8_t family) {
  auto* s = t.find(family);
  if (s == nullptr) return;
  for (auto& r : s->rows) r.dirty = true;
  s->dirty = !s->rows.empty();
}

void task_series::add_metric(const task_record& t, std::uint8_t family, std::uint32_t id,
                            double value, std::vector<ClientMetric>& out) const {
  ClientMetric m;
  m.label.reserve(4);
  m.label.push_back({"dataset_id", t.key.dataset_id});
  m.label.push_back({"task_id", t.key.task_id});
  families_[family].labels(t, id, m.label);
  std::sort(m.label.begin(), m.label.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  m.gauge.value = value;
  out.push_back(std::move(m));
}

void task_series::render(std::uint8_t family) {
  // Every dirty row of the family in one TextSerializer call, then the output is cut
  // back into lines: a gauge sample is exactly one line (label values escape their
  // newlines), and the family's own lines start with '#'.
  std::vector<task_record::slot*> dirty;
  std::vector<MetricFamily> batch(1);
  batch[0].name = families_[family].name;
  batch[0].type = prometheus::MetricType::Gauge;
  for (auto& [key, t] : tasks_) {
    auto* s = t.find(family);
    if (s == nullptr || !s->dirty) continue;
    dirty.push_back(s);
    for (const auto& r : s->rows)
      if (r.dirty) add_metric(t, family, r.id, r.value, batch[0].metric);
  }
  if (dirty.empty()) return;
  std::string text;
  serialize_families(text, batch);
  batch.clear();

  std::size_t pos = 0;
  while (pos < text.size() && text[pos] == '#') {
    const auto eol = text.find('\n', pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
  }
  std::string merged;
  for (auto* s : dirty) {
    merged.clear();
    std::size_t old = 0;
    for (auto& r : s->rows) {
      if (r.dirty) {
        auto eol = text.find('\n', pos);
        eol = eol == std::string::npos ? text.size() : eol + 1;
        merged.append(text, pos, eol - pos);
        old += r.length;
        r.length = static_cast<std::uint32_t>(eol - pos);
        r.dirty = false;
        pos = eol;
      } else {
        merged.append(s->text, old, r.length);
        old += r.length;
      }
    }
    s->text.assign(merged);
    s->dirty = false;
  }
}

void task_series::serialize(std::string& out) {
  std::vector<std::size_t> bytes(families_.size(), 0);
  std::vector<bool> used(families_.size(), false);
  for (std::size_t f = 0; f < families_.size(); ++f) render(static_cast<std::uint8_t>(f));
  for (const auto& [key, t] : tasks_) {
    for (const auto& s : t.slots) {
      bytes[s.family] += s.text.size();
      if (!s.rows.empty()) used[s.family] = true;
    }
  }
  std::size_t total = 0;
  for (std::size_t f = 0; f < families_.size(); ++f)
    if (used[f]) total += headers_[f].size() + bytes[f];
  out.reserve(out.size() + total);
  for (std::size_t f = 0; f < families_.size(); ++f) {
    if (!used[f]) continue;
    out += headers_[f];
    for (const auto& [key, t] : tasks_)
      if (const auto* s = t.find(static_cast<std::uint8_t>(f))) out += s->text;
  }
}

std::vector<MetricFamily> task_series::collect() const {
  std::vector<MetricFamily> out;
  for (std::size_t f = 0; f < families_.size(); ++f) {
    MetricFamily mf;
    mf.name = families_[f].name;
    mf.help = families_[f].help;
    mf.type = prometheus::MetricType::Gauge;
    const auto family = static_cast<std::uint8_t>(f);
    for (const auto& [key, t] : tasks_)
      if (const auto* s = t.find(family))
        for (const auto& r : s->rows) add_metric(t, family, r.id, r.value, mf.metric);
    if (!mf.metric.empty()) out.push_back(std::move(mf));
  }
  return out;
}

}  // namespace labelwatch::observe::detail
