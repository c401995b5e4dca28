// The state database's schema as an ordered list of migrations. `PRAGMA user_version`
// holds the number of the last applied step; opening a database applies the missing
// ones in order, each in its own transaction together with its version bump, so a
// crash mid-upgrade leaves a database at a well-defined older version.
//
// Rules for new steps: append, never edit or reorder a released step; a step must work
// on every database that passed the previous steps.
#pragma once

#include "store/sqlite.hpp"

#include <span>
#include <string_view>

namespace labelwatch::store {

struct migration {
  int version;               // user_version after this step
  std::string_view summary;  // for logs: what the step adds
  std::string_view sql;
};

std::span<const migration> migrations() noexcept;
int latest_schema_version() noexcept;

// Applies the steps above the database's user_version up to `target` (default: all).
// Throws sqlite_error on failure; the database stays at the last completed step.
// Returns the version before migrating. Precondition: user_version <= latest.
int migrate(connection& db, int target = latest_schema_version());

}  // namespace labelwatch::store
