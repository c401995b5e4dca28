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

// JSON text: core/json_text.hpp (json_text, format_json_double).

}  // namespace labelwatch::sim
