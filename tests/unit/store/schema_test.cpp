#include "store/schema.hpp"

#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "store_fixture.hpp"

using namespace labelwatch;
using namespace labelwatch::store;
using namespace labelwatch::store::testing;

namespace {

// Newer than the transition retention, so opening does not prune it.
std::int64_t now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> tables(connection& c) {
  std::vector<std::string> out;
  auto st = c.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  while (st.step()) out.push_back(st.text(0));
  return out;
}

// A row that every schema version since `version` can hold, written with that
// version's columns only.
void write_row_for(connection& c, int version) {
  if (version >= 1) {
    c.exec(
        "INSERT INTO tasks (kind, dataset_id, task_id, name, first_seen_ms, status_code, "
        "status_since_ms, moved_at_ms, snapshot, updated_at_ms) "
        "VALUES ('auto', 'ds', 'old-task', 'from v" + std::to_string(version) +
        "', 1000, 1, 2000, 3000, '{\"status\":1}', 4000)");
    c.exec(
        "INSERT INTO transitions (ts_ms, kind, dataset_id, task_id, from_code, to_code, "
        "from_status, to_status, seconds_in_previous) "
        "VALUES (" + std::to_string(now_ms()) +
        ", 'auto', 'ds', 'old-task', -1, 1, 'queuing', 'running', 1.5)");
  }
  if (version >= 2) {
    c.exec(
        "INSERT INTO acceptance_ledger (dataset_id, task_id, checking_task_id, mode, rule, action, "
        "overwrite, state, created_at_ms, updated_at_ms) "
        "VALUES ('ds', 'w', 'chk', 'enforce', 'r', 0, 0, 'sent', 6000, 6000)");
  }
}

}  // namespace

TEST(schema, migrations_are_numbered_one_to_n_without_gaps) {
  int expected = 1;
  for (const auto& m : migrations()) {
    EXPECT_EQ(m.version, expected++);
    EXPECT_FALSE(m.summary.empty());
    EXPECT_FALSE(m.sql.empty());
  }
  EXPECT_EQ(latest_schema_version(), expected - 1);
  EXPECT_GE(latest_schema_version(), 2);
}

TEST(schema, an_empty_file_gets_every_table) {
  temp_dir dir;
  connection c(dir.file("state.db"));
  EXPECT_EQ(migrate(c), 0);
  EXPECT_EQ(c.query_int("PRAGMA user_version"), latest_schema_version());
  EXPECT_EQ(tables(c),
            (std::vector<std::string>{"acceptance_ledger", "meta", "tasks", "transitions"}));
  EXPECT_EQ(migrate(c), latest_schema_version());  // idempotent
  EXPECT_EQ(c.query_text("PRAGMA integrity_check"), "ok");
}

TEST(schema, every_older_version_upgrades_through_the_store_and_keeps_its_data) {
  for (int from = 0; from < latest_schema_version(); ++from) {
    SCOPED_TRACE("from version " + std::to_string(from));
    temp_dir dir;
    const auto path = dir.file("state.db");
    {
      connection c(path);
      migrate(c, from);
      ASSERT_EQ(c.query_int("PRAGMA user_version"), from);
      write_row_for(c, from);
    }
    auto s = open_ok(options_for(path));
    EXPECT_EQ(s->schema_version(), latest_schema_version());
    const auto loaded = s->load_tasks();
    ASSERT_TRUE(loaded) << loaded.error().message;
    asio::io_context io;
    const auto ledger = run(io, s->ledger_unfinished());
    ASSERT_TRUE(ledger);
    const auto transitions = run(io, s->recent_transitions(10));
    ASSERT_TRUE(transitions);
    if (from >= 1) {
      ASSERT_EQ(loaded->size(), 1u);
      const auto& t = (*loaded)[0];
      EXPECT_EQ(t.name, "from v" + std::to_string(from));
      EXPECT_EQ(t.first_seen, from_unix_ms(1000));
      EXPECT_EQ(t.status_since, from_unix_ms(2000));
      EXPECT_FALSE(t.last_success);
      EXPECT_FALSE(t.last_error);
      EXPECT_EQ(t.snapshot_json, "{\"status\":1}");
      EXPECT_EQ(transitions->size(), 1u);
    } else {
      EXPECT_TRUE(loaded->empty());
    }
    EXPECT_EQ(ledger->size(), from >= 2 ? 1u : 0u);
    // The upgraded database takes new rows of every kind.
    ledger_entry e;
    e.dataset_id = "ds";
    e.task_id = "w2";
    e.checking_task_id = "c2";
    e.rule = "r";
    const auto begun = run(io, s->ledger_begin(e));
    ASSERT_TRUE(begun) << begun.error().message;
    EXPECT_TRUE(begun->created);
  }
}

TEST(schema, a_failing_step_leaves_the_previous_version) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  connection c(path);
  migrate(c, 1);
  // Occupy a name the next step creates: the step fails and rolls back whole.
  c.exec("CREATE TABLE acceptance_ledger (x INTEGER)");
  EXPECT_THROW(migrate(c), sqlite_error);
  EXPECT_EQ(c.query_int("PRAGMA user_version"), 1);
  EXPECT_FALSE(c.in_transaction());
}
