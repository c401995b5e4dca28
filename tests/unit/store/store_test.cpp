#include "store/store.hpp"

#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store_fixture.hpp"
#include "../unprivileged.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

using namespace labelwatch;
using namespace labelwatch::store;
using namespace labelwatch::store::testing;
using namespace std::chrono_literals;

namespace {

const sys_time t0 = from_unix_ms(1'700'000'000'000);
// Transitions older than the retention (90 days) are pruned when a store opens, so
// history rows use the real present.
const sys_time recent = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());

// A state with every persisted member set to something other than its default.
tracked_task full_state(int i, task_kind kind = task_kind::workforce) {
  tracked_task t;
  t.key = task_key{kind, "ds" + std::to_string(i % 7), "task" + std::to_string(i)};
  t.name = "name \"" + std::to_string(i) + "\" ünï";
  t.first_seen = t0 + milliseconds{i};
  t.status_code = kind == task_kind::workforce ? 2 : -1;
  t.status_since = t0 + 1s;
  t.last_success = t0 + 2s;
  t.progress = 12.25 + i;
  t.fingerprint = "s=1,2,3,c=";
  t.moved_at = t0 + 3s;
  t.stalled = true;
  t.stalled_since = t0 + 4s;
  t.progress_event_at = t0 + 5s;
  t.progress_event_value = 10.5;
  t.progress_event_fingerprint = "s=1,2,2,c=";
  t.gone = true;
  t.gone_since = t0 + 6s;
  t.last_error = task_error{errc::throttled, "HTTP 429 APIG.0308", t0 + 7s};
  t.snapshot_json = R"({"task_id":"task)" + std::to_string(i) + R"(","status":2})";
  return t;
}

void expect_same(const tracked_task& a, const tracked_task& b) {
  EXPECT_TRUE(a.same_persisted_state(b)) << to_string(a.key);
  EXPECT_EQ(a.last_success, b.last_success);
  EXPECT_EQ(a.snapshot_json, b.snapshot_json);
}

std::vector<tracked_task> sorted(std::vector<tracked_task> v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return v;
}

status_transition transition(int i, sys_time at) {
  return status_transition{task_key{task_kind::auto_labeling, "ds", "t" + std::to_string(i)}, at, 1,
                           3, 12.5};
}

std::int64_t page_count(const std::string& path) {
  connection c(path);
  return c.query_int("PRAGMA page_count");
}

}  // namespace

// ---- open ------------------------------------------------------------------------------

TEST(store_open, creates_the_file_with_wal_and_the_latest_schema) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  auto s = open_ok(options_for(path));
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(s->schema_version(), latest_schema_version());
  EXPECT_EQ(s->path(), path);
  connection c(path);
  EXPECT_EQ(c.query_text("PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_EQ(c.query_int("PRAGMA user_version"), latest_schema_version());
  asio::io_context io;
  const auto v = run(io, s->get_meta("labelwatch_version"));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_value());
}

TEST(store_open, a_missing_directory_is_a_clear_error) {
  temp_dir dir;
  const auto path = dir.file("nope/state.db");
  const auto r = state_store::open(options_for(path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::open);
  EXPECT_NE(r.error().message.find(dir.file("nope")), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.file("nope")));
}

namespace {

// What state_store::open says, as a user without privileges (see unprivileged.hpp).
std::string unprivileged_open_error(const std::string& path) {
  return labelwatch::testing::as_unprivileged([&] {
    auto r = state_store::open(options_for(path));
    if (r) {
      (*r)->close();
      return std::string("opened");
    }
    return std::string(to_string(r.error().kind)) + ": " + r.error().message;
  });
}

}  // namespace

TEST(store_open, an_unwritable_directory_is_a_clear_error) {
  temp_dir dir;
  labelwatch::testing::open_to_unprivileged(dir.path());
  const auto sub = dir.file("ro");
  std::filesystem::create_directory(sub);
  using p = std::filesystem::perms;
  std::filesystem::permissions(sub, p::owner_read | p::owner_exec | p::group_read | p::group_exec |
                                        p::others_read | p::others_exec);
  const auto error = unprivileged_open_error(sub + "/state.db");
  EXPECT_EQ(error.rfind("open: ", 0), 0u) << error;
  EXPECT_NE(error.find(sub), std::string::npos) << error;
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(sub + "/state.db"));
}

TEST(store_open, an_unreadable_file_is_a_clear_error) {
  temp_dir dir;
  labelwatch::testing::open_to_unprivileged(dir.path());
  const auto path = dir.file("state.db");
  open_ok(options_for(path))->close();
  std::filesystem::permissions(path, std::filesystem::perms::none);
  const auto error = unprivileged_open_error(path);
  EXPECT_EQ(error.rfind("open: ", 0), 0u) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
}

TEST(store_open, a_directory_in_place_of_the_file_is_a_clear_error) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  std::filesystem::create_directory(path);
  const auto r = state_store::open(options_for(path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::open);
  EXPECT_NE(r.error().message.find(path + " is a directory"), std::string::npos) << r.error().message;
}

TEST(store_open, an_empty_path_is_a_clear_error) {
  const auto r = state_store::open(options_for(""));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("[state] path"), std::string::npos);
}

TEST(store_open, a_file_that_is_not_a_database_is_refused_and_kept) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  const std::string junk(8192, 'x');
  std::ofstream(path, std::ios::binary) << junk;
  const auto r = state_store::open(options_for(path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::corrupt);
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("not a database"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("--reset-state"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_file(path), junk);  // untouched
}

TEST(store_open, a_damaged_database_fails_the_check_and_reset_moves_it_aside) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  {
    auto s = open_ok(options_for(path));
    write_batch b;
    for (int i = 0; i < 300; ++i) b.put(full_state(i));
    asio::io_context io;
    ASSERT_TRUE(run(io, s->commit(std::move(b))));
  }  // closed: the WAL is checkpointed into the main file
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  // Scribble over the middle of the file (b-tree pages), keep the header intact.
  std::string bytes = read_file(path);
  ASSERT_GT(bytes.size(), 8u * 4096);
  for (std::size_t i = 3 * 4096; i < 6 * 4096; ++i) bytes[i] = static_cast<char>(i * 7);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  const auto r = state_store::open(options_for(path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::corrupt) << r.error().message;
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("--reset-state"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_file(path), bytes);  // nothing was changed by the failed open

  const auto moved = reset_state(path, t0);
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_GE(moved->size(), 1u);
  EXPECT_EQ((*moved)[0], path + ".bad-20231114T221320Z");
  EXPECT_EQ(read_file((*moved)[0]), bytes);  // kept byte for byte
  EXPECT_FALSE(std::filesystem::exists(path));

  auto fresh = open_ok(options_for(path));
  const auto tasks = fresh->load_tasks();
  ASSERT_TRUE(tasks);
  EXPECT_TRUE(tasks->empty());
}

TEST(store_open, reset_moves_the_wal_and_shm_along_and_never_overwrites) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::ofstream(path + suffix) << "content" << suffix;
  auto moved = reset_state(path, t0);
  ASSERT_TRUE(moved);
  const std::string base = path + ".bad-20231114T221320Z";
  EXPECT_EQ(*moved, (std::vector<std::string>{base, base + "-wal", base + "-shm"}));
  EXPECT_EQ(read_file(base + "-wal"), "content-wal");
  // A second reset in the same second gets its own name.
  std::ofstream(path) << "second";
  moved = reset_state(path, t0);
  ASSERT_TRUE(moved);
  EXPECT_EQ(*moved, std::vector<std::string>{base + ".1"});
  EXPECT_EQ(read_file(base), "content");
  EXPECT_EQ(read_file(base + ".1"), "second");
  // Nothing there: nothing to do.
  moved = reset_state(path, t0);
  ASSERT_TRUE(moved);
  EXPECT_TRUE(moved->empty());
}

TEST(store_open, a_second_store_on_the_same_file_is_refused) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  auto first = open_ok(options_for(path));
  const auto second = state_store::open(options_for(path));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, error_kind::busy);
  EXPECT_NE(second.error().message.find("in use by another labelwatch"), std::string::npos)
      << second.error().message;
  EXPECT_THROW(second.value(), std::runtime_error);  // result::value() carries the message
  first->close();
  EXPECT_TRUE(state_store::open(options_for(path)));
}

TEST(store_open, a_new_file_is_private_to_its_owner) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  open_ok(options_for(path))->close();
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST(store_open, a_newer_schema_is_refused) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  open_ok(options_for(path))->close();
  {
    connection c(path);
    c.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  const auto r = state_store::open(options_for(path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::newer_schema);
  EXPECT_NE(r.error().message.find("schema version " + std::to_string(latest_schema_version() + 1)),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find(path), std::string::npos);
}

// ---- task state --------------------------------------------------------------------------

TEST(store_tasks, state_round_trips_across_a_restart) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  std::vector<tracked_task> written;
  for (int i = 0; i < 20; ++i) written.push_back(full_state(i, i % 2 ? task_kind::workforce : task_kind::auto_labeling));
  // Sparse states too: never seen, no error, nothing optional.
  tracked_task sparse;
  sparse.key = task_key{task_kind::auto_labeling, "dsX", "never-seen"};
  sparse.last_error = task_error{errc::not_found, "", t0};
  written.push_back(sparse);
  tracked_task empty;
  empty.key = task_key{task_kind::workforce, "dsX", "empty"};
  written.push_back(empty);
  {
    auto s = open_ok(options_for(path));
    write_batch b;
    for (const auto& t : written) b.put(t);
    asio::io_context io;
    ASSERT_TRUE(run(io, s->commit(std::move(b))));
  }
  auto s = open_ok(options_for(path));
  auto loaded = s->load_tasks();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), written.size());
  const auto a = sorted(written);
  const auto b = sorted(*loaded);
  for (std::size_t i = 0; i < a.size(); ++i) {
    expect_same(a[i], b[i]);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(b[i].snapshot));
  }
}

TEST(store_tasks, the_decoded_snapshot_is_not_copied_into_a_batch) {
  tracked_task t = full_state(1);
  t.snapshot = modelarts::workforce_task{};
  write_batch b;
  b.put(t);
  ASSERT_EQ(b.tasks.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(b.tasks[0].snapshot));
  EXPECT_EQ(b.tasks[0].snapshot_json, t.snapshot_json);
  EXPECT_TRUE(b.tasks[0].same_persisted_state(t));
}

TEST(store_tasks, the_latest_state_of_a_task_wins) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  for (int v = 0; v < 5; ++v) {
    write_batch b;
    auto t = full_state(1);
    t.status_code = v;
    b.put(t);
    s->submit(std::move(b));
  }
  ASSERT_TRUE(s->flush_sync());
  const auto loaded = s->load_tasks();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].status_code, 4);
}

TEST(store_tasks, many_submits_share_few_transactions) {
  temp_dir dir;
  auto o = options_for(dir.file("state.db"));
  o.commit_delay = 10s;  // gather: only the flush below starts the transaction
  auto s = open_ok(o);
  const auto before = s->stats().transactions;
  for (int i = 0; i < 1000; ++i) {
    write_batch b;
    b.put(full_state(i));
    b.add(transition(i, recent));
    s->submit(std::move(b));
  }
  EXPECT_EQ(s->stats().pending_tasks + s->stats().tasks_written, 1000u);
  ASSERT_TRUE(s->flush_sync());
  const auto st = s->stats();
  EXPECT_EQ(st.transactions - before, 1u);
  EXPECT_EQ(st.tasks_written, 1000u);
  EXPECT_EQ(st.transitions_written, 1000u);
  EXPECT_EQ(st.pending_tasks, 0u);
}

TEST(store_tasks, concurrent_awaited_commits_are_grouped) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  asio::io_context io;
  int ok = 0;
  constexpr int n = 200;
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> net::awaitable<void> {
          write_batch b;
          b.put(full_state(i));
          if ((co_await s->commit(std::move(b))).has_value()) ++ok;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  io.run();
  EXPECT_EQ(ok, n);
  const auto st = s->stats();
  EXPECT_EQ(st.tasks_written, static_cast<std::uint64_t>(n));
  EXPECT_LT(st.transactions, static_cast<std::uint64_t>(n));
  const auto loaded = s->load_tasks();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->size(), static_cast<std::size_t>(n));
}

TEST(store_tasks, nothing_to_write_means_no_transaction) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  asio::io_context io;
  const auto before = s->stats().transactions;
  ASSERT_TRUE(run(io, s->flush()));
  ASSERT_TRUE(run(io, s->commit(write_batch{})));
  s->submit(write_batch{});
  ASSERT_TRUE(s->flush_sync());
  EXPECT_EQ(s->stats().transactions, before);
}

TEST(store_tasks, operations_after_close_fail_cleanly) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  s->close();
  s->close();  // idempotent
  asio::io_context io;
  const auto r = run(io, s->flush());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::closed);
  const auto l = s->load_tasks();
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind, error_kind::closed);
}

TEST(store_tasks, close_writes_what_is_pending) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  {
    auto o = options_for(path);
    o.commit_delay = 1h;
    auto s = open_ok(o);
    write_batch b;
    b.put(full_state(1));
    s->submit(std::move(b));
  }  // destructor closes
  auto s = open_ok(options_for(path));
  const auto loaded = s->load_tasks();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->size(), 1u);
}

// ---- disk full -------------------------------------------------------------------------------

TEST(store_full, a_full_database_keeps_writes_pending_until_space_returns) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  auto o = options_for(path);
  o.retry_interval = 1h;  // retried by the next write, not by the timer
  auto s = open_ok(o);
  asio::io_context io;
  // Cap the file at its current size.
  ASSERT_TRUE(run(io, s->set_max_page_count(static_cast<std::uint32_t>(page_count(path)))));

  auto big = [](int i, int version) {
    auto t = full_state(i);
    t.status_code = version;
    t.snapshot_json = std::string(20'000, static_cast<char>('a' + version));
    return t;
  };
  write_batch b1;
  for (int i = 0; i < 10; ++i) b1.put(big(i, 1));
  b1.add(transition(1, recent));
  const auto r1 = run(io, s->commit(std::move(b1)));
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().kind, error_kind::full) << r1.error().message;
  EXPECT_TRUE(r1.error().retried());
  EXPECT_NE(r1.error().message.find(path), std::string::npos);
  EXPECT_EQ(s->stats().pending_tasks, 10u);
  EXPECT_EQ(s->stats().pending_transitions, 1u);
  EXPECT_GE(s->stats().failed_transactions, 1u);

  // Newer writes merge with the kept ones; still full.
  write_batch b2;
  for (int i = 5; i < 15; ++i) b2.put(big(i, 2));
  b2.add(transition(2, recent + 1s));
  const auto r2 = run(io, s->commit(std::move(b2)));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind, error_kind::full);
  EXPECT_EQ(s->stats().pending_tasks, 15u);
  EXPECT_EQ(s->stats().pending_transitions, 2u);

  // Space returns: the next write carries everything.
  ASSERT_TRUE(run(io, s->set_max_page_count(0)));
  ASSERT_TRUE(run(io, s->flush()));
  EXPECT_EQ(s->stats().pending_tasks, 0u);
  s->close();

  auto again = open_ok(options_for(path));
  const auto loaded = again->load_tasks();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 15u);
  for (const auto& t : *loaded) {
    const int i = std::stoi(t.key.task_id.substr(4));
    EXPECT_EQ(t.status_code, i < 5 ? 1 : 2) << i;  // the latest state won
  }
  const auto tr = run(io, again->recent_transitions(10));
  ASSERT_TRUE(tr);
  ASSERT_EQ(tr->size(), 2u);  // each exactly once, in order
  EXPECT_EQ((*tr)[0].key.task_id, "t2");
  EXPECT_EQ((*tr)[1].key.task_id, "t1");
}

TEST(store_full, kept_writes_are_retried_by_the_timer_when_nothing_new_arrives) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  auto o = options_for(path);
  o.retry_interval = 50ms;
  auto s = open_ok(o);
  asio::io_context io;
  ASSERT_TRUE(run(io, s->set_max_page_count(static_cast<std::uint32_t>(page_count(path)))));
  write_batch b;
  auto t = full_state(1);
  t.snapshot_json = std::string(100'000, 'z');
  b.put(t);
  ASSERT_FALSE(run(io, s->commit(std::move(b))));
  const auto failed_before = s->stats().failed_transactions;
  // The writer keeps trying on its own (and keeps failing while full).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (s->stats().failed_transactions < failed_before + 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_GE(s->stats().failed_transactions, failed_before + 2);
  EXPECT_EQ(s->stats().pending_tasks, 1u);
}

// ---- transitions -----------------------------------------------------------------------------

TEST(store_transitions, recent_transitions_newest_first_with_names) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  asio::io_context io;
  write_batch b;
  b.add(status_transition{task_key{task_kind::auto_labeling, "ds", "a"}, recent, -1, 1, 3.5});
  b.add(status_transition{task_key{task_kind::workforce, "ds", "w"}, recent + 1s, 2, 99, 60});
  b.add(status_transition{task_key{task_kind::auto_labeling, "ds", "a"}, recent + 2s, 1, 2, 7});
  ASSERT_TRUE(run(io, s->commit(std::move(b))));

  const auto all = run(io, s->recent_transitions(10));
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].to, "failed");
  EXPECT_EQ((*all)[0].from, "running");
  EXPECT_EQ((*all)[0].at, recent + 2s);
  EXPECT_EQ((*all)[1].key.kind, task_kind::workforce);
  EXPECT_EQ((*all)[1].from, "accepting");
  EXPECT_EQ((*all)[1].to, "unknown");
  EXPECT_EQ((*all)[1].to_code, 99);
  EXPECT_EQ((*all)[1].seconds_in_previous, 60.0);
  EXPECT_EQ((*all)[2].from, "queuing");

  const auto one = run(io, s->recent_transitions(1));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 1u);
  const auto of_a = run(io, s->recent_transitions(10, task_key{task_kind::auto_labeling, "ds", "a"}));
  ASSERT_TRUE(of_a);
  EXPECT_EQ(of_a->size(), 2u);
}

TEST(store_transitions, old_transitions_are_pruned_by_retention) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  const auto now = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
  {
    auto s = open_ok(options_for(path));
    asio::io_context io;
    write_batch b;
    b.add(transition(1, now - 48h));
    b.add(transition(2, now - 1h));
    ASSERT_TRUE(run(io, s->commit(std::move(b))));
  }
  auto o = options_for(path);
  o.transition_retention = 24h;
  auto s = open_ok(o);
  EXPECT_EQ(s->stats().transitions_pruned, 1u);
  asio::io_context io;
  const auto left = run(io, s->recent_transitions(10));
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].key.task_id, "t2");
}

TEST(store_meta, set_and_get) {
  temp_dir dir;
  auto s = open_ok(options_for(dir.file("state.db")));
  asio::io_context io;
  ASSERT_TRUE(run(io, s->set_meta("instance", "a")));
  ASSERT_TRUE(run(io, s->set_meta("instance", "b")));
  const auto v = run(io, s->get_meta("instance"));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, std::optional<std::string>("b"));
  const auto none = run(io, s->get_meta("nothing"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(store_names, error_kinds_and_ledger_states) {
  EXPECT_EQ(to_string(error_kind::full), "full");
  EXPECT_EQ(to_string(error_kind::newer_schema), "newer_schema");
  for (auto st : {ledger_state::intent, ledger_state::sent, ledger_state::done, ledger_state::failed,
                  ledger_state::unknown, ledger_state::not_applied})
    EXPECT_EQ(parse_ledger_state(to_string(st)), st);
  EXPECT_FALSE(parse_ledger_state("nope"));
  config::state_config sc;
  sc.path = "/x/y.db";
  sc.transition_retention = 1h;
  const auto o = open_options::from(sc);
  EXPECT_EQ(o.path, "/x/y.db");
  EXPECT_EQ(o.transition_retention, 1h);
}
