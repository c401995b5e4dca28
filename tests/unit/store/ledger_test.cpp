#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "store_fixture.hpp"

using namespace labelwatch;
using namespace labelwatch::store;
using namespace labelwatch::store::testing;
using namespace std::chrono_literals;
using config::acceptance_action;
using config::acceptance_mode;

namespace {

const sys_time t0 = from_unix_ms(1'700'000'000'000);

ledger_entry intent(std::string task, std::string checking, sys_time at = t0,
                    acceptance_mode mode = acceptance_mode::enforce) {
  ledger_entry e;
  e.dataset_id = "ds";
  e.task_id = std::move(task);
  e.checking_task_id = std::move(checking);
  e.mode = mode;
  e.rule = "pass-high-quality";
  e.action = acceptance_action::pass_single;
  e.overwrite_last_result = true;
  e.explanation = R"({"pass_rate":0.99,"checked":60})";
  e.state = mode == acceptance_mode::enforce ? ledger_state::intent : ledger_state::done;
  e.created_at = at;
  return e;
}

struct ledger_fixture : ::testing::Test {
  temp_dir dir;
  std::string path = dir.file("state.db");
  std::unique_ptr<state_store> s = open_ok(options_for(path));
  asio::io_context io;

  std::int64_t begin(ledger_entry e) {
    auto r = run(io, s->ledger_begin(std::move(e)));
    if (!r) throw std::runtime_error(r.error().message);
    if (!r->created) throw std::runtime_error("not created");
    return r->entry.id;
  }
};

}  // namespace

TEST_F(ledger_fixture, an_intent_is_recorded_once_per_checking_task) {
  const auto r = run(io, s->ledger_begin(intent("w1", "chk1")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->created);
  EXPECT_GT(r->entry.id, 0);
  EXPECT_EQ(r->entry.state, ledger_state::intent);
  EXPECT_EQ(r->entry.created_at, t0);
  EXPECT_EQ(r->entry.updated_at, t0);

  // Committed before completion: a second connection sees it.
  {
    connection c(path);
    EXPECT_EQ(c.query_int("SELECT count(*) FROM acceptance_ledger"), 1);
  }

  auto again = intent("w1", "chk1", t0 + 1h);
  again.action = acceptance_action::reject_all;
  const auto dup = run(io, s->ledger_begin(again));
  ASSERT_TRUE(dup);
  EXPECT_FALSE(dup->created);
  EXPECT_EQ(dup->entry.id, r->entry.id);
  EXPECT_EQ(dup->entry.action, acceptance_action::pass_single);  // the existing decision
  EXPECT_EQ(dup->entry.rule, "pass-high-quality");
  EXPECT_TRUE(dup->entry.overwrite_last_result);
  EXPECT_EQ(dup->entry.explanation, R"({"pass_rate":0.99,"checked":60})");

  // Another checking task of the same task, or a dry run, is a separate decision.
  EXPECT_TRUE(run(io, s->ledger_begin(intent("w1", "chk2")))->created);
  EXPECT_TRUE(run(io, s->ledger_begin(intent("w1", "chk1", t0, acceptance_mode::dry_run)))->created);
}

TEST_F(ledger_fixture, updates_follow_the_allowed_moves) {
  const auto id = begin(intent("w1", "chk1"));
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::sent, {}, t0 + 1s)));
  ledger_outcome ok;
  ok.http_status = 200;
  ok.request_id = "req-1";
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::done, ok, t0 + 2s)));

  const auto found = run(io, s->ledger_find("ds", "w1", "chk1", acceptance_mode::enforce));
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, ledger_state::done);
  EXPECT_EQ((*found)->outcome.http_status, 200u);
  EXPECT_EQ((*found)->outcome.request_id, "req-1");
  EXPECT_EQ((*found)->updated_at, t0 + 2s);
  EXPECT_EQ((*found)->created_at, t0);

  // done is final.
  const auto back = run(io, s->ledger_update(id, ledger_state::sent, {}, t0 + 3s));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().kind, error_kind::constraint);
  EXPECT_NE(back.error().message.find("is done and cannot become sent"), std::string::npos)
      << back.error().message;
  const auto missing = run(io, s->ledger_update(9999, ledger_state::done, {}, t0));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  // An intent cannot be re-declared.
  EXPECT_FALSE(run(io, s->ledger_update(id, ledger_state::intent, {}, t0)));
}

TEST_F(ledger_fixture, a_failed_put_keeps_its_error) {
  const auto id = begin(intent("w1", "chk1"));
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::sent, {}, t0 + 1s)));
  ledger_outcome bad{400, "ModelArts.4623", "acceptance is in progress", "req-9"};
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::failed, bad, t0 + 2s)));
  const auto recent = run(io, s->ledger_recent(10));
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].state, ledger_state::failed);
  EXPECT_EQ((*recent)[0].outcome.error_code, "ModelArts.4623");
  EXPECT_EQ((*recent)[0].outcome.message, "acceptance is in progress");
}

TEST_F(ledger_fixture, unfinished_entries_are_intents_and_sends) {
  const auto a = begin(intent("w1", "c1"));
  const auto b = begin(intent("w2", "c2"));
  const auto c = begin(intent("w3", "c3"));
  const auto d = begin(intent("w4", "c4"));
  ASSERT_TRUE(run(io, s->ledger_update(b, ledger_state::sent, {}, t0)));
  ASSERT_TRUE(run(io, s->ledger_update(c, ledger_state::done, {}, t0)));
  ASSERT_TRUE(run(io, s->ledger_update(d, ledger_state::unknown, {}, t0)));
  begin(intent("w5", "c5", t0, acceptance_mode::dry_run));  // state done
  s->close();

  // After a restart.
  s = open_ok(options_for(path));
  const auto open = run(io, s->ledger_unfinished());
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].id, a);
  EXPECT_EQ((*open)[0].state, ledger_state::intent);
  EXPECT_EQ((*open)[1].id, b);
  EXPECT_EQ((*open)[1].state, ledger_state::sent);
  EXPECT_EQ((*open)[1].action, acceptance_action::pass_single);
}

TEST_F(ledger_fixture, an_entry_proven_not_applied_allows_a_new_decision) {
  const auto id = begin(intent("w1", "chk1"));
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::not_applied, {}, t0 + 1s)));
  const auto none = run(io, s->ledger_find("ds", "w1", "chk1", acceptance_mode::enforce));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  const auto second = run(io, s->ledger_begin(intent("w1", "chk1", t0 + 2s)));
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->created);
  EXPECT_NE(second->entry.id, id);
  // The first entry is still there for the audit trail.
  const auto all = run(io, s->ledger_recent(10));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(all->back().state, ledger_state::not_applied);
}

TEST_F(ledger_fixture, rate_limit_and_cooldown_queries) {
  begin(intent("w1", "c1", t0));
  begin(intent("w1", "c2", t0 + 10min));
  begin(intent("w2", "c3", t0 + 30min));
  begin(intent("w3", "c4", t0 + 50min, acceptance_mode::dry_run));
  const auto gone = begin(intent("w4", "c5", t0 + 55min));
  ASSERT_TRUE(run(io, s->ledger_update(gone, ledger_state::not_applied, {}, t0 + 56min)));

  EXPECT_EQ(*run(io, s->ledger_count_since(t0)), 3);
  EXPECT_EQ(*run(io, s->ledger_count_since(t0 + 10min)), 2);
  EXPECT_EQ(*run(io, s->ledger_count_since(t0 + 10min + 1ms)), 1);
  EXPECT_EQ(*run(io, s->ledger_count_since(t0, acceptance_mode::dry_run)), 1);
  EXPECT_EQ(*run(io, s->ledger_last_action("ds", "w1")), std::optional<sys_time>(t0 + 10min));
  EXPECT_EQ(*run(io, s->ledger_last_action("ds", "w3")), std::nullopt);  // dry run only
  EXPECT_EQ(*run(io, s->ledger_last_action("ds", "w3", acceptance_mode::dry_run)),
            std::optional<sys_time>(t0 + 50min));
  EXPECT_EQ(*run(io, s->ledger_last_action("ds", "w4")), std::nullopt);  // not applied
  EXPECT_EQ(*run(io, s->ledger_last_action("other", "w1")), std::nullopt);
}

TEST_F(ledger_fixture, an_intent_that_cannot_be_written_is_not_recorded) {
  connection probe(path);
  ASSERT_TRUE(run(io, s->set_max_page_count(static_cast<std::uint32_t>(probe.query_int("PRAGMA page_count")))));
  auto e = intent("w1", "chk1");
  e.explanation = std::string(200'000, 'x');  // does not fit
  const auto r = run(io, s->ledger_begin(e));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::full);
  ASSERT_TRUE(run(io, s->set_max_page_count(0)));
  ASSERT_TRUE(run(io, s->flush()));
  // Dropped, not retried: the caller was told not to act.
  const auto found = run(io, s->ledger_find("ds", "w1", "chk1", acceptance_mode::enforce));
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(*run(io, s->ledger_count_since(t0 - 1h)), 0);
}

TEST_F(ledger_fixture, a_result_that_cannot_be_written_lands_later) {
  const auto id = begin(intent("w1", "chk1"));
  ASSERT_TRUE(run(io, s->ledger_update(id, ledger_state::sent, {}, t0)));
  connection probe(path);
  ASSERT_TRUE(run(io, s->set_max_page_count(static_cast<std::uint32_t>(probe.query_int("PRAGMA page_count")))));
  ledger_outcome ok;
  ok.http_status = 200;
  ok.message = std::string(200'000, 'm');  // does not fit
  const auto r = run(io, s->ledger_update(id, ledger_state::done, ok, t0 + 1s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::full);
  EXPECT_TRUE(r.error().retried());
  ASSERT_TRUE(run(io, s->set_max_page_count(0)));
  ASSERT_TRUE(run(io, s->flush()));
  const auto found = run(io, s->ledger_find("ds", "w1", "chk1", acceptance_mode::enforce));
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, ledger_state::done);
  EXPECT_EQ((*found)->outcome.message.size(), 200'000u);
  EXPECT_EQ(s->stats().dropped_ledger_updates, 0u);
}
