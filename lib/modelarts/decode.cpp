// Tolerant decoding of ModelArts documents: one parse into a Boost.JSON value backed by
// a stack-first monotonic arena, then one walk that copies only modelled fields.
#include "modelarts/decode.hpp"

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "modelarts/json_reader.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <cstdint>

namespace labelwatch::modelarts {
namespace json = boost::json;
using detail::json_path;
using detail::object_view;

namespace {

// ---- parsing ------------------------------------------------------------------------

// Parsed values of typical detail documents fit on the stack; larger bodies spill to the heap.
constexpr std::size_t k_value_arena = 16 * 1024;

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_json_space(std::string_view s) noexcept {
  while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

decode_error parse_error(std::string_view body, std::size_t offset, const json::error_code& ec) {
  offset = std::min(offset, body.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (body[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {"", "invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
                  " (byte " + std::to_string(offset) + "): " + ec.message()};
}

// Parses `body` and hands its root object to `fill(object_view, T&)`. The parsed value
// lives in an arena that dies with this frame; only what `fill` copies survives.
template <class T, class Fill>
decode_result<T> decode_object(std::string_view body, Fill&& fill) {
  if (trim_json_space(body).empty()) return decode_error{"", "empty body"};
  alignas(std::max_align_t) unsigned char arena[k_value_arena];
  json::monotonic_resource mr(arena, sizeof arena);
  json::error_code ec;
  std::size_t consumed = 0;
  const json::value root = detail::parse_json(body, &mr, ec, consumed);
  if (ec) return parse_error(body, consumed, ec);
  if (!root.is_object())
    return decode_error{"", "expected a JSON object, got " + detail::describe(root)};
  detail::reader r;
  const json_path at_root;
  T out{};
  fill(object_view{r, root.get_object(), at_root}, out);
  if (!r.ok()) return r.take_error();
  return out;
}

// Millisecond fields documented as Long: read with the time rules (so a date string is
// tolerated too) and kept as epoch ms.
void epoch_ms(const object_view& o, std::string_view key, std::optional<std::int64_t>& out) {
  std::optional<sys_time> t;
  o.time(key, t);
  if (t) out = to_unix_ms(*t);
}

// ---- auto-labeling task --------------------------------------------------------------

void read_config(const object_view& o, smart_task_config& c) {
  o.string("algorithm_type", c.algorithm_type);
  o.string("name", c.name);
  o.string("description", c.description);
  o.string("model_id", c.model_id);
  o.string("model_name", c.model_name);
  o.string("model_version", c.model_version);
  o.boolean("collect_sample", c.collect_sample);
  o.integer("worker_server_num", c.worker_server_num);
}

void read_event(const object_view& o, task_event& e) {
  epoch_ms(o, "create_time", e.create_time_ms);
  o.string("name", e.name);
  o.string("description", e.description);
  o.string("status", e.status);
  o.string("error_code", e.error_code);
  o.string("error_message", e.error_message);
  o.integer("level", e.level);
  o.integer("ordinal", e.ordinal);
  o.integer("elapsed_time", e.elapsed_time);
  // Sub-events nest; the parser's depth limit (32) bounds this recursion.
  o.objects("events", e.events, read_event);
}

void read_result(const object_view& o, auto_task_result& r) {
  o.count("total_sample_count", r.total_sample_count);
  o.count("annotated_sample_count", r.annotated_sample_count);
  o.count("unconfirmed_sample_count", r.unconfirmed_sample_count);
  o.string("dataset_name", r.dataset_name);
  o.string("dataset_type", r.dataset_type);
  o.string("confidence_scope", r.confidence_scope);
  o.string("train_job_id", r.train_job_id);
  o.string("train_job_name", r.train_job_name);
  o.string("service_id", r.service_id);
  o.string("service_name", r.service_name);
  o.string("version_id", r.version_id);
  o.string("version_name", r.version_name);
  o.objects("events", r.events, read_event);
}

enum class id_rule { required, optional };

void read_auto_task(const object_view& o, auto_task& t, id_rule id) {
  if (id == id_rule::required)
    o.required_string("task_id", t.task_id);
  else
    o.string("task_id", t.task_id);
  o.required_integer("status", t.status_code);
  o.string("task_name", t.task_name);
  o.string("dataset_id", t.dataset_id);
  o.string("resource_id", t.resource_id);
  o.number("progress", t.progress);
  o.time("create_time", t.create_time, &t.create_time_raw);
  o.integer("elapsed_time", t.elapsed_time);
  o.integer("export_type", t.export_type);
  o.integer("type", t.type);
  o.string("code", t.code);
  o.string("message", t.message);
  o.string("error_code", t.error_code);
  o.string("error_msg", t.error_msg);
  o.string("error_detail", t.error_detail);
  o.count("total_sample_count", t.total_sample_count);
  o.count("annotated_sample_count", t.annotated_sample_count);
  o.count("unconfirmed_sample_count", t.unconfirmed_sample_count);
  o.string("model_id", t.model_id);
  o.string("model_name", t.model_name);
  o.string("model_version", t.model_version);
  o.object("config", [&](const object_view& c) { read_config(c, t.config); });
  o.object("result", t.result, read_result);
}

// ---- team labeling task --------------------------------------------------------------

void read_sample_stats(const object_view& o, sample_stats& s) {
  o.count("total_sample_count", s.total_sample_count);
  o.count("unannotated_sample_count", s.unannotated_sample_count);
  o.count("unreviewed_sample_count", s.unreviewed_sample_count);
  o.count("uncheck_sample_count", s.uncheck_sample_count);
  o.count("sampled_sample_count", s.sampled_sample_count);
  o.count("rejected_sample_count", s.rejected_sample_count);
  o.count("accepted_sample_count", s.accepted_sample_count);
  o.count("auto_annotation_sample_count", s.auto_annotation_sample_count);
  o.count("deleted_sample_count", s.deleted_sample_count);
}

void read_check_stats(const object_view& o, check_task_stats& s) {
  o.count("accepted_sample_count", s.accepted_sample_count);
  o.count("checked_sample_count", s.checked_sample_count);
  o.number("pass_rate", s.pass_rate);
  o.count("rejected_sample_count", s.rejected_sample_count);
  o.count("sampled_sample_count", s.sampled_sample_count);
  o.count("sampling_num", s.sampling_num);
  o.number("sampling_rate", s.sampling_rate);
  o.string("score", s.score);
  o.string("task_id", s.task_id);
  o.count("total_sample_count", s.total_sample_count);
  o.integer("total_score", s.total_score);
  o.count("unchecked_sample_count", s.unchecked_sample_count);
}

void read_checking(const object_view& o, checking_task_desc& c) {
  o.string("checking_task_id", c.checking_task_id);
  o.integer("action", c.action);
  o.boolean("overwrite_last_result", c.overwrite_last_result);
  o.object("checking_stats", c.checking_stats, read_check_stats);
  o.object("total_stats", c.total_stats, read_check_stats);
}

void read_worker_ref(const object_view& o, worker_ref& w) {
  o.string("worker_id", w.worker_id);
  o.string("email", w.email);
  o.integer("role", w.role);
  o.integer("status", w.status);
}

void read_workforce_entry(const object_view& o, workforce_config_entry& e) {
  o.string("workforce_id", e.workforce_id);
  o.string("workforce_name", e.workforce_name);
  o.objects("workers", e.workers, read_worker_ref);
}

void read_workforces_config(const object_view& o, workforces_config& c) {
  o.string("agency", c.agency);
  o.objects("workforces", c.workforces, read_workforce_entry);
}

void read_workforce_stats(const object_view& o, workforce_stats& s) {
  o.count("workforce_count", s.workforce_count);
  o.count("labeler_count", s.labeler_count);
  o.count("reviewer_count", s.reviewer_count);
}

void read_worker_task(const object_view& o, worker_task& w) {
  o.string("worker_id", w.worker_id);
  o.string("email", w.email);
  o.integer("role", w.role);
  o.integer("task_status", w.task_status);
  o.integer("email_status", w.email_status);
  o.number("pass_rate", w.pass_rate);
  o.number("score", w.score);
  o.object("sample_stats", w.stats, read_sample_stats);
  epoch_ms(o, "create_time", w.create_time_ms);
  epoch_ms(o, "update_time", w.update_time_ms);
  epoch_ms(o, "last_notify_time", w.last_notify_time_ms);
}

void read_workforce_task(const object_view& o, workforce_task& t) {
  o.required_string("task_id", t.task_id);
  o.required_integer("status", t.status_code);
  o.string("task_name", t.task_name);
  o.string("dataset_id", t.dataset_id);
  o.string("description", t.description);
  o.string("version_id", t.version_id);
  o.time("create_time", t.create_time);
  o.time("update_time", t.update_time);
  o.number("pass_rate", t.pass_rate);
  o.number("score", t.score);
  o.number("check_rate", t.check_rate);
  o.integer("repetition", t.repetition);
  o.boolean("auto_sync_dataset", t.auto_sync_dataset);
  o.boolean("synchronize_data", t.synchronize_data);
  o.boolean("synchronize_auto_labeling_data", t.synchronize_auto_labeling_data);
  o.object("sample_stats", t.stats, read_sample_stats);
  o.object("checking_task_desc", t.checking, read_checking);
  o.object("workforce_stats", t.workforce, read_workforce_stats);
  o.object("workforces_config", t.config, read_workforces_config);
  o.objects("worker_stats", t.workers, read_worker_task);
}

// ---- samples -------------------------------------------------------------------------

void read_label(const object_view& o, sample_label& l) {
  o.string("id", l.id);
  o.string("name", l.name);
  o.integer("type", l.type);
  o.number("score", l.score);
  o.string("annotated_by", l.annotated_by);
  o.object("property", [&](const object_view& p) {
    p.boolean("@modelarts:hard", l.hard);
    p.number("@modelarts:hard_coefficient", l.hard_coefficient);
    p.int_list("@modelarts:hard_reasons", l.hard_reasons);
  });
}

void read_metadata(const object_view& o, sample_metadata& m) {
  o.boolean("@modelarts:hard", m.hard);
  o.number("@modelarts:hard_coefficient", m.hard_coefficient);
  o.int_list("@modelarts:hard_reasons", m.hard_reasons);
  o.integer("@modelarts:import_origin", m.import_origin);
}

void read_hard_detail(const object_view& o, hard_detail& h) {
  o.integer("id", h.id);
  o.string("alo_name", h.alo_name);
  o.string("reason", h.reason);
  o.string("suggestion", h.suggestion);
}

void read_sample(const object_view& o, sample& s) {
  o.required_string("sample_id", s.sample_id);
  o.string("sample_name", s.sample_name);
  o.integer("sample_type", s.sample_type);
  o.string("sample_status", s.sample_status);
  epoch_ms(o, "sample_time", s.sample_time_ms);
  o.integer("sample_size", s.sample_size);
  o.string("source", s.source);
  o.string("worker_id", s.worker_id);
  o.string("score", s.score);
  o.boolean("review_accept", s.review_accept);
  o.string("review_comment", s.review_comment);
  o.string("review_score", s.review_score);
  o.boolean("check_accept", s.check_accept);
  o.string("check_comment", s.check_comment);
  o.string("check_score", s.check_score);
  o.objects("labels", s.labels, read_label);
  o.object("metadata", s.metadata, read_metadata);
  o.object_members("hard_details", [&](std::string_view key, const object_view& h) {
    read_hard_detail(h, s.hard_details[std::string(key)]);
  });
}

// ---- datasets and pages --------------------------------------------------------------

void read_dataset(const object_view& o, dataset& d) {
  o.required_string("dataset_id", d.dataset_id);
  o.string("dataset_name", d.dataset_name);
  o.integer("dataset_type", d.dataset_type);
  o.integer("status", d.status);
  o.count("total_sample_count", d.total_sample_count);
  o.count("annotated_sample_count", d.annotated_sample_count);
  o.count("workforce_task_count", d.workforce_task_count);
}

template <class T, class Item>
decode_result<page<T>> decode_page(std::string_view body, std::string_view items_key,
                                   std::string_view total_key, Item item) {
  return decode_object<page<T>>(body, [&](const object_view& o, page<T>& p) {
    o.count(total_key, p.total);
    o.objects(items_key, p.items, item);
  });
}

// ---- error bodies --------------------------------------------------------------------

constexpr std::size_t k_error_msg_max = 512;
constexpr std::size_t k_error_field_max = 128;

// One printable line of at most `max` bytes of valid UTF-8: whitespace and control
// runs become one space, malformed bytes become U+FFFD, ends are trimmed. Error text
// goes into JSON log lines and one-line summaries; none of it may break them.
std::string printable(std::string_view s, std::size_t max) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(s.size(), max));
  bool pending_space = false;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || c == ' ') {
      pending_space = !out.empty();
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence(s, i);
    const std::string_view piece = n ? s.substr(i, n) : replacement;
    i += n ? n : 1;
    if (out.size() + (pending_space ? 1 : 0) + piece.size() > max) break;
    if (pending_space) out += ' ';
    pending_space = false;
    out += piece;
  }
  return out;
}

// A scalar member as text ("" when absent, null, or not a string or number).
std::string scalar_text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !(v->is_string() || v->is_number())) return {};
  auto c = detail::to_string_field(*v);
  return c.value ? std::move(*c.value) : std::string();
}

// Takes the (code_key, msg_key) pair from `o` when at least one of them has text.
bool take_pair(const json::object& o, std::string_view code_key, std::string_view msg_key,
               error_body& out) {
  auto code = scalar_text(o, code_key);
  auto msg = scalar_text(o, msg_key);
  if (code.empty() && msg.empty()) return false;
  out.error_code = printable(code, k_error_field_max);
  out.error_msg = printable(msg, k_error_msg_max);
  if (auto id = scalar_text(o, "request_id"); !id.empty())
    out.request_id = printable(id, k_error_field_max);
  return true;
}

bool take_either_pair(const json::object& o, error_body& out) {
  return take_pair(o, "error_code", "error_msg", out) || take_pair(o, "code", "message", out);
}

// Depth-first, in document order, through nested objects and arrays.
bool search_nested(const json::value& v, error_body& out) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      const auto& child = kv.value();
      if (child.is_object() && take_either_pair(child.get_object(), out)) return true;
      if ((child.is_object() || child.is_array()) && search_nested(child, out)) return true;
    }
  } else if (v.is_array()) {
    for (const auto& child : v.get_array()) {
      if (child.is_object() && take_either_pair(child.get_object(), out)) return true;
      if ((child.is_object() || child.is_array()) && search_nested(child, out)) return true;
    }
  }
  return false;
}

}  // namespace

decode_result<auto_task> decode_auto_task(std::string_view body) {
  return decode_object<auto_task>(
      body, [](const object_view& o, auto_task& t) { read_auto_task(o, t, id_rule::optional); });
}

decode_result<page<auto_task>> decode_auto_task_list(std::string_view body) {
  return decode_page<auto_task>(body, "tasks", "total_count", [](const object_view& o, auto_task& t) {
    read_auto_task(o, t, id_rule::required);
  });
}

decode_result<workforce_task> decode_workforce_task(std::string_view body) {
  return decode_object<workforce_task>(body, read_workforce_task);
}

decode_result<page<workforce_task>> decode_workforce_task_list(std::string_view body) {
  return decode_page<workforce_task>(body, "tasks", "count", read_workforce_task);
}

decode_result<sample> decode_sample(std::string_view body) {
  return decode_object<sample>(body, read_sample);
}

decode_result<page<sample>> decode_sample_list(std::string_view body) {
  return decode_page<sample>(body, "samples", "sample_count", read_sample);
}

decode_result<page<dataset>> decode_dataset_list(std::string_view body) {
  return decode_page<dataset>(body, "datasets", "total_number", read_dataset);
}

decode_result<acceptance_status_response> decode_acceptance_status(std::string_view body) {
  if (trim_json_space(body).empty()) return acceptance_status_response{};
  return decode_object<acceptance_status_response>(
      body, [](const object_view& o, acceptance_status_response& r) {
        o.count("sample_count", r.sample_count);
        o.objects("samples", r.samples, read_sample);
      });
}

error_body decode_error_body(std::string_view body) {
  error_body out;
  if (!trim_json_space(body).empty()) {
    alignas(std::max_align_t) unsigned char arena[4096];
    json::monotonic_resource mr(arena, sizeof arena);
    json::error_code ec;
    std::size_t consumed = 0;
    const json::value root = detail::parse_json(body, &mr, ec, consumed);
    if (!ec) {
      if (root.is_object()) {
        const auto& o = root.get_object();
        if (take_either_pair(o, out)) return out;
        if (search_nested(root, out)) {
          if (out.request_id.empty()) out.request_id = printable(scalar_text(o, "request_id"), k_error_field_max);
          return out;
        }
        out.request_id = printable(scalar_text(o, "request_id"), k_error_field_max);
      } else if (search_nested(root, out)) {
        return out;
      }
    }
  }
  out.error_msg = printable(body, k_error_msg_max);
  return out;
}

void throw_exception_from_error(const decode_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(make_error_code(errc::decode), e.message()), loc);
}

}  // namespace labelwatch::modelarts
