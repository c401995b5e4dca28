#!/usr/bin/env python3
"""`list` follows the pagination to the end under both readings of `offset` that the
simulator implements (offset counts pages, or records), collects every item exactly
once, and stops: checked against the simulator's journal of offsets requested."""

import unittest

import cli_util
import harness

AUTOS = 23
TEAMS = 1234  # the workforce list allows 1000 per page: two pages


class Pagination(unittest.TestCase):
    def start(self, mode):
        path = cli_util.write_scenario(self, cli_util.paging_scenario(autos=AUTOS, workforces=TEAMS))
        return harness.Sim.start(self, scenario=path, args=["--pagination", mode])

    def offsets(self, sim, endpoint):
        return [int(dict(kv.split("=") for kv in e["query"].split("&"))["offset"])
                for e in sim.journal(endpoint=endpoint)]

    def check_mode(self, mode):
        sim = self.start(mode)
        for page_size in (1, 5, 10, 23, 100):
            since = sim.last_seq()
            r = cli_util.run(sim, "list", "auto-tasks", "--dataset", "ds-paging", "--page-size",
                             str(page_size))
            self.assertEqual(r.returncode, 0, r)
            ids = [t["task_id"] for t in r.json()]
            self.assertEqual(len(ids), len(set(ids)), f"{mode}/{page_size}: duplicates")
            self.assertEqual(sorted(ids), [f"auto-{i:04d}" for i in range(AUTOS)],
                             f"{mode}/{page_size}")
            requests = sim.journal(since=since, endpoint="auto_task_list")
            pages_needed = -(-AUTOS // page_size)
            self.assertLessEqual(len(requests), pages_needed + 2, (mode, page_size, requests))
            self.assertTrue(all(e["status"] == 200 for e in requests))

        since = sim.last_seq()
        r = cli_util.run(sim, "list", "workforce-tasks", "--dataset", "ds-paging")
        self.assertEqual(r.returncode, 0, r)
        ids = [t["task_id"] for t in r.json()]
        self.assertEqual(len(ids), TEAMS)
        self.assertEqual(len(set(ids)), TEAMS)
        return sim, since

    def test_page_offsets(self):
        sim, since = self.check_mode("page")
        offsets = [int(dict(kv.split("=") for kv in e["query"].split("&"))["offset"])
                   for e in sim.journal(since=since, endpoint="workforce_task_list")]
        self.assertEqual(offsets, [0, 1])  # 1000 + 234, then the total is reached

    def test_record_offsets(self):
        sim, since = self.check_mode("record")
        offsets = [int(dict(kv.split("=") for kv in e["query"].split("&"))["offset"])
                   for e in sim.journal(since=since, endpoint="workforce_task_list")]
        self.assertEqual(offsets, [0, 1, 1001])

    def test_single_page_on_request(self):
        sim = self.start("page")
        r = cli_util.run(sim, "list", "auto-tasks", "--dataset", "ds-paging", "--limit", "5",
                         "--offset", "2")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(len(r.json()), 5)
        (entry,) = sim.journal(endpoint="auto_task_list")
        self.assertEqual(dict(kv.split("=") for kv in entry["query"].split("&")),
                         {"limit": "5", "offset": "2"})


if __name__ == "__main__":
    unittest.main()
