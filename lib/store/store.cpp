// The state store: open/check/migrate, and the writer thread with group commit.
#include "store/store.hpp"

#include "core/version.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/throw_exception.hpp>

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>

namespace labelwatch::store {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

sys_time wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

std::optional<std::int64_t> opt_ms(const std::optional<sys_time>& t) {
  if (!t) return std::nullopt;
  return to_unix_ms(*t);
}

std::optional<sys_time> opt_time(const std::optional<std::int64_t>& ms) {
  if (!ms) return std::nullopt;
  return from_unix_ms(*ms);
}

error_kind kind_of(int code) noexcept {
  switch (code & 0xff) {
    case SQLITE_FULL: return error_kind::full;
    case SQLITE_IOERR: return error_kind::io;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return error_kind::busy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return error_kind::corrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return error_kind::open;
    case SQLITE_CONSTRAINT: return error_kind::constraint;
    default: break;
  }
  return error_kind::other;
}

store_error from_sqlite(const std::string& path, const sqlite_error& e, std::string_view doing) {
  store_error err;
  err.kind = kind_of(e.code());
  err.sqlite_code = e.code();
  err.message = "state database " + path + ": " + std::string(doing) + ": " + e.what();
  return err;
}

store_error make_error(error_kind kind, std::string message, int code = 0) {
  return store_error{kind, code, std::move(message)};
}

std::string_view mode_name(config::acceptance_mode m) noexcept {
  return m == config::acceptance_mode::enforce ? "enforce" : "dry-run";
}

config::acceptance_mode parse_mode(std::string_view s) noexcept {
  return s == "enforce" ? config::acceptance_mode::enforce : config::acceptance_mode::dry_run;
}

// The states an entry may be in for an update to `to` to be allowed.
std::string_view allowed_from(ledger_state to) noexcept {
  switch (to) {
    case ledger_state::sent: return "('intent')";
    case ledger_state::done:
    case ledger_state::failed:
    case ledger_state::not_applied: return "('intent', 'sent', 'unknown')";
    case ledger_state::unknown: return "('intent', 'sent')";
    case ledger_state::intent: break;
  }
  return "()";
}

// ---- completions: deliver a result to an awaiting coroutine or a blocked thread -----

template <class R>
class completion {
 public:
  completion() = default;

  template <class Handler>
  static completion from_handler(Handler&& handler) {
    completion c;
    // Take the executor from the concrete handler (the awaiting coroutine's) and keep
    // its io_context alive until the result is delivered.
    auto ex = asio::get_associated_executor(handler);
    c.target_ = awaiting{asio::prefer(ex, asio::execution::outstanding_work.tracked),
                         asio::any_completion_handler<void(R)>(std::forward<Handler>(handler))};
    return c;
  }
  static completion from_promise(std::promise<R>& p) {
    completion c;
    c.target_ = &p;
    return c;
  }

  bool pending() const noexcept { return !std::holds_alternative<std::monostate>(target_); }

  void operator()(R r) {
    if (auto* a = std::get_if<awaiting>(&target_)) {
      auto work = std::move(a->work);
      asio::post(work, [h = std::move(a->handler), r = std::move(r)]() mutable {
        std::move(h)(std::move(r));
      });
    } else if (auto* p = std::get_if<std::promise<R>*>(&target_)) {
      (*p)->set_value(std::move(r));
    }
    target_ = std::monostate{};
  }

 private:
  struct awaiting {
    asio::any_io_executor work;
    asio::any_completion_handler<void(R)> handler;
  };
  std::variant<std::monostate, awaiting, std::promise<R>*> target_;
};

}  // namespace

// ---- names -------------------------------------------------------------------------

std::string_view to_string(error_kind k) noexcept {
  switch (k) {
    case error_kind::open: return "open";
    case error_kind::corrupt: return "corrupt";
    case error_kind::newer_schema: return "newer_schema";
    case error_kind::full: return "full";
    case error_kind::io: return "io";
    case error_kind::busy: return "busy";
    case error_kind::constraint: return "constraint";
    case error_kind::closed: return "closed";
    case error_kind::other: break;
  }
  return "other";
}

std::string_view to_string(ledger_state s) noexcept {
  switch (s) {
    case ledger_state::intent: return "intent";
    case ledger_state::sent: return "sent";
    case ledger_state::done: return "done";
    case ledger_state::failed: return "failed";
    case ledger_state::unknown: return "unknown";
    case ledger_state::not_applied: break;
  }
  return "not_applied";
}

std::optional<ledger_state> parse_ledger_state(std::string_view s) noexcept {
  for (auto st : {ledger_state::intent, ledger_state::sent, ledger_state::done, ledger_state::failed,
                  ledger_state::unknown, ledger_state::not_applied})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

open_options open_options::from(const config::state_config& state) {
  open_options o;
  o.path = state.path;
  o.transition_retention = state.transition_retention;
  o.commit_window = milliseconds{10};
  return o;
}

void write_batch::put(const tracked_task& state) {
  // Everything but the decoded snapshot, which is not stored (snapshot_json is).
  tracked_task& t = tasks.emplace_back();
  t.key = state.key;
  t.name = state.name;
  t.first_seen = state.first_seen;
  t.status_code = state.status_code;
  t.status_since = state.status_since;
  t.last_success = state.last_success;
  t.progress = state.progress;
  t.fingerprint = state.fingerprint;
  t.moved_at = state.moved_at;
  t.stalled = state.stalled;
  t.stalled_since = state.stalled_since;
  t.progress_event_at = state.progress_event_at;
  t.progress_event_value = state.progress_event_value;
  t.progress_event_fingerprint = state.progress_event_fingerprint;
  t.gone = state.gone;
  t.gone_since = state.gone_since;
  t.last_error = state.last_error;
  t.snapshot_json = state.snapshot_json;
}

// ---- the writer ----------------------------------------------------------------------

struct state_store::impl {
  // One unit of work for the writer thread, in submission order.
  struct op {
    virtual ~op() = default;
    // Whether write() must run inside the write transaction.
    virtual bool writes() const noexcept { return false; }
    // Whether the op's write is kept for the next transaction when this one fails.
    virtual bool kept_on_failure() const noexcept { return false; }
    // Whether the op may wait up to open_options::commit_window for company.
    virtual bool may_gather() const noexcept { return false; }
    // Inside the transaction. Throws sqlite_error to fail the whole transaction.
    virtual void write(impl&) {}
    // After the transaction (txn_error: it failed). Delivers the result.
    virtual void finish(impl&, const std::optional<store_error>& txn_error) = 0;
    // The store is closed: deliver `closed` without running.
    virtual void abandon(const store_error& e) = 0;
  };

  open_options opts;
  int schema = 0;
  // flock()ed for the store's lifetime so a second labelwatchd on the same file fails
  // instead of emitting everything twice. Closed only after the connection: closing
  // any descriptor of the file would drop SQLite's own (fcntl) locks.
  int lock_fd = -1;
  std::optional<connection> db;
  std::optional<statement> upsert_task, insert_transition;

  std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu.
  std::unordered_map<task_key, tracked_task, task_key_hash> pending_tasks;
  std::vector<status_transition> pending_transitions;
  std::deque<std::unique_ptr<op>> ops;
  std::vector<std::unique_ptr<op>> kept_ops;  // writes kept after a failed transaction
  bool new_work = false;                       // arrived since the last failed attempt
  std::optional<steady::time_point> retry_at;  // set while the last attempt failed
  bool retry_now = false;                      // a page-limit change asks for a retry
  bool stopping = false;
  bool closed = false;
  bool gathering = false;  // the writer waits out a commit window
  // Taken by the writer for the transaction under way: still pending for stats().
  std::size_t inflight_tasks = 0, inflight_transitions = 0;

  steady::time_point last_prune = steady::now();
  std::thread writer;

  std::atomic<std::uint64_t> n_transactions{0}, n_failed{0}, n_tasks{0}, n_transitions{0},
      n_ledger{0}, n_pruned{0}, n_pending_tasks{0}, n_pending_transitions{0}, n_dropped{0};

  // -- submission (any thread) --
  void enqueue(std::unique_ptr<op> o, write_batch* batch) {
    std::unique_lock lk(mu);
    if (closed || stopping) {
      lk.unlock();
      if (o) o->abandon(make_error(error_kind::closed, "state database " + opts.path + " is closed"));
      return;
    }
    if (batch) merge_locked(std::move(*batch));
    // While the writer gathers commits, more of them need not wake it: that wake-up per
    // commit is the cost the window saves.
    const bool wake = !gathering || (o && !o->may_gather());
    if (o) ops.push_back(std::move(o));
    new_work = true;
    lk.unlock();
    if (wake) cv.notify_one();
  }

  void merge_locked(write_batch batch) {
    for (auto& t : batch.tasks) {
      auto key = t.key;
      pending_tasks.insert_or_assign(std::move(key), std::move(t));
    }
    pending_transitions.insert(pending_transitions.end(),
                               std::make_move_iterator(batch.transitions.begin()),
                               std::make_move_iterator(batch.transitions.end()));
    update_pending_locked();
  }

  void update_pending_locked() {
    n_pending_tasks = pending_tasks.size() + inflight_tasks;
    n_pending_transitions = pending_transitions.size() + inflight_transitions;
  }

  // -- the writer thread --
  void run() {
    for (;;) {
      std::unique_lock lk(mu);
      std::optional<steady::time_point> gather_until;
      for (;;) {
        if (stopping) break;
        const bool has_data =
            !pending_tasks.empty() || !pending_transitions.empty() || !kept_ops.empty();
        if (!ops.empty()) {
          // Commits that can wait wait a little for each other: one fsync for many.
          // Anything else (a ledger write, a read, a flush) goes at once.
          if (opts.commit_window > milliseconds::zero() && !retry_at &&
              std::all_of(ops.begin(), ops.end(), [](const auto& o) { return o->may_gather(); })) {
            if (!gather_until) gather_until = steady::now() + opts.commit_window;
            if (steady::now() < *gather_until) {
              gathering = true;
              cv.wait_until(lk, *gather_until);
              gathering = false;
              continue;
            }
          }
          break;  // someone waits (or reads): go now
        }
        if (has_data) {
          if (retry_at && !new_work && !retry_now) {
            if (steady::now() >= *retry_at) break;
            cv.wait_until(lk, *retry_at);
            continue;
          }
          if (opts.commit_delay > milliseconds::zero() && !retry_at) {
            if (!gather_until) gather_until = steady::now() + opts.commit_delay;
            if (steady::now() >= *gather_until) break;
            cv.wait_until(lk, *gather_until);
            continue;
          }
          break;
        }
        cv.wait(lk);
      }
      const bool last = stopping;
      auto tasks = std::move(pending_tasks);
      pending_tasks.clear();
      auto transitions = std::move(pending_transitions);
      pending_transitions.clear();
      auto my_ops = std::move(ops);
      ops.clear();
      auto kept = std::move(kept_ops);
      kept_ops.clear();
      new_work = false;
      retry_now = false;
      inflight_tasks = tasks.size();
      inflight_transitions = transitions.size();
      lk.unlock();

      process(std::move(tasks), std::move(transitions), std::move(my_ops), std::move(kept));

      if (last) {
        std::unique_lock lk2(mu);
        closed = true;
        // Whatever arrived during the last transaction gets `closed`.
        auto rest = std::move(ops);
        ops.clear();
        lk2.unlock();
        for (auto& o : rest)
          o->abandon(make_error(error_kind::closed, "state database " + opts.path + " is closed"));
        return;
      }
    }
  }

  void process(std::unordered_map<task_key, tracked_task, task_key_hash> tasks,
               std::vector<status_transition> transitions, std::deque<std::unique_ptr<op>> my_ops,
               std::vector<std::unique_ptr<op>> kept) {
    bool any_write = !tasks.empty() || !transitions.empty() || !kept.empty();
    for (const auto& o : my_ops) any_write = any_write || o->writes();

    std::optional<store_error> txn_error;
    if (any_write) {
      const sys_time now = wall_now();
      try {
        db->exec("BEGIN IMMEDIATE");
        for (auto& o : kept) o->write(*this);
        for (const auto& [key, t] : tasks) write_task(t, now);
        for (const auto& t : transitions) write_transition(t);
        for (auto& o : my_ops)
          if (o->writes()) o->write(*this);
        maybe_prune(now);
        db->exec("COMMIT");
        ++n_transactions;
        n_tasks += tasks.size();
        n_transitions += transitions.size();
        std::lock_guard lk(mu);
        retry_at.reset();
        inflight_tasks = inflight_transitions = 0;
        update_pending_locked();
      } catch (const sqlite_error& e) {
        rollback();
        ++n_failed;
        txn_error = from_sqlite(opts.path, e, "write");
        // Nothing is lost: put it back under anything newer that arrived meanwhile.
        std::lock_guard lk(mu);
        for (auto& [key, t] : tasks) pending_tasks.try_emplace(key, std::move(t));
        pending_transitions.insert(pending_transitions.begin(),
                                   std::make_move_iterator(transitions.begin()),
                                   std::make_move_iterator(transitions.end()));
        inflight_tasks = inflight_transitions = 0;
        update_pending_locked();
        kept_ops.insert(kept_ops.begin(), std::make_move_iterator(kept.begin()),
                        std::make_move_iterator(kept.end()));
        retry_at = steady::now() + opts.retry_interval;
        new_work = false;
      }
    }
    for (auto& o : my_ops) {
      o->finish(*this, txn_error);
      if (txn_error && o->kept_on_failure()) {
        std::lock_guard lk(mu);
        kept_ops.push_back(std::move(o));
      }
    }
  }

  void rollback() noexcept {
    try {
      if (db->in_transaction()) db->exec("ROLLBACK");
    } catch (const sqlite_error&) {
      // SQLite rolls back by itself on the errors that make ROLLBACK fail.
    }
  }

  void write_task(const tracked_task& t, sys_time now) {
    if (!upsert_task)
      upsert_task.emplace(db->prepare(
          "REPLACE INTO tasks (kind, dataset_id, task_id, name, first_seen_ms, status_code, "
          "status_since_ms, last_success_ms, progress, fingerprint, moved_at_ms, stalled, "
          "stalled_since_ms, progress_event_ms, progress_event_value, progress_event_fingerprint, "
          "gone, gone_since_ms, error_kind, error_message, error_since_ms, snapshot, updated_at_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
          "?19, ?20, ?21, ?22, ?23)"));
    auto& st = *upsert_task;
    st.reset();
    st.bind(1, to_string(t.key.kind))
        .bind(2, t.key.dataset_id)
        .bind(3, t.key.task_id)
        .bind(4, t.name)
        .bind(5, opt_ms(t.first_seen))
        .bind(6, t.status_code)
        .bind(7, to_unix_ms(t.status_since))
        .bind(8, opt_ms(t.last_success))
        .bind(9, t.progress)
        .bind(10, t.fingerprint)
        .bind(11, to_unix_ms(t.moved_at))
        .bind(12, t.stalled)
        .bind(13, opt_ms(t.stalled_since))
        .bind(14, opt_ms(t.progress_event_at))
        .bind(15, t.progress_event_value)
        .bind(16, t.progress_event_fingerprint)
        .bind(17, t.gone)
        .bind(18, opt_ms(t.gone_since));
    if (t.last_error) {
      st.bind(19, static_cast<std::int64_t>(t.last_error->kind))
          .bind(20, t.last_error->message)
          .bind(21, to_unix_ms(t.last_error->since));
    } else {
      st.bind_null(19).bind_null(20).bind_null(21);
    }
    st.bind(22, t.snapshot_json).bind(23, to_unix_ms(now));
    st.run();
  }

  void write_transition(const status_transition& t) {
    if (!insert_transition)
      insert_transition.emplace(db->prepare(
          "INSERT INTO transitions (ts_ms, kind, dataset_id, task_id, from_code, to_code, "
          "from_status, to_status, seconds_in_previous) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    auto& st = *insert_transition;
    st.reset();
    st.bind(1, to_unix_ms(t.at))
        .bind(2, to_string(t.key.kind))
        .bind(3, t.key.dataset_id)
        .bind(4, t.key.task_id)
        .bind(5, t.from_code)
        .bind(6, t.to_code)
        .bind(7, status_name(t.key.kind, t.from_code))
        .bind(8, status_name(t.key.kind, t.to_code))
        .bind(9, t.seconds_in_previous);
    st.run();
  }

  void maybe_prune(sys_time now) {
    if (steady::now() - last_prune < std::chrono::hours{1}) return;
    prune(now);
  }

  void prune(sys_time now) {
    last_prune = steady::now();
    auto st = db->prepare("DELETE FROM transitions WHERE ts_ms < ?1");
    st.bind(1, to_unix_ms(now - opts.transition_retention));
    st.run();
    n_pruned += static_cast<std::uint64_t>(db->changes());
  }

  // -- reads used by several ops --
  static ledger_entry read_ledger(const statement& st) {
    ledger_entry e;
    e.id = st.int64(0);
    e.dataset_id = st.text(1);
    e.task_id = st.text(2);
    e.checking_task_id = st.text(3);
    e.mode = parse_mode(st.text(4));
    e.rule = st.text(5);
    e.action = static_cast<config::acceptance_action>(st.int64(6));
    e.overwrite_last_result = st.int64(7) != 0;
    e.explanation = st.text(8);
    e.state = parse_ledger_state(st.text(9)).value_or(ledger_state::unknown);
    if (const auto s = st.opt_int64(10)) e.outcome.http_status = static_cast<unsigned>(*s);
    e.outcome.error_code = st.text(11);
    e.outcome.message = st.text(12);
    e.outcome.request_id = st.text(13);
    e.created_at = from_unix_ms(st.int64(14));
    e.updated_at = from_unix_ms(st.int64(15));
    return e;
  }

  static constexpr std::string_view ledger_columns =
      "id, dataset_id, task_id, checking_task_id, mode, rule, action, overwrite, explanation, "
      "state, http_status, error_code, message, request_id, created_at_ms, updated_at_ms";

  std::vector<ledger_entry> query_ledger(std::string_view where_and_order,
                                         const std::function<void(statement&)>& bind) {
    auto st = db->prepare("SELECT " + std::string(ledger_columns) + " FROM acceptance_ledger " +
                          std::string(where_and_order));
    bind(st);
    std::vector<ledger_entry> out;
    while (st.step()) out.push_back(read_ledger(st));
    return out;
  }

  std::optional<ledger_entry> live_entry(const std::string& dataset, const std::string& task,
                                         const std::string& checking, config::acceptance_mode mode) {
    auto rows = query_ledger(
        "WHERE dataset_id = ?1 AND task_id = ?2 AND checking_task_id = ?3 AND mode = ?4 "
        "AND state <> 'not_applied'",
        [&](statement& st) { st.bind(1, dataset).bind(2, task).bind(3, checking).bind(4, mode_name(mode)); });
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }

  std::vector<tracked_task> load_all() {
    auto st = db->prepare(
        "SELECT kind, dataset_id, task_id, name, first_seen_ms, status_code, status_since_ms, "
        "last_success_ms, progress, fingerprint, moved_at_ms, stalled, stalled_since_ms, "
        "progress_event_ms, progress_event_value, progress_event_fingerprint, gone, gone_since_ms, "
        "error_kind, error_message, error_since_ms, snapshot FROM tasks");
    std::vector<tracked_task> out;
    out.reserve(static_cast<std::size_t>(db->query_int("SELECT count(*) FROM tasks")));
    while (st.step()) {
      tracked_task& t = out.emplace_back();
      t.key.kind = parse_task_kind(st.text(0)).value_or(task_kind::auto_labeling);
      t.key.dataset_id = st.text(1);
      t.key.task_id = st.text(2);
      t.name = st.text(3);
      t.first_seen = opt_time(st.opt_int64(4));
      t.status_code = st.int64(5);
      t.status_since = from_unix_ms(st.int64(6));
      t.last_success = opt_time(st.opt_int64(7));
      t.progress = st.opt_real(8);
      t.fingerprint = st.text(9);
      t.moved_at = from_unix_ms(st.int64(10));
      t.stalled = st.int64(11) != 0;
      t.stalled_since = opt_time(st.opt_int64(12));
      t.progress_event_at = opt_time(st.opt_int64(13));
      t.progress_event_value = st.opt_real(14);
      t.progress_event_fingerprint = st.text(15);
      t.gone = st.int64(16) != 0;
      t.gone_since = opt_time(st.opt_int64(17));
      if (const auto kind = st.opt_int64(18))
        t.last_error = task_error{static_cast<errc>(*kind), st.text(19),
                                  from_unix_ms(st.opt_int64(20).value_or(0))};
      t.snapshot_json = st.text(21);
    }
    return out;
  }
};

namespace {

using impl = state_store::impl;

// Waits for the transaction that carries everything submitted before it.
class waiter_op final : public impl::op {
 public:
  explicit waiter_op(completion<store_result<void>> c, bool gather = false)
      : done_(std::move(c)), gather_(gather) {}
  bool may_gather() const noexcept override { return gather_; }
  void finish(impl&, const std::optional<store_error>& txn_error) override {
    if (txn_error)
      done_(*txn_error);
    else
      done_(store_result<void>{});
  }
  void abandon(const store_error& e) override { done_(e); }

 private:
  completion<store_result<void>> done_;
  bool gather_ = false;
};

// A read, run after the transaction so it sees every write submitted before it.
template <class T>
class read_op final : public impl::op {
 public:
  read_op(completion<store_result<T>> c, std::function<T(impl&)> fn, std::string what)
      : done_(std::move(c)), fn_(std::move(fn)), what_(std::move(what)) {}
  void finish(impl& s, const std::optional<store_error>&) override {
    try {
      done_(fn_(s));
    } catch (const sqlite_error& e) {
      done_(from_sqlite(s.opts.path, e, what_));
    }
  }
  void abandon(const store_error& e) override { done_(e); }

 private:
  completion<store_result<T>> done_;
  std::function<T(impl&)> fn_;
  std::string what_;
};

class ledger_begin_op final : public impl::op {
 public:
  ledger_begin_op(completion<store_result<ledger_begin_result>> c, ledger_entry e)
      : done_(std::move(c)), entry_(std::move(e)) {}
  bool writes() const noexcept override { return true; }
  void write(impl& s) override {
    if (entry_.created_at == sys_time{}) entry_.created_at = wall_now();
    entry_.updated_at = entry_.created_at;
    auto st = s.db->prepare(
        "INSERT INTO acceptance_ledger (dataset_id, task_id, checking_task_id, mode, rule, action, "
        "overwrite, explanation, state, http_status, error_code, message, request_id, "
        "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13, ?14, ?15) ON CONFLICT DO NOTHING");
    st.bind(1, entry_.dataset_id)
        .bind(2, entry_.task_id)
        .bind(3, entry_.checking_task_id)
        .bind(4, mode_name(entry_.mode))
        .bind(5, entry_.rule)
        .bind(6, static_cast<std::int64_t>(entry_.action))
        .bind(7, entry_.overwrite_last_result)
        .bind(8, entry_.explanation)
        .bind(9, to_string(entry_.state));
    if (entry_.outcome.http_status)
      st.bind(10, static_cast<std::int64_t>(*entry_.outcome.http_status));
    else
      st.bind_null(10);
    st.bind(11, entry_.outcome.error_code)
        .bind(12, entry_.outcome.message)
        .bind(13, entry_.outcome.request_id)
        .bind(14, to_unix_ms(entry_.created_at))
        .bind(15, to_unix_ms(entry_.updated_at));
    st.run();
    if (s.db->changes() == 1) {
      entry_.id = s.db->last_insert_rowid();
      result_ = ledger_begin_result{true, entry_};
      ++s.n_ledger;
    } else {
      auto existing = s.live_entry(entry_.dataset_id, entry_.task_id, entry_.checking_task_id, entry_.mode);
      // The insert was ignored, so a live entry exists; read inside the same transaction.
      result_ = ledger_begin_result{false, existing.value_or(entry_)};
    }
  }
  void finish(impl&, const std::optional<store_error>& txn_error) override {
    if (txn_error)
      done_(*txn_error);  // dropped: the caller must not act
    else
      done_(std::move(result_));
  }
  void abandon(const store_error& e) override { done_(e); }

 private:
  completion<store_result<ledger_begin_result>> done_;
  ledger_entry entry_;
  ledger_begin_result result_;
};

class ledger_update_op final : public impl::op {
 public:
  ledger_update_op(completion<store_result<void>> c, std::int64_t id, ledger_state state,
                   ledger_outcome outcome, sys_time now)
      : done_(std::move(c)), id_(id), state_(state), outcome_(std::move(outcome)), now_(now) {}
  bool writes() const noexcept override { return true; }
  bool kept_on_failure() const noexcept override { return true; }
  void write(impl& s) override {
    op_error_.reset();
    auto st = s.db->prepare(
        "UPDATE acceptance_ledger SET state = ?1, http_status = ?2, error_code = ?3, message = ?4, "
        "request_id = ?5, updated_at_ms = ?6 WHERE id = ?7 AND state IN " +
        std::string(allowed_from(state_)));
    st.bind(1, to_string(state_));
    if (outcome_.http_status)
      st.bind(2, static_cast<std::int64_t>(*outcome_.http_status));
    else
      st.bind_null(2);
    st.bind(3, outcome_.error_code)
        .bind(4, outcome_.message)
        .bind(5, outcome_.request_id)
        .bind(6, to_unix_ms(now_))
        .bind(7, id_);
    st.run();
    if (s.db->changes() == 1) {
      ++s.n_ledger;
      return;
    }
    auto q = s.db->prepare("SELECT state FROM acceptance_ledger WHERE id = ?1");
    q.bind(1, id_);
    std::string msg = "state database " + s.opts.path + ": ledger entry " + std::to_string(id_);
    msg += q.step() ? " is " + q.text(0) + " and cannot become " + std::string(to_string(state_))
                    : " does not exist";
    op_error_ = make_error(error_kind::constraint, std::move(msg));
    if (!done_.pending()) ++s.n_dropped;  // a kept update that no longer fits
  }
  void finish(impl&, const std::optional<store_error>& txn_error) override {
    if (!done_.pending()) return;  // a kept update: its caller was told already
    if (txn_error)
      done_(*txn_error);
    else if (op_error_)
      done_(*op_error_);
    else
      done_(store_result<void>{});
  }
  void abandon(const store_error& e) override {
    if (done_.pending()) done_(e);
  }

 private:
  completion<store_result<void>> done_;
  std::int64_t id_;
  ledger_state state_;
  ledger_outcome outcome_;
  sys_time now_;
  std::optional<store_error> op_error_;
};

class meta_set_op final : public impl::op {
 public:
  meta_set_op(completion<store_result<void>> c, std::string k, std::string v)
      : done_(std::move(c)), key_(std::move(k)), value_(std::move(v)) {}
  bool writes() const noexcept override { return true; }
  void write(impl& s) override {
    auto st = s.db->prepare("REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    st.bind(1, key_).bind(2, value_);
    st.run();
  }
  void finish(impl&, const std::optional<store_error>& txn_error) override {
    if (txn_error)
      done_(*txn_error);
    else
      done_(store_result<void>{});
  }
  void abandon(const store_error& e) override { done_(e); }

 private:
  completion<store_result<void>> done_;
  std::string key_, value_;
};

class page_limit_op final : public impl::op {
 public:
  page_limit_op(completion<store_result<void>> c, std::uint32_t pages) : done_(std::move(c)), pages_(pages) {}
  void finish(impl& s, const std::optional<store_error>&) override {
    try {
      // 0 means "SQLite's default": its largest value.
      const std::uint32_t pages = pages_ != 0 ? pages_ : 0xfffffffeu;
      s.db->query_int("PRAGMA max_page_count = " + std::to_string(pages));
      {
        std::lock_guard lk(s.mu);
        s.retry_now = true;  // kept writes may fit now
      }
      s.cv.notify_one();
      done_(store_result<void>{});
    } catch (const sqlite_error& e) {
      done_(from_sqlite(s.opts.path, e, "set max_page_count"));
    }
  }
  void abandon(const store_error& e) override { done_(e); }

 private:
  completion<store_result<void>> done_;
  std::uint32_t pages_;
};

// Starts an operation whose result an awaiting coroutine receives.
template <class R, class MakeOp>
net::awaitable<R> async_op(impl& s, write_batch* batch_storage, MakeOp make_op) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&s, batch_storage, make_op = std::move(make_op)](auto handler) mutable {
        s.enqueue(make_op(completion<R>::from_handler(std::move(handler))), batch_storage);
      },
      asio::use_awaitable);
}

template <class T>
net::awaitable<store_result<T>> async_read(impl& s, std::function<T(impl&)> fn, std::string what) {
  return async_op<store_result<T>>(s, nullptr, [fn = std::move(fn), what = std::move(what)](
                                                   completion<store_result<T>> c) mutable {
    return std::make_unique<read_op<T>>(std::move(c), std::move(fn), std::move(what));
  });
}

template <class T>
store_result<T> sync_read(impl& s, std::function<T(impl&)> fn, std::string what) {
  std::promise<store_result<T>> p;
  auto f = p.get_future();
  s.enqueue(std::make_unique<read_op<T>>(completion<store_result<T>>::from_promise(p), std::move(fn),
                                         std::move(what)),
            nullptr);
  return f.get();
}

// Open-time checks that need no SQLite: they give the OS reason, which SQLite's
// "unable to open database file" does not.
std::optional<store_error> check_access(const std::string& path) {
  if (path.empty()) return make_error(error_kind::open, "state path is empty ([state] path)");
  fs::path p(path);
  std::string dir = p.parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return make_error(error_kind::open, "cannot use state directory " + dir + " for " + path +
                                            ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return make_error(error_kind::open, "cannot use state directory " + dir + " for " + path +
                                            ": not a directory");
  // The WAL and shared-memory files are created next to the database.
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return make_error(error_kind::open, "state directory " + dir + " is not writable: " +
                                            std::strerror(errno));
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return make_error(error_kind::open, "state database " + path + " is a directory");
    if (::access(path.c_str(), R_OK | W_OK) != 0)
      return make_error(error_kind::open, "cannot read and write state database " + path + ": " +
                                              std::strerror(errno));
  } else if (errno != ENOENT) {
    return make_error(error_kind::open, "cannot use state database " + path + ": " + std::strerror(errno));
  }
  return std::nullopt;
}

std::string corrupt_hint(const std::string& path) {
  return "; the file is left untouched: move it aside with `labelwatchd --reset-state` (it is "
         "renamed, not deleted) or restore a backup of " +
         path;
}

}  // namespace

// ---- store ---------------------------------------------------------------------------

state_store::state_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

state_store::~state_store() { close(); }

store_result<std::unique_ptr<state_store>> state_store::open(const open_options& options) {
  if (auto e = check_access(options.path)) return *e;
  auto p = std::make_unique<impl>();
  p->opts = options;
  const std::string& path = options.path;
  // Created here with owner-only permissions when missing (an empty file is a new
  // database to SQLite).
  p->lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (p->lock_fd < 0)
    return make_error(error_kind::open, "cannot open state database " + path + ": " + std::strerror(errno));
  if (::flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(p->lock_fd);
    if (err == EWOULDBLOCK)
      return make_error(error_kind::busy, "state database " + path +
                                              " is in use by another labelwatch process; each "
                                              "instance needs its own [state] path");
    return make_error(error_kind::open, "cannot lock state database " + path + ": " + std::strerror(err));
  }
  struct lock_guard_on_error {
    impl* p;
    ~lock_guard_on_error() {
      if (p && p->lock_fd >= 0) {
        p->db.reset();
        ::close(p->lock_fd);
      }
    }
  } unlock_on_error{p.get()};
  try {
    p->db.emplace(path);
  } catch (const sqlite_error& e) {
    return from_sqlite(path, e, "open");
  }
  connection& db = *p->db;
  try {
    db.exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()));
    // The first read of the header: a file that is not a database fails here.
    const auto version = static_cast<int>(db.query_int("PRAGMA user_version"));
    std::vector<std::string> problems;
    auto check = db.prepare("PRAGMA quick_check(5)");
    while (check.step()) problems.push_back(check.text(0));
    if (problems.empty() || problems.front() != "ok") {
      std::string msg = "state database " + path + " failed its integrity check:";
      for (const auto& line : problems) msg += " " + line + ";";
      msg.pop_back();
      return make_error(error_kind::corrupt, msg + corrupt_hint(path));
    }
    if (version > latest_schema_version())
      return make_error(error_kind::newer_schema,
                        "state database " + path + " has schema version " + std::to_string(version) +
                            " but this labelwatch knows versions up to " +
                            std::to_string(latest_schema_version()) +
                            ": it was written by a newer labelwatch; run that version or move "
                            "the file aside with `labelwatchd --reset-state`");
    if (const auto mode = db.query_text("PRAGMA journal_mode = WAL"); mode != "wal")
      return make_error(error_kind::open, "state database " + path +
                                              ": cannot enable WAL mode (journal_mode is " + mode + ")");
    db.exec("PRAGMA synchronous = FULL");
    if (options.max_page_count != 0)
      db.query_int("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
    migrate(db);
    p->schema = static_cast<int>(db.query_int("PRAGMA user_version"));
    p->prune(wall_now());
    auto meta = db.prepare("REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    meta.bind(1, "labelwatch_version").bind(2, labelwatch::version).run();
    meta.reset();
    meta.bind(1, "last_opened_at").bind(2, format_rfc3339_ms(wall_now())).run();
  } catch (const sqlite_error& e) {
    auto err = from_sqlite(path, e, "open");
    if (err.kind == error_kind::corrupt) err.message += corrupt_hint(path);
    return err;
  }
  unlock_on_error.p = nullptr;
  impl* raw = p.get();
  raw->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<state_store>(new state_store(std::move(p)));
}

const std::string& state_store::path() const noexcept { return impl_->opts.path; }
int state_store::schema_version() const noexcept { return impl_->schema; }

store_result<std::vector<tracked_task>> state_store::load_tasks() {
  return sync_read<std::vector<tracked_task>>(*impl_, [](impl& s) { return s.load_all(); }, "load tasks");
}

store_result<void> state_store::flush_sync() {
  std::promise<store_result<void>> p;
  auto f = p.get_future();
  impl_->enqueue(std::make_unique<waiter_op>(completion<store_result<void>>::from_promise(p)), nullptr);
  return f.get();
}

void state_store::submit(write_batch batch) {
  if (batch.empty()) return;
  impl_->enqueue(nullptr, &batch);
}

net::awaitable<store_result<void>> state_store::commit(write_batch batch) {
  // The batch lives in this coroutine frame until the initiation has merged it.
  co_return co_await async_op<store_result<void>>(
      *impl_, &batch,
      [](completion<store_result<void>> c) {
        return std::make_unique<waiter_op>(std::move(c), /*gather=*/true);
      });
}

net::awaitable<store_result<void>> state_store::flush() {
  return async_op<store_result<void>>(
      *impl_, nullptr,
      [](completion<store_result<void>> c) { return std::make_unique<waiter_op>(std::move(c)); });
}

net::awaitable<store_result<std::vector<transition_row>>> state_store::recent_transitions(
    std::size_t limit, std::optional<task_key> task) {
  return async_read<std::vector<transition_row>>(
      *impl_,
      [limit, task = std::move(task)](impl& s) {
        std::string sql =
            "SELECT id, ts_ms, kind, dataset_id, task_id, from_code, to_code, from_status, "
            "to_status, seconds_in_previous FROM transitions ";
        if (task) sql += "WHERE kind = ?2 AND dataset_id = ?3 AND task_id = ?4 ";
        sql += "ORDER BY id DESC LIMIT ?1";
        auto st = s.db->prepare(sql);
        st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        if (task) st.bind(2, to_string(task->kind)).bind(3, task->dataset_id).bind(4, task->task_id);
        std::vector<transition_row> out;
        while (st.step()) {
          transition_row r;
          r.id = st.int64(0);
          r.at = from_unix_ms(st.int64(1));
          r.key.kind = parse_task_kind(st.text(2)).value_or(task_kind::auto_labeling);
          r.key.dataset_id = st.text(3);
          r.key.task_id = st.text(4);
          r.from_code = st.int64(5);
          r.to_code = st.int64(6);
          r.from = st.text(7);
          r.to = st.text(8);
          r.seconds_in_previous = st.real(9);
          out.push_back(std::move(r));
        }
        return out;
      },
      "read transitions");
}

net::awaitable<store_result<ledger_begin_result>> state_store::ledger_begin(ledger_entry entry) {
  return async_op<store_result<ledger_begin_result>>(
      *impl_, nullptr, [entry = std::move(entry)](completion<store_result<ledger_begin_result>> c) mutable {
        return std::make_unique<ledger_begin_op>(std::move(c), std::move(entry));
      });
}

net::awaitable<store_result<void>> state_store::ledger_update(std::int64_t id, ledger_state state,
                                                        ledger_outcome outcome, sys_time now) {
  return async_op<store_result<void>>(
      *impl_, nullptr,
      [id, state, outcome = std::move(outcome), now](completion<store_result<void>> c) mutable {
        return std::make_unique<ledger_update_op>(std::move(c), id, state, std::move(outcome), now);
      });
}

net::awaitable<store_result<std::vector<ledger_entry>>> state_store::ledger_unfinished() {
  return async_read<std::vector<ledger_entry>>(
      *impl_,
      [](impl& s) {
        return s.query_ledger("WHERE state IN ('intent', 'sent') ORDER BY id", [](statement&) {});
      },
      "read ledger");
}

net::awaitable<store_result<std::optional<ledger_entry>>> state_store::ledger_find(
    std::string dataset_id, std::string task_id, std::string checking_task_id,
    config::acceptance_mode mode) {
  return async_read<std::optional<ledger_entry>>(
      *impl_,
      [d = std::move(dataset_id), t = std::move(task_id), c = std::move(checking_task_id),
       mode](impl& s) { return s.live_entry(d, t, c, mode); },
      "read ledger");
}

net::awaitable<store_result<std::int64_t>> state_store::ledger_count_since(sys_time since,
                                                                     config::acceptance_mode mode) {
  return async_read<std::int64_t>(
      *impl_,
      [since, mode](impl& s) {
        auto st = s.db->prepare(
            "SELECT count(*) FROM acceptance_ledger WHERE mode = ?1 AND created_at_ms >= ?2 "
            "AND state <> 'not_applied'");
        st.bind(1, mode_name(mode)).bind(2, to_unix_ms(since));
        return st.step() ? st.int64(0) : std::int64_t{0};
      },
      "read ledger");
}

net::awaitable<store_result<std::optional<sys_time>>> state_store::ledger_last_action(
    std::string dataset_id, std::string task_id, config::acceptance_mode mode) {
  return async_read<std::optional<sys_time>>(
      *impl_,
      [d = std::move(dataset_id), t = std::move(task_id), mode](impl& s) {
        auto st = s.db->prepare(
            "SELECT max(created_at_ms) FROM acceptance_ledger WHERE dataset_id = ?1 AND task_id = ?2 "
            "AND mode = ?3 AND state <> 'not_applied'");
        st.bind(1, d).bind(2, t).bind(3, mode_name(mode));
        return st.step() ? opt_time(st.opt_int64(0)) : std::nullopt;
      },
      "read ledger");
}

net::awaitable<store_result<std::vector<ledger_entry>>> state_store::ledger_recent(std::size_t limit) {
  return async_read<std::vector<ledger_entry>>(
      *impl_,
      [limit](impl& s) {
        return s.query_ledger("ORDER BY id DESC LIMIT ?1", [&](statement& st) {
          st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        });
      },
      "read ledger");
}

net::awaitable<store_result<void>> state_store::set_meta(std::string key, std::string value) {
  return async_op<store_result<void>>(
      *impl_, nullptr,
      [k = std::move(key), v = std::move(value)](completion<store_result<void>> c) mutable {
        return std::make_unique<meta_set_op>(std::move(c), std::move(k), std::move(v));
      });
}

net::awaitable<store_result<std::optional<std::string>>> state_store::get_meta(std::string key) {
  return async_read<std::optional<std::string>>(
      *impl_,
      [k = std::move(key)](impl& s) -> std::optional<std::string> {
        auto st = s.db->prepare("SELECT value FROM meta WHERE key = ?1");
        st.bind(1, k);
        if (!st.step()) return std::nullopt;
        return st.text(0);
      },
      "read meta");
}

net::awaitable<store_result<void>> state_store::set_max_page_count(std::uint32_t pages) {
  return async_op<store_result<void>>(*impl_, nullptr, [pages](completion<store_result<void>> c) {
    return std::make_unique<page_limit_op>(std::move(c), pages);
  });
}

store_stats state_store::stats() const noexcept {
  const impl& s = *impl_;
  store_stats out;
  out.transactions = s.n_transactions;
  out.failed_transactions = s.n_failed;
  out.tasks_written = s.n_tasks;
  out.transitions_written = s.n_transitions;
  out.ledger_writes = s.n_ledger;
  out.transitions_pruned = s.n_pruned;
  out.pending_tasks = s.n_pending_tasks;
  out.pending_transitions = s.n_pending_transitions;
  out.dropped_ledger_updates = s.n_dropped;
  return out;
}

void state_store::close() {
  if (!impl_) return;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stopping) {
      // Already closing or closed; joining twice is not allowed.
    } else {
      impl_->stopping = true;
    }
  }
  impl_->cv.notify_one();
  if (impl_->writer.joinable()) impl_->writer.join();
  // Dropping the statements before the connection keeps close_v2 from deferring.
  impl_->upsert_task.reset();
  impl_->insert_transition.reset();
  impl_->db.reset();
  if (impl_->lock_fd >= 0) {
    ::close(impl_->lock_fd);
    impl_->lock_fd = -1;
  }
}

// ---- reset ---------------------------------------------------------------------------

store_result<std::vector<std::string>> reset_state(const std::string& path, sys_time now) {
  if (path.empty()) return make_error(error_kind::open, "state path is empty ([state] path)");
  const std::string stamp = path + ".bad-" + format_sdk_date(now);
  std::string base = stamp;
  std::error_code ec;
  for (int n = 1; fs::exists(base, ec) || fs::exists(base + "-wal", ec) || fs::exists(base + "-shm", ec); ++n)
    base = stamp + "." + std::to_string(n);
  std::vector<std::string> moved;
  // The main file first: if that fails nothing has moved; its companions follow it.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = path + suffix;
    const std::string to = base + suffix;
    if (!fs::exists(from, ec)) continue;
    fs::rename(from, to, ec);
    if (ec) {
      std::string msg = "cannot move " + from + " to " + to + ": " + ec.message();
      if (!moved.empty()) {
        msg += " (already moved:";
        for (const auto& m : moved) msg += " " + m;
        msg += ")";
      }
      return make_error(error_kind::open, msg);
    }
    moved.push_back(to);
  }
  return moved;
}

}  // namespace labelwatch::store

namespace labelwatch::store {
void throw_exception_from_error(const store_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}
}  // namespace labelwatch::store
