// The tracker and the store together, the way the daemon uses them: observe, commit,
// then emit; restart (cleanly, or by the process dying right after a commit); reload
// and continue without repeating anything.
#include "core/tracker.hpp"
#include "store/store.hpp"
#include "store_fixture.hpp"

#include <sys/wait.h>
#include <cstdio>
#include <unistd.h>

using namespace labelwatch;
using namespace labelwatch::store;
using namespace labelwatch::store::testing;
using namespace std::chrono_literals;

namespace {

const sys_time t0 = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
const task_key key{task_kind::auto_labeling, "ds", "a1"};

modelarts::auto_task doc(std::int64_t status, double progress) {
  modelarts::auto_task t;
  t.task_id = "a1";
  t.task_name = "auto-one";
  t.status_code = status;
  t.progress = progress;
  return t;
}

std::string body(std::int64_t status, double progress) {
  return R"({"task_id":"a1","task_name":"auto-one","status":)" + std::to_string(status) +
         R"(,"progress":)" + std::to_string(progress) + "}";
}

// One poll as the app does it: track, commit what changed, then "emit".
std::vector<event> poll(state_store& s, asio::io_context& io, std::optional<tracked_task>& state,
                        std::int64_t status, double progress, sys_time now) {
  auto out = track(state ? &*state : nullptr, key, doc(status, progress), body(status, progress), now,
                     tracker_settings{});
  if (out.changed || out.transition) {
    write_batch b;
    b.put(out.state);
    if (out.transition) b.add(*out.transition);
    const auto r = run(io, s.commit(std::move(b)));
    if (!r) throw std::runtime_error(r.error().message);
  }
  state = std::move(out.state);
  return std::move(out.events);
}

std::optional<tracked_task> reload(state_store& s) {
  auto all = s.load_tasks();
  if (!all || all->size() != 1) throw std::runtime_error("expected one task");
  auto t = std::move(all->front());
  if (auto err = restore_snapshot(t)) throw std::runtime_error(*err);
  return t;
}

}  // namespace

TEST(restart, a_clean_restart_continues_without_repeating_events) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  std::optional<tracked_task> state;
  {
    auto s = open_ok(options_for(path));
    asio::io_context io;
    EXPECT_EQ(poll(*s, io, state, -1, 0, t0).size(), 1u);      // discovered
    EXPECT_EQ(poll(*s, io, state, 1, 5, t0 + 100s).size(), 2u);  // status + progress
  }
  auto s = open_ok(options_for(path));
  asio::io_context io;
  state = reload(*s);
  EXPECT_TRUE(std::holds_alternative<modelarts::auto_task>(state->snapshot));
  EXPECT_TRUE(poll(*s, io, state, 1, 5, t0 + 700s).empty());
  const auto events = poll(*s, io, state, 3, 100, t0 + 760s);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].name, "task_status_changed");
  EXPECT_EQ(events[0].fields.at("seconds_in_previous"), 660.0);
  const auto history = run(io, s->recent_transitions(10));
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].to, "succeeded");
  EXPECT_EQ((*history)[1].to, "running");
}

TEST(restart, a_commit_survives_the_process_dying_right_after_it) {
  temp_dir dir;
  const auto path = dir.file("state.db");
  std::fflush(nullptr);  // the child must not repeat buffered output
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child commits the transition and dies without closing anything, as after
    // kill -9: no checkpoint, the WAL is all there is.
    try {
      auto s = state_store::open(options_for(path));
      if (s) {
        asio::io_context io;
        std::optional<tracked_task> state;
        poll(**s, io, state, -1, 0, t0);
        poll(**s, io, state, 1, 5, t0 + 100s);
        ::_exit(0);  // with the store still open
      }
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));

  auto s = open_ok(options_for(path));
  asio::io_context io;
  auto state = reload(*s);
  EXPECT_EQ(state->status_code, 1);
  EXPECT_EQ(state->status_since, t0 + 100s);
  EXPECT_TRUE(poll(*s, io, state, 1, 5, t0 + 200s).empty());  // nothing re-emitted
}
