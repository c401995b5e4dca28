// Properties asserted by the fuzz targets (see fuzz_checks.hpp).
#include "fuzz_checks.hpp"
#include "fuzz_support.hpp"

#include "auth/signer.hpp"
#include "core/crypto.hpp"
#include "modelarts/decode.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace labelwatch::fuzz {
namespace {

using namespace labelwatch::modelarts;


constexpr std::int64_t k_max_epoch_ms = 253'402'300'799'999;


// ---- decoded documents -------------------------------------------------------------

void check_count(const std::optional<std::int64_t>& c, const char* what) {
  FUZZ_REQUIRE(!c || *c >= 0, what);
}
void check_finite(const std::optional<double>& d, const char* what) {
  FUZZ_REQUIRE(!d || std::isfinite(*d), what);
}
void check_ms(const std::optional<std::int64_t>& ms, const char* what) {
  FUZZ_REQUIRE(!ms || (*ms >= 0 && *ms <= k_max_epoch_ms), what);
}
void check_time(const std::optional<sys_time>& t, const char* what) {
  check_ms(t ? std::optional<std::int64_t>(to_unix_ms(*t)) : std::nullopt, what);
}

void check_doc(const sample_stats& s) {
  for (const auto* c : {&s.total_sample_count, &s.unannotated_sample_count, &s.unreviewed_sample_count,
                        &s.uncheck_sample_count, &s.sampled_sample_count, &s.rejected_sample_count,
                        &s.accepted_sample_count, &s.auto_annotation_sample_count, &s.deleted_sample_count})
    check_count(*c, "sample_stats count >= 0");
}

void check_doc(const check_task_stats& s) {
  for (const auto* c : {&s.accepted_sample_count, &s.checked_sample_count, &s.rejected_sample_count,
                        &s.sampled_sample_count, &s.sampling_num, &s.total_sample_count,
                        &s.unchecked_sample_count})
    check_count(*c, "check_task_stats count >= 0");
  check_finite(s.pass_rate, "check_task_stats.pass_rate finite");
  check_finite(s.sampling_rate, "check_task_stats.sampling_rate finite");
}

void check_doc(const task_event& e) {
  check_ms(e.create_time_ms, "event create_time in range");
  for (const auto& sub : e.events) check_doc(sub);
}

void check_doc(const auto_task& t) {
  FUZZ_REQUIRE((t.status() == auto_status::unknown) == !is_known_status(task_kind::auto_labeling, t.status_code),
               t.task_id);
  check_finite(t.progress, "progress finite");
  check_time(t.create_time, "create_time in range");
  FUZZ_REQUIRE(t.create_time.has_value() == !t.create_time_raw.empty(), t.create_time_raw);
  check_count(t.total_sample_count, "total_sample_count >= 0");
  check_count(t.annotated_sample_count, "annotated_sample_count >= 0");
  check_count(t.unconfirmed_sample_count, "unconfirmed_sample_count >= 0");
  if (t.result) {
    check_count(t.result->total_sample_count, "result.total_sample_count >= 0");
    check_count(t.result->annotated_sample_count, "result.annotated_sample_count >= 0");
    check_count(t.result->unconfirmed_sample_count, "result.unconfirmed_sample_count >= 0");
    for (const auto& e : t.result->events) check_doc(e);
  }
}

void check_doc(const workforce_task& t) {
  FUZZ_REQUIRE(!t.task_id.empty(), "workforce task_id required");
  FUZZ_REQUIRE((t.status() == workforce_status::unknown) == !is_known_status(task_kind::workforce, t.status_code),
               t.task_id);
  check_time(t.create_time, "create_time in range");
  check_time(t.update_time, "update_time in range");
  check_finite(t.pass_rate, "pass_rate finite");
  check_finite(t.score, "score finite");
  check_finite(t.check_rate, "check_rate finite");
  if (t.stats) check_doc(*t.stats);
  if (t.checking) {
    if (t.checking->checking_stats) check_doc(*t.checking->checking_stats);
    if (t.checking->total_stats) check_doc(*t.checking->total_stats);
  }
  if (t.workforce) {
    check_count(t.workforce->workforce_count, "workforce_count >= 0");
    check_count(t.workforce->labeler_count, "labeler_count >= 0");
    check_count(t.workforce->reviewer_count, "reviewer_count >= 0");
  }
  for (const auto& w : t.workers) {
    if (w.stats) check_doc(*w.stats);
    check_finite(w.pass_rate, "worker pass_rate finite");
    check_finite(w.score, "worker score finite");
    check_ms(w.create_time_ms, "worker create_time in range");
    check_ms(w.update_time_ms, "worker update_time in range");
    check_ms(w.last_notify_time_ms, "worker last_notify_time in range");
  }
}

void check_doc(const sample& s) {
  FUZZ_REQUIRE(!s.sample_id.empty(), "sample_id required");
  check_ms(s.sample_time_ms, "sample_time in range");
  for (const auto& l : s.labels) {
    check_finite(l.score, "label score finite");
    check_finite(l.hard_coefficient, "label hard_coefficient finite");
  }
  if (s.metadata) check_finite(s.metadata->hard_coefficient, "metadata hard_coefficient finite");
}

void check_doc(const dataset& d) {
  FUZZ_REQUIRE(!d.dataset_id.empty(), "dataset_id required");
  check_count(d.total_sample_count, "dataset total_sample_count >= 0");
  check_count(d.annotated_sample_count, "dataset annotated_sample_count >= 0");
  check_count(d.workforce_task_count, "dataset workforce_task_count >= 0");
}

template <class T>
void check_doc(const page<T>& p) {
  check_count(p.total, "page total >= 0");
  for (const auto& item : p.items) check_doc(item);
}

void check_doc(const acceptance_status_response& r) {
  check_count(r.sample_count, "sample_count >= 0");
  for (const auto& s : r.samples) check_doc(s);
}

void check_error(const decode_error& e) {
  const auto m = e.message();
  FUZZ_REQUIRE(!e.problem.empty(), m);
  FUZZ_REQUIRE(valid_utf8(m), m);
  // Bounded: at most 64 bytes of any value or member name are quoted.
  FUZZ_REQUIRE(m.size() < 4096, m);
}

// Decodes twice: the same outcome both times, and the outcome is well-formed.
template <class Decode>
auto decode_checked(Decode decode, std::string_view data) {
  auto first = decode(data);
  auto second = decode(data);
  FUZZ_REQUIRE(first.has_value() == second.has_value(), "deterministic outcome");
  if (first) {
    FUZZ_REQUIRE(*first == *second, "deterministic value");
    check_doc(*first);
  } else {
    FUZZ_REQUIRE(first.error() == second.error(), first.error().message());
    check_error(first.error());
  }
  return first;
}

std::string wrap(std::string_view prefix, std::string_view data, std::string_view suffix) {
  std::string out;
  out.reserve(prefix.size() + data.size() + suffix.size());
  out += prefix;
  out += data;
  out += suffix;
  return out;
}

// A list item decodes exactly as the detail does. The wrapper adds two nesting levels,
// so the wrapped body may instead hit the parser's depth limit (an error at the root).
template <class T, class Page>
void same_as_item(const decode_result<T>& detail, const decode_result<Page>& list, std::string_view items_key) {
  if (!list && list.error().path.empty()) return;  // depth limit
  if (detail) {
    FUZZ_REQUIRE(list.has_value(), list.error().message());
    FUZZ_REQUIRE(list->items.size() == 1 && list->items[0] == *detail, "list item equals detail");
  } else if (!detail.error().path.empty()) {
    FUZZ_REQUIRE(!list.has_value(), detail.error().message());
    FUZZ_REQUIRE(list.error().path == std::string(items_key) + "[0]." + detail.error().path &&
                     list.error().problem == detail.error().problem,
                 list.error().message() + " vs " + detail.error().message());
  }
}

}  // namespace

void check_auto_task_documents(std::string_view data) {
  const auto detail = decode_checked(decode_auto_task, data);
  decode_checked(decode_auto_task_list, data);
  // List items require task_id, the detail does not: compare only when it is there.
  if (detail && !detail->task_id.empty()) {
    const auto list = decode_checked(decode_auto_task_list, wrap(R"({"tasks":[)", data, "]}"));
    same_as_item(detail, list, "tasks");
  }
}

void check_workforce_task_documents(std::string_view data) {
  const auto detail = decode_checked(decode_workforce_task, data);
  decode_checked(decode_workforce_task_list, data);
  if (detail || !detail.error().path.empty()) {
    const auto list = decode_checked(decode_workforce_task_list, wrap(R"({"tasks":[)", data, "]}"));
    same_as_item(detail, list, "tasks");
  }
}

void check_sample_documents(std::string_view data) {
  const auto detail = decode_checked(decode_sample, data);
  decode_checked(decode_sample_list, data);
  decode_checked(decode_acceptance_status, data);
  if (detail || !detail.error().path.empty()) {
    const auto list = decode_checked(decode_sample_list, wrap(R"({"samples":[)", data, "]}"));
    same_as_item(detail, list, "samples");
    const auto accepted = decode_checked(decode_acceptance_status, wrap(R"({"samples":[)", data, "]}"));
    if (detail && accepted) FUZZ_REQUIRE(accepted->samples.size() == 1 && accepted->samples[0] == *detail, "");
  }
}

void check_dataset_documents(std::string_view data) { decode_checked(decode_dataset_list, data); }

void check_error_body(std::string_view data) {
  const auto a = decode_error_body(data);
  const auto b = decode_error_body(data);
  FUZZ_REQUIRE(a == b, "deterministic");
  const std::pair<const std::string*, std::size_t> fields[] = {
      {&a.error_code, 128}, {&a.error_msg, 512}, {&a.request_id, 128}};
  for (const auto& [f, max] : fields) {
    FUZZ_REQUIRE(f->size() <= max, *f);
    FUZZ_REQUIRE(valid_utf8(*f), *f);
    FUZZ_REQUIRE(f->empty() || (f->front() != ' ' && f->back() != ' '), *f);
    for (const char ch : *f) {
      const auto c = static_cast<unsigned char>(ch);
      FUZZ_REQUIRE(c >= 0x20 && c != 0x7F, *f);
    }
  }
}

namespace {

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }
bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}
// Only unreserved bytes, `extra` separators and %XY escapes with upper-case hex.
bool well_encoded(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_unreserved(s[i]) || extra.find(s[i]) != std::string_view::npos) continue;
    if (s[i] != '%' || i + 2 >= s.size() || !is_hex_upper(s[i + 1]) || !is_hex_upper(s[i + 2]))
      return false;
    i += 2;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

bool is_tchar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_lower_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void check_uri(std::string_view path) {
  const auto uri = auth::canonical_uri(path);
  FUZZ_REQUIRE(!uri.empty() && uri.back() == '/', uri);
  FUZZ_REQUIRE(well_encoded(uri, "/"), uri);
  FUZZ_REQUIRE(auth::canonical_uri(uri) == uri, uri);
  FUZZ_REQUIRE(std::count(uri.begin(), uri.end(), '/') ==
                   std::count(path.begin(), path.end(), '/') + (path.empty() || path.back() != '/' ? 1 : 0),
               uri);
}

void check_query(std::string_view raw) {
  const auto q = auth::canonical_query(raw);
  FUZZ_REQUIRE(well_encoded(q, "=&"), q);
  FUZZ_REQUIRE(auth::canonical_query(q) == q, q);
  if (q.empty()) return;
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (const auto item : split(q, '&')) {
    const auto eq = item.find('=');
    FUZZ_REQUIRE(eq != std::string_view::npos && item.find('=', eq + 1) == std::string_view::npos, q);
    pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  FUZZ_REQUIRE(std::is_sorted(pairs.begin(), pairs.end()), q);
}

void check_authorization(std::string_view value) {
  const auto parsed = auth::parse_authorization(value);
  if (!parsed) return;
  FUZZ_REQUIRE(!parsed->signed_headers.empty(), value);
  std::string joined;
  for (const auto& h : parsed->signed_headers) {
    FUZZ_REQUIRE(!h.empty() && h.find(';') == std::string::npos, value);
    FUZZ_REQUIRE(std::none_of(h.begin(), h.end(), [](char c) { return c >= 'A' && c <= 'Z'; }), value);
    if (!joined.empty()) joined += ';';
    joined += h;
  }
  const auto again = auth::parse_authorization(
      auth::authorization_value(parsed->access_key, joined, parsed->signature));
  FUZZ_REQUIRE(again && again->access_key == parsed->access_key &&
                   again->signed_headers == parsed->signed_headers && again->signature == parsed->signature,
               value);
}

void check_request(std::string_view data) {
  const auto lines = split(data, '\n');
  auth::request_to_sign r;
  r.method = lines[0];
  r.path = lines.size() > 1 ? lines[1] : std::string_view{};
  r.query = lines.size() > 2 ? lines[2] : std::string_view{};
  r.body = lines.size() > 3 ? lines.back() : std::string_view{};
  bool token_names = true;      // every name an HTTP token: the header round-trips
  bool semicolon_free = true;   // the signed-header list splits back into the names
  for (std::size_t i = 3; i + 1 < lines.size(); ++i) {
    const auto colon = lines[i].find(':');
    const auto name = lines[i].substr(0, colon);
    const auto value = colon == std::string_view::npos ? std::string_view{} : lines[i].substr(colon + 1);
    r.headers.push_back({std::string(name), std::string(value)});
    token_names = token_names && !name.empty() && std::all_of(name.begin(), name.end(), is_tchar);
    semicolon_free = semicolon_free && name.find(';') == std::string_view::npos;
  }
  const auto canonical = auth::canonical_request(r);
  const auto parts = split(canonical, '\n');
  FUZZ_REQUIRE(parts.size() == 6 + r.headers.size(), canonical);
  FUZZ_REQUIRE(parts[1] == auth::canonical_uri(r.path), canonical);
  FUZZ_REQUIRE(parts[2] == auth::canonical_query(r.query), canonical);
  FUZZ_REQUIRE(parts.back() == sha256_hex(r.body), canonical);
  const auto names = split(parts[parts.size() - 2], ';');
  if (!r.headers.empty() && semicolon_free) {
    FUZZ_REQUIRE(names.size() == r.headers.size(), canonical);
    FUZZ_REQUIRE(std::is_sorted(names.begin(), names.end()), canonical);
  }
  // The content hash header replaces the body hash verbatim.
  r.content_sha256 = "UNSIGNED-PAYLOAD";
  FUZZ_REQUIRE(split(auth::canonical_request(r), '\n').back() == "UNSIGNED-PAYLOAD", canonical);
  r.content_sha256.reset();

  const std::string_view secret = lines.size() > 1 ? lines[1] : lines[0];
  const auto authorization = auth::sign(r, "20191115T033655Z", "AKFUZZ", secret);
  FUZZ_REQUIRE(authorization == auth::sign(r, "20191115T033655Z", "AKFUZZ", secret), "deterministic signature");
  if (token_names && !r.headers.empty()) {
    const auto parsed = auth::parse_authorization(authorization);
    FUZZ_REQUIRE(parsed && parsed->access_key == "AKFUZZ" && is_lower_hex64(parsed->signature), authorization);
    FUZZ_REQUIRE(parsed->signed_headers.size() == names.size() &&
                     std::equal(names.begin(), names.end(), parsed->signed_headers.begin()),
                 authorization);
  }
}

}  // namespace

void check_signer(std::string_view data) {
  check_uri(data);
  check_query(data);
  check_authorization(data);
  check_request(data);
  const auto encoded = auth::uri_encode(data);
  FUZZ_REQUIRE(well_encoded(encoded, ""), encoded);
  FUZZ_REQUIRE(auth::uri_decode(encoded) == data, encoded);
  FUZZ_REQUIRE(auth::uri_decode(encoded, true) == data, encoded);
}

}  // namespace labelwatch::fuzz
