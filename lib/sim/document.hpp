// Operations on the JSON documents the simulator serves: merge patches (timelines and
// runtime changes), linear ramps between keyframes, and the document-shape quirks the
// fault injector applies. Pure.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace labelwatch::sim {

namespace json = boost::json;

// RFC 7386 JSON Merge Patch: members of `patch` replace those of `target`, objects are
// merged recursively, a null member deletes. One extension: an array of objects merges
// element by element into an array of objects of the same length (so a keyframe can
// change worker_stats[i].sample_stats without repeating the workers); any other array
// replaces the old value whole.
void merge_patch(json::object& target, const json::object& patch);

// Moves every number of `from` towards the number at the same path in `to` by
// `fraction` (0..1). Paths are matched through objects and through arrays of equal
// length. Integers stay integers (rounded towards `from`); members whose name is an
// enumeration or identifier (status, task_status, action, role, type, ...) never move.
// Values present in only one of the two documents are left as in `from`.
void interpolate(json::object& from, const json::object& to, double fraction);

// True for member names interpolate() leaves alone.
bool is_enumeration_key(std::string_view key) noexcept;

// ---- document-shape quirks (faults) ------------------------------------------------

// Every number becomes its decimal string ("317", "10.0"), recursively.
void numbers_to_strings(json::value& v);

// Removes the optional nested objects and arrays a client must tolerate missing:
// result, config, sample_stats, checking_task_desc, worker_stats, workforce_stats,
// workforces_config, label_stats, metadata, labels (recursively for list items).
void remove_optional_objects(json::value& v);

// Adds unknown members ("x_sim_extra": {...}, "x_sim_note": "...") to every object.
void add_unknown_fields(json::value& v);

// Compact JSON text. Unlike json::serialize (which prints 10.0 as "1E1"), doubles are
// written the way the API pages show them: integral values keep one decimal ("10.0"),
// others use the shortest form that reads back exactly ("0.66"); non-finite numbers
// become null. Strings that are not valid UTF-8 (bytes echoed from a request) get
// U+FFFD in place of each bad byte, so the text is always valid JSON.
std::string to_text(const json::value& v);
void append_text(std::string& out, const json::value& v);

// The number text to_text() uses for a double.
std::string format_double(double d);

}  // namespace labelwatch::sim
