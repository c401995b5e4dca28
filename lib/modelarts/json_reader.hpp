// Private helper of decode.cpp: typed, path-aware, tolerant reads from a parsed
// Boost.JSON document. Not part of the public interface; other modules use decode.hpp.
//
// Reading model:
// - A `reader` is one decode pass. The first error wins; every later read is a no-op,
//   so decoding code reads straight through and checks `ok()` once at the end.
// - `object_view` reads the members of one JSON object. Its `json_path` lives on the
//   caller's stack and links to its parent, so a successful decode never builds a
//   path string: the path is rendered only when an error is reported.
// - Absent members, `null` and (for non-string fields) the empty string "" leave the
//   output untouched: optional outputs stay empty, required ones are reported missing.
//
// Conversions (what each typed read accepts; anything else is an error naming the
// path and the offending value):
// - string:  a JSON string; a number is accepted and kept as its decimal text.
// - integer: an integer; a double with no fraction (10.0) within int64; a string whose
//            whole text is such a number ("317", "10.0", "1e3"). 10.5, "abc", true,
//            out-of-range values are errors.
// - count:   an integer that must be >= 0 (sample counts: a negative count is an error).
// - number:  any finite number, or a string holding one ("10.5"); NaN/inf are errors.
// - boolean: true/false; 0/1 (integer or double); "true"/"false" (any case), "1"/"0",
//            or another numeric string equal to 0 or 1.
// - time:    epoch milliseconds (number or numeric string) within 1970..9999, or a
//            "YYYY-MM-DD hh:mm:ss" string (read as UTC), or RFC 3339.
#pragma once

#include "core/time.hpp"
#include "modelarts/decode.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::modelarts::detail {

// One step of a JSON path: a member name or an array index, linked to its parent.
// The root has no parent and renders as "".
struct json_path {
  const json_path* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;

  json_path child(std::string_view k) const noexcept { return {this, k, 0, false}; }
  json_path element(std::size_t i) const noexcept { return {this, {}, i, true}; }
  // "sample_stats.total_sample_count", "tasks[3].status", "" for the root.
  std::string render() const;
};

// A short, printable rendering of a JSON value for error messages: strings quoted and
// cut after 64 bytes, numbers in their shortest decimal form, containers by kind.
std::string describe(const boost::json::value& v);

// Scalar conversions, independent of paths. On failure they return the problem text
// ("expected integer, got \"abc\""); `nullopt` in the success slot means "absent"
// (null, or "" for non-string types).
template <class T>
struct conversion {
  std::optional<T> value;
  std::string problem;  // empty on success
};
conversion<std::string> to_string_field(const boost::json::value& v);
conversion<std::int64_t> to_integer(const boost::json::value& v);
conversion<double> to_number(const boost::json::value& v);
conversion<bool> to_boolean(const boost::json::value& v);
// Also reports the raw text (a string as received, a number's decimal text).
struct time_value {
  sys_time time;
  std::string raw;
};
conversion<time_value> to_time(const boost::json::value& v);
// "3-20-21-19" -> {3,20,21,19}; "" -> {}; an int array (elements read as integers).
// Array element problems carry their index in `bad_index`.
struct integer_list {
  std::vector<std::int64_t> values;
};
conversion<integer_list> to_int_list(const boost::json::value& v, std::size_t* bad_index);

class reader {
 public:
  bool ok() const noexcept { return !error_; }
  // Records the first error only.
  void fail(const json_path& at, std::string problem);
  decode_error take_error() { return std::move(*error_); }

 private:
  std::optional<decode_error> error_;
};

class object_view {
 public:
  object_view(reader& r, const boost::json::object& o, const json_path& path) noexcept
      : r_(r), o_(o), path_(path) {}

  reader& context() const noexcept { return r_; }
  const json_path& path() const noexcept { return path_; }
  // The member, or nullptr when absent or null.
  const boost::json::value* find(std::string_view key) const noexcept;

  void string(std::string_view key, std::string& out) const;
  void integer(std::string_view key, std::optional<std::int64_t>& out) const;
  void count(std::string_view key, std::optional<std::int64_t>& out) const;
  void number(std::string_view key, std::optional<double>& out) const;
  void boolean(std::string_view key, std::optional<bool>& out) const;
  void time(std::string_view key, std::optional<sys_time>& out, std::string* raw = nullptr) const;
  void int_list(std::string_view key, std::vector<std::int64_t>& out) const;

  // Required members: absent, null or "" is "missing required field" / "must not be empty".
  void required_string(std::string_view key, std::string& out) const;
  void required_integer(std::string_view key, std::int64_t& out) const;

  // Nested object: `fn(object_view)` runs when the member is an object; absent/null
  // leaves things as they are; any other type is an error.
  template <class F>
  void object(std::string_view key, F&& fn) const {
    if (!r_.ok()) return;
    const auto* v = find(key);
    if (!v) return;
    const json_path p = path_.child(key);
    if (!v->is_object()) return expected(p, "object", *v);
    fn(object_view{r_, v->get_object(), p});
  }

  // Optional nested object decoded into `out` (emplaced only when present).
  template <class T, class F>
  void object(std::string_view key, std::optional<T>& out, F&& fn) const {
    object(key, [&](const object_view& o) { fn(o, out.emplace()); });
  }

  // Array of objects: each element decoded by `fn(object_view, T&)` into `out`.
  template <class T, class F>
  void objects(std::string_view key, std::vector<T>& out, F&& fn) const {
    if (!r_.ok()) return;
    const auto* v = find(key);
    if (!v) return;
    const json_path p = path_.child(key);
    if (!v->is_array()) return expected(p, "array", *v);
    const auto& arr = v->get_array();
    out.reserve(out.size() + arr.size());
    for (std::size_t i = 0; i < arr.size() && r_.ok(); ++i) {
      const json_path e = p.element(i);
      if (!arr[i].is_object()) return expected(e, "object", arr[i]);
      fn(object_view{r_, arr[i].get_object(), e}, out.emplace_back());
    }
  }

  // Object used as a map: `fn(member name, object_view)` for each object-valued member.
  template <class F>
  void object_members(std::string_view key, F&& fn) const {
    object(key, [&](const object_view& o) {
      for (const auto& kv : o.o_) {
        if (!r_.ok()) return;
        if (kv.value().is_null()) continue;
        const json_path e = o.path_.child(kv.key());
        if (!kv.value().is_object()) return expected(e, "object", kv.value());
        fn(std::string_view{kv.key()}, object_view{r_, kv.value().get_object(), e});
      }
    });
  }

 private:
  void expected(const json_path& at, std::string_view what, const boost::json::value& got) const;

  reader& r_;
  const boost::json::object& o_;
  const json_path& path_;
};

}  // namespace labelwatch::modelarts::detail
