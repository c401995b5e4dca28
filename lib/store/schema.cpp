// Schema steps. Times are Unix milliseconds (INTEGER), task kinds "auto" | "workforce",
// status codes raw integers with their names next to them where people read the rows.
#include "store/schema.hpp"

#include <array>
#include <string>

namespace labelwatch::store {
namespace {

constexpr std::string_view k_v1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE tasks (
  kind                       TEXT    NOT NULL CHECK (kind IN ('auto', 'workforce')),
  dataset_id                 TEXT    NOT NULL,
  task_id                    TEXT    NOT NULL,
  name                       TEXT    NOT NULL DEFAULT '',
  first_seen_ms              INTEGER,
  status_code                INTEGER NOT NULL,
  status_since_ms            INTEGER NOT NULL,
  last_success_ms            INTEGER,
  progress                   REAL,
  fingerprint                TEXT    NOT NULL DEFAULT '',
  moved_at_ms                INTEGER NOT NULL,
  stalled                    INTEGER NOT NULL DEFAULT 0,
  stalled_since_ms           INTEGER,
  progress_event_ms          INTEGER,
  progress_event_value       REAL,
  progress_event_fingerprint TEXT    NOT NULL DEFAULT '',
  gone                       INTEGER NOT NULL DEFAULT 0,
  gone_since_ms              INTEGER,
  error_kind                 INTEGER,
  error_message              TEXT,
  error_since_ms             INTEGER,
  snapshot                   TEXT    NOT NULL DEFAULT '',
  updated_at_ms              INTEGER NOT NULL,
  PRIMARY KEY (kind, dataset_id, task_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE transitions (
  id                  INTEGER PRIMARY KEY,
  ts_ms               INTEGER NOT NULL,
  kind                TEXT    NOT NULL CHECK (kind IN ('auto', 'workforce')),
  dataset_id          TEXT    NOT NULL,
  task_id             TEXT    NOT NULL,
  from_code           INTEGER NOT NULL,
  to_code             INTEGER NOT NULL,
  from_status         TEXT    NOT NULL,
  to_status           TEXT    NOT NULL,
  seconds_in_previous REAL    NOT NULL
) STRICT;
CREATE INDEX transitions_by_time ON transitions (ts_ms);
CREATE INDEX transitions_by_task ON transitions (kind, dataset_id, task_id, id);
)sql";

// The acceptance ledger (issue 6). One live decision per checking task and mode: an
// entry proven not applied ('not_applied') is kept for the audit trail but no longer
// blocks a new decision. Dry-run and enforce decisions are separate, so a dry run
// never stands in the way of enforcing later.
constexpr std::string_view k_v2 = R"sql(
CREATE TABLE acceptance_ledger (
  id               INTEGER PRIMARY KEY,
  dataset_id       TEXT    NOT NULL,
  task_id          TEXT    NOT NULL,
  checking_task_id TEXT    NOT NULL,
  mode             TEXT    NOT NULL CHECK (mode IN ('dry-run', 'enforce')),
  rule             TEXT    NOT NULL,
  action           INTEGER NOT NULL,
  overwrite        INTEGER NOT NULL,
  explanation      TEXT    NOT NULL DEFAULT '',
  state            TEXT    NOT NULL
                   CHECK (state IN ('intent', 'sent', 'done', 'failed', 'unknown', 'not_applied')),
  http_status      INTEGER,
  error_code       TEXT    NOT NULL DEFAULT '',
  message          TEXT    NOT NULL DEFAULT '',
  request_id       TEXT    NOT NULL DEFAULT '',
  created_at_ms    INTEGER NOT NULL,
  updated_at_ms    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX acceptance_ledger_one_decision
  ON acceptance_ledger (dataset_id, task_id, checking_task_id, mode)
  WHERE state <> 'not_applied';
CREATE INDEX acceptance_ledger_unfinished ON acceptance_ledger (state)
  WHERE state IN ('intent', 'sent');
CREATE INDEX acceptance_ledger_by_time ON acceptance_ledger (mode, created_at_ms);
CREATE INDEX acceptance_ledger_by_task ON acceptance_ledger (dataset_id, task_id, mode, created_at_ms);
)sql";

constexpr std::array k_migrations{
    migration{1, "tasks, transitions, meta", k_v1},
    migration{2, "acceptance ledger", k_v2},
};

}  // namespace

std::span<const migration> migrations() noexcept { return k_migrations; }

int latest_schema_version() noexcept { return k_migrations.back().version; }

int migrate(connection& db, int target) {
  const auto before = static_cast<int>(db.query_int("PRAGMA user_version"));
  for (const auto& m : k_migrations) {
    if (m.version <= before || m.version > target) continue;
    // IMMEDIATE takes the write lock up front, so two processes opening the same new
    // file cannot both run a step.
    db.exec("BEGIN IMMEDIATE");
    try {
      // Re-read inside the lock: another process may have migrated meanwhile.
      if (db.query_int("PRAGMA user_version") < m.version) {
        db.exec(m.sql);
        db.exec("PRAGMA user_version = " + std::to_string(m.version));
      }
      db.exec("COMMIT");
    } catch (...) {
      if (db.in_transaction()) db.exec("ROLLBACK");
      throw;
    }
  }
  return before;
}

}  // namespace labelwatch::store
