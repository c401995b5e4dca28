#include "sim/journal.hpp"

namespace labelwatch::sim {

std::uint64_t journal::append(journal_entry e) {
  e.seq = next_seq_++;
  if (e.body.size() > body_limit_) e.body.resize(body_limit_);
  if (capacity_ == 0) {
    ++dropped_;
    return e.seq;
  }
  if (entries_.size() >= capacity_) {
    entries_.pop_front();
    ++dropped_;
  }
  entries_.push_back(std::move(e));
  return entries_.back().seq;
}

void journal::set_duration(std::uint64_t seq, std::int64_t duration_ms) {
  if (entries_.empty() || seq < entries_.front().seq || seq > entries_.back().seq) return;
  entries_[static_cast<std::size_t>(seq - entries_.front().seq)].duration_ms = duration_ms;
}

boost::json::object journal::to_json(const journal_entry& e) {
  boost::json::object o{{"seq", e.seq},   {"time_ms", e.time_ms}, {"method", e.method},
                        {"path", e.path}, {"query", e.query},     {"endpoint", to_string(e.target)},
                        {"auth", e.auth}, {"status", e.status},   {"request_id", e.request_id}};
  if (!e.dataset_id.empty()) o["dataset_id"] = e.dataset_id;
  if (!e.task_id.empty()) o["task_id"] = e.task_id;
  o["fault"] = e.fault.empty() ? boost::json::value(nullptr) : boost::json::value(e.fault);
  if (!e.error_code.empty()) o["error_code"] = e.error_code;
  o["duration_ms"] =
      e.duration_ms ? boost::json::value(*e.duration_ms) : boost::json::value(nullptr);
  if (!e.body.empty()) o["body"] = e.body;
  if (!e.detail.empty()) o["detail"] = e.detail;
  return o;
}

boost::json::object journal::query(const journal_filter& f) const {
  boost::json::array out;
  // Entries are in seq order: start at the first one after `since`.
  std::size_t start = 0;
  if (!entries_.empty() && f.since >= entries_.front().seq)
    start = static_cast<std::size_t>(f.since - entries_.front().seq + 1);
  for (std::size_t i = start; i < entries_.size() && out.size() < f.limit; ++i) {
    const auto& e = entries_[i];
    if (!f.method.empty() && e.method != f.method) continue;
    if (f.target && e.target != *f.target) continue;
    if (!f.task_id.empty() && e.task_id != f.task_id) continue;
    if (f.status && e.status != *f.status) continue;
    out.push_back(to_json(e));
  }
  return boost::json::object{{"entries", std::move(out)},
                             {"last_seq", last_seq()},
                             {"oldest_seq", oldest_seq()},
                             {"dropped", dropped_}};
}

}  // namespace labelwatch::sim
