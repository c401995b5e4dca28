// The SQLite state store ([state] path): every tracked task's state, the transition
// history and the acceptance ledger, so a restart continues exactly where it stopped
// and a replica could take over from its own copy.
//
// One dedicated writer thread owns the connection; the event loop never touches the
// disk. The loop hands over work and, where it needs to, awaits it:
//
//   store.submit(batch);                        // task states + transitions, no wait
//   auto r = co_await store.commit(batch);      // ... and wait until durable
//   auto e = co_await store.ledger_begin(intent);  // durable intent before the PUT
//
// Group commit: whatever was submitted while a transaction ran goes into the next
// single transaction, together with pending ledger writes. Task states are keyed by
// task, so only the latest state of a task is written. Durability: WAL with
// synchronous=FULL, so a completed commit survives power loss, and events are emitted
// only after the commit that records them (a restart never re-emits a transition).
//
// Failures (disk full, I/O errors, a busy lock beyond busy_timeout): the transaction is
// rolled back and its task states, transitions and ledger *updates* stay pending,
// merged with newer writes (latest task state wins), and are retried with the next
// transaction: at the next submit/commit, or after open_options::retry_interval when
// nothing new arrives. Every waiter of the failed transaction gets the error so the
// caller can emit an event and count it. A ledger *intent* (ledger_begin) is the
// exception: it is dropped, because the caller must not act on an intent that is not
// on disk; it reports the error and nothing is recorded.
//
// Ordering guarantee: a successful commit() or flush() means everything submitted
// before it is durable, including writes kept from earlier failed transactions. So the
// app can hold back the events of a failed commit and emit them after the next
// successful one, and never emit an event whose state is not on disk.
//
// Awaitable operations complete on the executor of the awaiting coroutine. Every
// member function is thread-safe. close() (or the destructor) must run while the
// awaiting executors are still alive.
#pragma once

#include "config/config.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "core/tracker.hpp"
#include "net/asio_fwd.hpp"

#include <boost/system/result.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::store {

enum class error_kind : std::uint8_t {
  open,          // the file or its directory cannot be opened / created / written
  corrupt,       // not a database, or it failed the integrity check
  newer_schema,  // written by a newer labelwatch
  full,          // SQLITE_FULL: disk (or max_page_count) full
  io,            // SQLITE_IOERR*
  busy,          // locked by another process beyond busy_timeout
  constraint,    // a ledger update that does not fit the entry's state
  closed,        // the store was closed
  other,
};
std::string_view to_string(error_kind k) noexcept;  // "open", "corrupt", ...

struct store_error {
  error_kind kind = error_kind::other;
  int sqlite_code = 0;  // extended result code; 0 when the error is not SQLite's
  std::string message;  // names the database path and the reason

  // Whether the failed writes are kept and retried (full, io, busy).
  bool retried() const noexcept {
    return kind == error_kind::full || kind == error_kind::io || kind == error_kind::busy;
  }
};

template <class T>
using store_result = boost::system::result<T, store_error>;

struct open_options {
  std::string path;
  milliseconds busy_timeout{std::chrono::seconds{5}};
  milliseconds transition_retention{std::chrono::hours{24 * 90}};
  // How soon writes kept after a failure are retried when nothing new arrives.
  milliseconds retry_interval{std::chrono::seconds{5}};
  // How long the writer gathers submitted writes before a transaction when nobody is
  // waiting for them (an awaited commit or ledger write starts it at once). 0: none.
  milliseconds commit_delay{0};
  // How long an awaited commit() may wait for others to share its transaction (one
  // fsync for all of them); ledger writes, reads and flush() never wait. 0: none.
  // from() sets 10 ms: at 1,000 polls/s this turns hundreds of fsyncs a second into
  // at most 100, and delays an event by at most that.
  milliseconds commit_window{0};
  // PRAGMA max_page_count when non-zero: caps the file size (and lets tests provoke
  // SQLITE_FULL without filling a disk).
  std::uint32_t max_page_count = 0;

  static open_options from(const config::state_config& state);
};

// ---- rows -----------------------------------------------------------------------------

struct transition_row {
  std::int64_t id = 0;
  task_key key;
  sys_time at{};
  std::int64_t from_code = 0;
  std::int64_t to_code = 0;
  std::string from;  // status names at the time of writing
  std::string to;
  double seconds_in_previous = 0;
};

enum class ledger_state : std::uint8_t {
  intent,       // written before the PUT: the action may or may not have been sent
  sent,         // the PUT was sent; its answer is not recorded yet
  done,         // the API accepted it (or, after a crash, the task shows it took effect)
  failed,       // the API refused it (outcome says why)
  unknown,      // cannot tell whether it took effect: left for a person
  not_applied,  // proven not to have taken effect; no longer blocks a new decision
};
std::string_view to_string(ledger_state s) noexcept;
std::optional<ledger_state> parse_ledger_state(std::string_view s) noexcept;

// What the API said (or why nothing was said).
struct ledger_outcome {
  std::optional<unsigned> http_status;
  std::string error_code;  // "ModelArts.4623"
  std::string message;
  std::string request_id;
};

struct ledger_entry {
  std::int64_t id = 0;  // assigned by ledger_begin
  std::string dataset_id;
  std::string task_id;  // the workforce task
  std::string checking_task_id;
  config::acceptance_mode mode = config::acceptance_mode::enforce;
  std::string rule;
  config::acceptance_action action = config::acceptance_action::pass_all;
  bool overwrite_last_result = false;
  std::string explanation;  // the figures the decision was made on (JSON text)
  ledger_state state = ledger_state::intent;
  ledger_outcome outcome;
  sys_time created_at{};
  sys_time updated_at{};
};

struct ledger_begin_result {
  bool created = false;  // false: a live entry for this checking task and mode exists
  ledger_entry entry;    // the new entry, or the existing one
};

// Task states and transitions to write. put() copies everything persisted, never the
// decoded snapshot (its raw body, snapshot_json, is what is stored).
struct write_batch {
  std::vector<tracked_task> tasks;
  std::vector<status_transition> transitions;

  void put(const tracked_task& state);
  void add(const status_transition& t) { transitions.push_back(t); }
  bool empty() const noexcept { return tasks.empty() && transitions.empty(); }
};

struct store_stats {
  std::uint64_t transactions = 0;         // committed write transactions
  std::uint64_t failed_transactions = 0;  // rolled back (their writes kept, see above)
  std::uint64_t tasks_written = 0;        // task rows upserted
  std::uint64_t transitions_written = 0;
  std::uint64_t ledger_writes = 0;
  std::uint64_t transitions_pruned = 0;
  std::uint64_t pending_tasks = 0;        // waiting for the next transaction
  std::uint64_t pending_transitions = 0;
  std::uint64_t dropped_ledger_updates = 0;  // kept updates that no longer fit on retry
};

class state_store {
 public:
  // Opens or creates the database and starts the writer thread. The directory must
  // exist; a new file is created with mode 0600. Checks, in order: the directory and
  // file are accessible (open, naming the path and the OS reason), no other process
  // has the store open (busy: an exclusive flock held until close), the file is a
  // SQLite database and passes PRAGMA quick_check (corrupt; the message suggests
  // --reset-state), its schema is not newer than this build (newer_schema); then
  // applies missing migrations, enables WAL with synchronous=FULL and prunes
  // transitions older than the retention. A failed open changes nothing in the file.
  static store_result<std::unique_ptr<state_store>> open(const open_options& options);

  ~state_store();
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  const std::string& path() const noexcept;
  int schema_version() const noexcept;

  // ---- start-up and tools (blocking: never call these from the event loop) ------
  // Every task row, with snapshot_json set and `snapshot` empty (see restore_snapshot).
  store_result<std::vector<tracked_task>> load_tasks();
  // Waits until everything submitted so far is written (or failed).
  store_result<void> flush_sync();

  // ---- task state and history --------------------------------------------------------
  // Queues writes for the next transaction and returns at once.
  void submit(write_batch batch);
  // Queues writes and completes once they are committed (or the transaction failed).
  net::awaitable<store_result<void>> commit(write_batch batch);
  // Completes once everything submitted before it is committed.
  net::awaitable<store_result<void>> flush();
  // The latest transitions, newest first; of one task when `task` is given.
  net::awaitable<store_result<std::vector<transition_row>>> recent_transitions(
      std::size_t limit, std::optional<task_key> task = std::nullopt);

  // ---- acceptance ledger (issue 6) ---------------------------------------------------
  // Records a decision's intent. Completes once it is committed: only then may the
  // action be sent. When a live entry for (dataset_id, task_id, checking_task_id, mode)
  // exists, nothing is written and that entry is returned with created = false ("one
  // decision per checking task, ever"). entry.state must be intent for enforce, and
  // is usually done for dry-run; id, created_at and updated_at are set by the store
  // (created_at = updated_at = entry.created_at if set, else the write time).
  net::awaitable<store_result<ledger_begin_result>> ledger_begin(ledger_entry entry);
  // Moves entry `id` to `state` with its outcome, once committed. Allowed moves:
  // intent -> sent | done | failed | unknown | not_applied; sent -> done | failed |
  // unknown | not_applied; unknown -> done | failed | not_applied. Anything else is a
  // `constraint` error and changes nothing. On a retried error (full/io/busy) the
  // update stays pending and lands with a later transaction.
  net::awaitable<store_result<void>> ledger_update(std::int64_t id, ledger_state state,
                                                   ledger_outcome outcome, sys_time now);
  // Entries in intent or sent, oldest first: what a crash left unresolved.
  net::awaitable<store_result<std::vector<ledger_entry>>> ledger_unfinished();
  // The live entry for a checking task and mode.
  net::awaitable<store_result<std::optional<ledger_entry>>> ledger_find(
      std::string dataset_id, std::string task_id, std::string checking_task_id,
      config::acceptance_mode mode);
  // Decisions in `mode` created at or after `since` (not counting not_applied): the
  // max_actions_per_hour guard.
  net::awaitable<store_result<std::int64_t>> ledger_count_since(
      sys_time since, config::acceptance_mode mode = config::acceptance_mode::enforce);
  // When the latest decision in `mode` on a task was created (not counting
  // not_applied): the per-task cooldown.
  net::awaitable<store_result<std::optional<sys_time>>> ledger_last_action(
      std::string dataset_id, std::string task_id,
      config::acceptance_mode mode = config::acceptance_mode::enforce);
  // The newest entries, newest first (audit, status page).
  net::awaitable<store_result<std::vector<ledger_entry>>> ledger_recent(std::size_t limit);

  // ---- meta -------------------------------------------------------------------------
  net::awaitable<store_result<void>> set_meta(std::string key, std::string value);
  net::awaitable<store_result<std::optional<std::string>>> get_meta(std::string key);

  // ---- operations -------------------------------------------------------------------
  // Changes PRAGMA max_page_count (0 restores SQLite's default). Pending writes are
  // retried right after.
  net::awaitable<store_result<void>> set_max_page_count(std::uint32_t pages);

  store_stats stats() const noexcept;

  // Writes what is pending (one last attempt), completes every waiter and stops the
  // writer thread. Blocking; idempotent (not concurrently). Later operations fail with
  // `closed`. Writes that still fail (disk full at shutdown) remain counted in
  // stats().pending_* for the caller to report; they are lost with the process.
  void close();

  struct impl;

 private:
  explicit state_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// Moves a state database that cannot be used out of the way: renames `path` and its
// `-wal` / `-shm` companions to `<path>.bad-<UTC yyyymmddThhmmssZ>` (plus `-wal` /
// `-shm`, so the moved set still opens together), adding `.N` if that name is taken.
// Never deletes anything. Returns the new paths of the files that existed (empty when
// none did). The daemon exposes this as --reset-state; it must not run while a store
// has the file open.
store_result<std::vector<std::string>> reset_state(const std::string& path, sys_time now);

// Lets store_result<T>::value() throw (std::runtime_error with the message); found by
// argument-dependent lookup.
[[noreturn]] void throw_exception_from_error(const store_error& e, const boost::source_location& loc);

}  // namespace labelwatch::store
