"""Acceptance automation by rule (issue 6): labelwatchd against labelwatch-sim.

Enforce sends exactly one PUT with the configured action, body and locale; dry-run sends
none; a crash at either dangerous point (test fault hook) never makes labelwatch apply a
decision twice; the guards (rate limit, cooldown, kill switch via SIGHUP, incomplete
sampling) hold; a refused PUT is reported and not retried. The simulator's journal shows
what was sent, the SQLite ledger (read with Python's sqlite3) what was recorded."""

import json
import os
import signal
import sqlite3
import tempfile
import unittest

import cli_util
import harness

DS = "dsAccept000000001"
CRASH_EXIT = 86  # executor.cpp k_crash_exit_code


def team_task(task_id, checking_id, checked=60, sampling=60, pass_rate=0.98):
    return {
        "task_id": task_id, "task_name": f"team-{task_id[:6]}",
        "document": {
            "status": 2,
            "sample_stats": {
                "total_sample_count": 600, "unannotated_sample_count": 0,
                "unreviewed_sample_count": 0, "uncheck_sample_count": 540,
                "sampled_sample_count": 60, "rejected_sample_count": 0,
                "accepted_sample_count": 0, "auto_annotation_sample_count": 0,
                "deleted_sample_count": 0},
            "checking_task_desc": {
                "checking_task_id": checking_id, "action": 0, "overwrite_last_result": False,
                "checking_stats": {
                    "task_id": checking_id, "sampling_num": sampling, "sampling_rate": 0.1,
                    "sampled_sample_count": sampling, "checked_sample_count": checked,
                    "accepted_sample_count": checked - 1 if checked else 0,
                    "rejected_sample_count": 1 if checked else 0,
                    "unchecked_sample_count": sampling - checked, "pass_rate": pass_rate}}}}


TEAM_A = "teamA00000000000001"
TEAM_B = "teamB00000000000001"
TEAM_SLOW = "teamSlow00000000001"

SCENARIO = {
    "project_id": "0123456789abcdef0123456789abcdef",
    "acceptance_sync": "2s",
    "datasets": [{
        "dataset_id": DS, "dataset_name": "acceptance",
        "workforce_tasks": [team_task(TEAM_A, "chkA000000000000001"),
                            team_task(TEAM_B, "chkB000000000000001"),
                            team_task(TEAM_SLOW, "chkS000000000000001", checked=30)]}],
}


def rules_toml(mode="enforce", enabled=True, max_per_hour=10, cooldown="0s"):
    return f"""
[acceptance]
enabled = {"true" if enabled else "false"}
max_actions_per_hour = {max_per_hour}
task_cooldown = "{cooldown}"

[[acceptance.rule]]
name = "pass-high"
mode = "{mode}"
datasets = ["*"]
when_status = ["accepting"]
min_pass_rate = 0.95
min_checked_samples = 50
require_sampling_complete = true
action = "pass_all"
overwrite_last_result = false
"""


def write_scenario(testcase, scenario):
    d = tempfile.mkdtemp(prefix="lw-scn-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    return path


def ledger(daemon):
    """Every ledger row, oldest first, as dicts."""
    con = sqlite3.connect(daemon.state_path, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM acceptance_ledger ORDER BY id")]
    finally:
        con.close()


class Acceptance(unittest.TestCase):
    def setUp(self):
        self.sim = harness.Sim.start(self, scenario=write_scenario(self, SCENARIO))

    # --- helpers ---

    def start(self, tasks, extra, env=None, cloud=None, expect_clean_exit=True):
        return harness.Daemon.start(
            self, self.sim, [dict(dataset_id=DS, discover=False, workforce_tasks=tasks)],
            extra=extra, env=env, cloud=cloud, expect_clean_exit=expect_clean_exit)

    def puts(self, task_id=None):
        return self.sim.journal(method="PUT", endpoint="acceptance", task_id=task_id)

    def polls(self, task_id):
        return len(self.sim.journal(method="GET", endpoint="workforce_task", task_id=task_id))

    def wait_polls(self, task_id, more=3, timeout=20):
        """Waits until the daemon read `task_id` `more` more times (so it had the chance
        to act again), without sleeping blindly."""
        start = self.polls(task_id)
        harness.poll_until(lambda: self.polls(task_id) >= start + more, timeout,
                           what=f"{more} more polls of {task_id}")

    def decisions(self, d, task_id, **match):
        return d.events("acceptance_decision", task_id=task_id, **match)

    def counter(self, d, outcome, rule="pass-high", action="pass_all"):
        return d.metric("modelarts_acceptance_actions_total", rule=rule, action=action,
                        outcome=outcome)

    # --- tests ---

    def test_enforce_sends_exactly_one_put_and_the_task_is_accepted(self):
        d = self.start([TEAM_A], rules_toml(), cloud={"locale": "zh-cn"})
        ev = d.wait_event("acceptance_decision", 30, task_id=TEAM_A, outcome="applied")
        for field, value in (("rule", "pass-high"), ("action", "pass_all"), ("action_code", 0),
                             ("mode", "enforce"), ("checking_task_id", "chkA000000000000001"),
                             ("pass_rate", 0.98), ("checked_samples", 60), ("sampling_num", 60),
                             ("status", "accepting"), ("overwrite_last_result", False),
                             ("kind", "workforce"), ("dataset_id", DS)):
            self.assertEqual(ev[field], value, field)
        self.assertTrue(all(c["held"] for c in ev["conditions"]))
        self.assertIn("ledger_id", ev)

        puts = self.puts(TEAM_A)
        self.assertEqual(len(puts), 1, puts)
        self.assertEqual(json.loads(puts[0]["body"]), {"action": 0, "overwrite_last_result": False})
        self.assertIn("locale=zh-cn", puts[0]["query"])
        self.assertEqual(puts[0]["status"], 200)
        self.assertEqual(puts[0]["auth"], "ok")

        # The task moves through syncing to accepted, and labelwatch sees it.
        harness.poll_until(lambda: self.sim.task_status(TEAM_A) == 3, 15, what="accepted")
        d.wait_event("task_status_changed", 20, task_id=TEAM_A, to="accepted")
        self.wait_polls(TEAM_A, 2)
        self.assertEqual(len(self.puts(TEAM_A)), 1)
        self.assertEqual(len(self.decisions(d, TEAM_A)), 1)
        self.assertEqual(self.counter(d, "applied"), 1)
        self.assertEqual(self.counter(d, "failed"), 0)

        rows = ledger(d)
        self.assertEqual([(r["task_id"], r["mode"], r["state"]) for r in rows],
                         [(TEAM_A, "enforce", "done")])
        self.assertEqual(rows[0]["checking_task_id"], "chkA000000000000001")
        self.assertEqual(json.loads(rows[0]["explanation"])["pass_rate"], 0.98)
        self.assertEqual(d.stop(), 0)

    def test_dry_run_sends_nothing_and_explains_the_numbers(self):
        d = self.start([TEAM_A], rules_toml(mode="dry-run"))
        ev = d.wait_event("acceptance_decision", 30, task_id=TEAM_A, outcome="dry_run")
        self.assertEqual(ev["mode"], "dry-run")
        self.assertEqual((ev["pass_rate"], ev["checked_samples"], ev["sampling_num"]),
                         (0.98, 60, 60))
        conds = {c["condition"]: c for c in ev["conditions"]}
        self.assertEqual((conds["min_pass_rate"]["value"], conds["min_pass_rate"]["bound"]),
                         (0.98, 0.95))
        self.assertEqual(conds["require_sampling_complete"]["value"],
                         {"checked": 60, "sampling_num": 60})
        self.wait_polls(TEAM_A, 3)
        self.assertEqual(self.puts(), [])
        self.assertEqual(len(self.decisions(d, TEAM_A)), 1, "decided once per checking task")
        self.assertEqual(self.counter(d, "dry_run"), 1)
        self.assertEqual(self.counter(d, "applied"), 0)
        self.assertEqual(self.sim.task_status(TEAM_A), 2)
        self.assertEqual([(r["mode"], r["state"]) for r in ledger(d)], [("dry-run", "done")])
        # A restart does not decide the same checking task again.
        d.restart()
        self.wait_polls(TEAM_A, 2)
        self.assertEqual(len(self.decisions(d, TEAM_A)), 1)
        self.assertEqual(d.stop(), 0)

    def complete_sampling(self, task_id):
        self.sim.patch_task(task_id, {"checking_task_desc": {"checking_stats": {
            "checked_sample_count": 60, "unchecked_sample_count": 0}}})

    def crash_then_recover(self, point):
        # The task becomes decidable only after the daemon is up, so the crash comes
        # after daemon_started.
        d = self.start([TEAM_SLOW], rules_toml(), env={"LABELWATCH_TEST_CRASH_POINT": point},
                       expect_clean_exit=False)
        self.complete_sampling(TEAM_SLOW)
        code = d.process.proc.wait(timeout=30)
        self.assertEqual(code, CRASH_EXIT, d.process.log_tail())
        self.assertIn(f"LABELWATCH_TEST_CRASH_POINT={point}", d.process.stderr())
        rows = ledger(d)
        self.assertEqual([(r["mode"], r["state"]) for r in rows], [("enforce", "intent")])
        self.assertEqual(self.decisions(d, TEAM_SLOW), [], "nothing reported before the crash")
        puts_before = len(self.puts(TEAM_SLOW))

        d.env.pop("LABELWATCH_TEST_CRASH_POINT")
        d.expect_clean_exit = True
        d.launch()
        return d, puts_before

    def test_crash_after_intent_resolves_not_applied_then_acts_once(self):
        d, puts_before = self.crash_then_recover("after_intent")
        self.assertEqual(puts_before, 0, "the crash came before the PUT")
        rec = d.wait_event("acceptance_recovery", 30, task_id=TEAM_SLOW)
        self.assertEqual((rec["previous_state"], rec["state"]), ("intent", "not_applied"))
        d.wait_event("acceptance_decision", 30, task_id=TEAM_SLOW, outcome="applied")
        harness.poll_until(lambda: self.sim.task_status(TEAM_SLOW) == 3, 15, what="accepted")
        d.wait_event("task_status_changed", 20, task_id=TEAM_SLOW, to="accepted")
        self.wait_polls(TEAM_SLOW, 2)
        self.assertEqual(len(self.puts(TEAM_SLOW)), 1)
        self.assertEqual([r["state"] for r in ledger(d)], ["not_applied", "done"])
        self.assertEqual(len(self.decisions(d, TEAM_SLOW)), 1)
        self.assertEqual(d.stop(), 0)

    def test_crash_after_send_completes_the_entry_without_resending(self):
        d, puts_before = self.crash_then_recover("after_send")
        self.assertEqual(puts_before, 1, "the PUT was sent before the crash")
        rec = d.wait_event("acceptance_recovery", 30, task_id=TEAM_SLOW)
        self.assertEqual((rec["previous_state"], rec["state"]), ("intent", "done"))
        self.assertIn(rec["status"], ("syncing", "accepted"))
        ev = d.wait_event("acceptance_decision", 10, task_id=TEAM_SLOW, outcome="applied")
        self.assertTrue(ev["recovered"])
        self.assertEqual(ev["pass_rate"], 0.98)
        harness.poll_until(lambda: self.sim.task_status(TEAM_SLOW) == 3, 15, what="accepted")
        d.wait_event("task_status_changed", 20, task_id=TEAM_SLOW, to="accepted")
        self.wait_polls(TEAM_SLOW, 2)
        self.assertEqual(len(self.puts(TEAM_SLOW)), 1)
        self.assertEqual([r["state"] for r in ledger(d)], ["done"])
        self.assertEqual(self.counter(d, "applied"), 1)
        self.assertEqual(d.stop(), 0)

    def test_rate_limit_holds_and_reports_skipped_once(self):
        d = self.start([TEAM_A, TEAM_B], rules_toml(max_per_hour=1))
        d.wait_event("acceptance_decision", 30, outcome="applied")
        skipped = d.wait_event("acceptance_decision", 30, outcome="skipped")
        self.assertEqual(skipped["guard"], "rate_limited")
        self.assertIn("max_actions_per_hour 1", skipped["reason"])
        held = skipped["task_id"]
        self.wait_polls(held, 3)
        self.assertEqual(len(self.puts()), 1)
        self.assertEqual(len(self.decisions(d, held, outcome="skipped")), 1, "once per checking task")
        self.assertEqual(self.sim.task_status(held), 2)
        self.assertEqual(self.counter(d, "skipped"), 1)
        self.assertEqual(self.counter(d, "applied"), 1)
        self.assertEqual(d.stop(), 0)

    def test_cooldown_holds_a_new_checking_task(self):
        d = self.start([TEAM_A], rules_toml(cooldown="1h"))
        d.wait_event("acceptance_decision", 30, task_id=TEAM_A, outcome="applied")
        harness.poll_until(lambda: self.sim.task_status(TEAM_A) == 3, 15, what="accepted")
        # A new acceptance round on the same task, as good as the first.
        new = team_task(TEAM_A, "chkA000000000000002")["document"]
        self.sim.patch_task(TEAM_A, new)
        skipped = d.wait_event("acceptance_decision", 30, task_id=TEAM_A, outcome="skipped")
        self.assertEqual(skipped["guard"], "cooldown")
        self.assertEqual(skipped["checking_task_id"], "chkA000000000000002")
        self.wait_polls(TEAM_A, 3)
        self.assertEqual(len(self.puts(TEAM_A)), 1)
        self.assertEqual(len(self.decisions(d, TEAM_A, outcome="skipped")), 1)
        self.assertEqual(d.stop(), 0)

    def test_incomplete_sampling_waits_and_kill_switch_via_sighup_stops_actions(self):
        d = self.start([TEAM_SLOW], rules_toml())
        # 30 of 60 checked: the rule does not act, and says nothing on every poll.
        self.wait_polls(TEAM_SLOW, 4)
        self.assertEqual(self.decisions(d, TEAM_SLOW), [])
        self.assertEqual(self.puts(), [])

        # Kill switch: enabled = false, applied with SIGHUP.
        with open(d.config_path) as f:
            text = f.read()
        with open(d.config_path, "w") as f:
            f.write(text.replace("enabled = true", "enabled = false"))
        os.kill(d.process.pid, signal.SIGHUP)
        d.wait_event("config_reloaded", 20)

        # Sampling completes: the rule matches, the kill switch holds it.
        self.complete_sampling(TEAM_SLOW)
        skipped = d.wait_event("acceptance_decision", 30, task_id=TEAM_SLOW, outcome="skipped")
        self.assertEqual(skipped["guard"], "disabled")
        self.wait_polls(TEAM_SLOW, 3)
        self.assertEqual(self.puts(), [])
        self.assertEqual(len(self.decisions(d, TEAM_SLOW)), 1)
        self.assertEqual(ledger(d), [])

        # Switched back on: now it acts, once.
        with open(d.config_path, "w") as f:
            f.write(text)
        os.kill(d.process.pid, signal.SIGHUP)
        d.wait_event("config_reloaded", 20, count=2)
        d.wait_event("acceptance_decision", 30, task_id=TEAM_SLOW, outcome="applied")
        self.assertEqual(len(self.puts(TEAM_SLOW)), 1)
        self.assertEqual(d.stop(), 0)

    def test_refused_put_is_reported_failed_and_not_retried(self):
        self.sim.arm_fault(kind="error", endpoint="acceptance", status=400,
                           error_code="ModelArts.4623", error_msg="Workforce task is checking",
                           count=1)
        d = self.start([TEAM_A], rules_toml())
        ev = d.wait_event("acceptance_decision", 30, task_id=TEAM_A, outcome="failed")
        self.assertEqual((ev["error_code"], ev["http_status"]), ("ModelArts.4623", 400))
        self.assertEqual(ev["level"], "error")
        self.assertTrue(ev.get("request_id"))
        self.assertNotIn("uncertain", ev)
        # The fault is spent: a retry would now succeed, so none must happen.
        self.wait_polls(TEAM_A, 4)
        puts = self.puts(TEAM_A)
        self.assertEqual(len(puts), 1, puts)
        self.assertEqual(puts[0]["status"], 400)
        self.assertEqual(self.sim.task_status(TEAM_A), 2)
        self.assertEqual(len(self.decisions(d, TEAM_A)), 1)
        self.assertEqual(self.counter(d, "failed"), 1)
        rows = ledger(d)
        self.assertEqual([(r["state"], r["error_code"], r["http_status"]) for r in rows],
                         [("failed", "ModelArts.4623", 400)])
        self.assertEqual(d.stop(), 0)


class AcceptCommand(unittest.TestCase):
    """`labelwatch accept`: shows, refuses without --yes, sends with it."""

    def setUp(self):
        self.sim = harness.Sim.start(self, scenario=write_scenario(self, SCENARIO))

    def accept(self, *extra, task=TEAM_A, action="pass_all"):
        return cli_util.run(self.sim, "--locale", "zh-cn", "accept", "--dataset", DS,
                            "--task", task, "--action", action, *extra)

    def puts(self):
        return self.sim.journal(method="PUT", endpoint="acceptance")

    def test_refuses_without_yes_and_shows_the_figures(self):
        r = self.accept()
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("refusing to act without --yes", r.stderr)
        plan = r.json()
        for field, value in (("status", "accepting"), ("checking_task_id", "chkA000000000000001"),
                             ("pass_rate", 0.98), ("checked_samples", 60), ("sampling_num", 60),
                             ("action", "pass_all"), ("action_code", 0), ("sent", False)):
            self.assertEqual(plan[field], value, field)
        self.assertIn("?locale=zh-cn", plan["request"])
        self.assertEqual(plan["body"], {"action": 0, "overwrite_last_result": False})
        r = self.accept("--dry-run", "--yes")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("dry run", r.stderr)
        self.assertEqual(self.puts(), [])
        self.assertEqual(self.sim.task_status(TEAM_A), 2)

    def test_yes_sends_one_put_and_reports_the_api_answer(self):
        r = self.accept("--yes", "--overwrite", action="pass_single")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.json()["result"], "applied")
        puts = self.puts()
        self.assertEqual(len(puts), 1)
        self.assertEqual(json.loads(puts[0]["body"]), {"action": 5, "overwrite_last_result": True})
        self.assertIn("locale=zh-cn", puts[0]["query"])
        harness.poll_until(lambda: self.sim.task_status(TEAM_A) in (3, 5), 10, what="syncing")

        # A refused action: exit 1 naming the error code.
        self.sim.arm_fault(kind="error", endpoint="acceptance", status=400,
                           error_code="ModelArts.4623", error_msg="Workforce task is checking")
        r = self.accept("--yes", task=TEAM_B)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("ModelArts.4623", r.stderr)
        self.assertEqual(r.json()["sent"], True)
        self.assertEqual(len(self.puts()), 2)

    def test_unknown_action_is_a_usage_error(self):
        r = self.accept("--yes", action="approve")
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(self.puts(), [])


if __name__ == "__main__":
    unittest.main()
