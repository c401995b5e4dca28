#include "sim/document.hpp"
#include "core/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace labelwatch::sim {
namespace {

constexpr std::array<std::string_view, 16> k_enumeration_keys{
    "status",      "task_status",      "action",       "role",         "type",    "dataset_type",
    "sample_type", "export_type",      "email_status", "level",        "ordinal", "repetition",
    "create_time", "last_notify_time", "sample_time",  "import_origin"};

constexpr std::array<std::string_view, 10> k_optional_members{
    "result",       "config",          "sample_stats",      "checking_task_desc",
    "worker_stats", "workforce_stats", "workforces_config", "label_stats",
    "metadata",     "labels"};

void interpolate_value(json::value& from, const json::value& to, double fraction) {
  if (from.is_object() && to.is_object()) {
    interpolate(from.as_object(), to.as_object(), fraction);
  } else if (from.is_array() && to.is_array()) {
    auto& fa = from.as_array();
    const auto& ta = to.as_array();
    if (fa.size() != ta.size()) return;
    for (std::size_t i = 0; i < fa.size(); ++i) interpolate_value(fa[i], ta[i], fraction);
  } else if (from.is_number() && to.is_number()) {
    const bool integral = !from.is_double() && !to.is_double();
    if (integral) {
      const auto a = from.to_number<double>();
      const auto b = to.to_number<double>();
      const double v = a + (b - a) * fraction;
      // Round towards the start so a count reaches its target only at the keyframe.
      const double r = b >= a ? std::floor(v) : std::ceil(v);
      // Out of int64 range (absurd scenario values) stays a double rather than overflow.
      if (r >= -9.2e18 && r <= 9.2e18)
        from = static_cast<std::int64_t>(r);
      else
        from = r;
    } else {
      const double a = from.to_number<double>();
      const double b = to.to_number<double>();
      // Two decimals: what a progress bar or a rate shows; avoids 33.333333333 noise.
      from = std::round((a + (b - a) * fraction) * 100.0) / 100.0;
    }
  }
}


// Arrays of objects of the same length merge element by element (worker_stats in a
// keyframe then only needs the numbers that change); other arrays are replaced.
bool mergeable_arrays(const json::array& a, const json::array& b) {
  if (a.size() != b.size() || a.empty()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!a[i].is_object() || !b[i].is_object()) return false;
  return true;
}

}  // namespace

bool is_enumeration_key(std::string_view key) noexcept {
  for (const auto k : k_enumeration_keys)
    if (k == key) return true;
  return key.ends_with("_id");
}

void merge_patch(json::object& target, const json::object& patch) {
  for (const auto& [key, value] : patch) {
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object()) {
      auto it = target.find(key);
      if (it == target.end() || !it->value().is_object()) {
        json::object fresh;
        merge_patch(fresh, value.as_object());
        target[key] = std::move(fresh);
      } else {
        merge_patch(it->value().as_object(), value.as_object());
      }
    } else if (value.is_array()) {
      auto it = target.find(key);
      if (it != target.end() && it->value().is_array() &&
          mergeable_arrays(it->value().as_array(), value.as_array())) {
        auto& ta = it->value().as_array();
        const auto& pa = value.as_array();
        for (std::size_t i = 0; i < ta.size(); ++i)
          merge_patch(ta[i].as_object(), pa[i].as_object());
      } else {
        target[key] = value;
      }
    } else {
      target[key] = value;
    }
  }
}

void interpolate(json::object& from, const json::object& to, double fraction) {
  if (fraction <= 0.0) return;
  for (auto& [key, value] : from) {
    if (is_enumeration_key(key)) continue;
    const auto it = to.find(key);
    if (it == to.end()) continue;
    interpolate_value(value, it->value(), fraction);
  }
}

void numbers_to_strings(json::value& v) {
  if (v.is_object()) {
    for (auto& [k, member] : v.as_object()) numbers_to_strings(member);
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) numbers_to_strings(e);
  } else if (v.is_double()) {
    v = json::string(format_json_double(v.get_double()));
  } else if (v.is_int64()) {
    v = json::string(std::to_string(v.get_int64()));
  } else if (v.is_uint64()) {
    v = json::string(std::to_string(v.get_uint64()));
  }
}

void remove_optional_objects(json::value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (const auto k : k_optional_members) o.erase(k);
    for (auto& [k, member] : o) remove_optional_objects(member);
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) remove_optional_objects(e);
  }
}

void add_unknown_fields(json::value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto& [k, member] : o) add_unknown_fields(member);
    o["x_sim_extra"] = json::object{{"added_by", "labelwatch-sim"}, {"level", 2}};
    o["x_sim_note"] = "unknown field: clients must ignore it";
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) add_unknown_fields(e);
  }
}


}  // namespace labelwatch::sim
