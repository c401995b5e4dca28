"""Auto-labeling sample quality (issue 10): labelwatchd and the labelwatch CLI against
labelwatch-sim with a few thousand generated samples, over TLS with AK/SK signing.

The expected figures come from two places that do not share labelwatch's code: the
simulator's own summary (`GET /_sim/view`) and this file, which lists the raw sample
documents itself and counts them in Python."""

import json
import os
import signal
import unittest

import cli_util
import harness

DS = "dsQuality0000000001"      # 3000 samples, read whole
DS_TRUNC = "dsTruncated00000001"  # 1234 samples, max_samples_per_round = 1000
DS_THIN = "dsThinList000000001"   # 40 samples, the list sends them without labels/metadata
TASK = "autoRunning00000001"      # running for an hour: polled every active_interval

# The documented reason ids (seed 002) and their stable names, written out again here
# so that a renamed label is a failing test, not a silent change for operators.
REASON_NAMES = {
    0: "no_target", 1: "low_confidence", 2: "cluster_inconsistent", 3: "training_outlier",
    4: "sequence_inconsistent", 5: "resolution_offset", 6: "aspect_ratio_offset",
    7: "brightness_offset", 8: "saturation_offset", 9: "color_richness_offset",
    10: "definition_offset", 11: "box_count_offset", 12: "box_area_std_offset",
    13: "box_aspect_ratio_offset", 14: "box_area_ratio_offset", 15: "box_edge_offset",
    16: "box_brightness_offset", 17: "box_definition_offset", 18: "box_stack_offset",
    19: "gaussian_blur_inconsistent", 20: "fliplr_inconsistent", 21: "crop_inconsistent",
    22: "flipud_inconsistent", 23: "scale_inconsistent", 24: "translate_inconsistent",
    25: "shear_inconsistent", 26: "superpixels_inconsistent", 27: "sharpen_inconsistent",
    28: "add_inconsistent", 29: "invert_inconsistent", 30: "abnormal_data",
}
LE = ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"]
BOUNDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

SCENARIO = {
    "name": "sample-quality",
    "datasets": [
        {"dataset_id": DS,
         "generate_samples": {
             "count": 3000, "seed": 17, "hard": 420,
             "statuses": {"UN_ANNOTATION": 1800, "__AUTO_ANNOTATION__": 1150, "__ALL__": 50},
             "labels": ["car", "bus", "truck", "bicycle"],
             "reasons": [0, 1, 3, 12, 14, 19, 20, 30],
             "score_min": 0.05, "score_max": 0.99},
         "auto_tasks": [{"task_id": TASK, "timeline": [
             {"at": "0s", "status": 1, "progress": 0.0},
             {"at": "1h", "ramp": True, "progress": 100.0}]}]},
        {"dataset_id": DS_TRUNC,
         "generate_samples": {"count": 1234, "seed": 5, "hard": 100,
                              "statuses": {"UN_ANNOTATION": 1234}, "reasons": [1, 2]}},
        {"dataset_id": DS_THIN,
         "generate_samples": {"count": 40, "seed": 8, "hard": 9,
                              "statuses": {"__AUTO_ANNOTATION__": 40}, "reasons": [7, 22]}},
    ],
    "faults": [{"kind": "missing_optional", "endpoint": "sample_list", "dataset_id": DS_THIN}],
}

POLL = {"active_interval": "1s", "max_rate": 20.0}


def nearest_rank(sorted_scores, pct):
    rank = (pct * len(sorted_scores) + 99) // 100
    return sorted_scores[max(rank, 1) - 1]


def bucket(score):
    for k, b in enumerate(BOUNDS):
        if score <= b:
            return k
    return len(BOUNDS)


def is_true(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return str(v).lower() in ("true", "1")


def raw_reasons(v):
    if isinstance(v, list):
        return {int(x) for x in v}
    if isinstance(v, str) and v:
        return {int(x) for x in v.split("-")}
    return set()


def expected_from_raw(samples, label_names=()):
    """The figures, counted from raw documents by the rules in README "Sample quality"."""
    statuses, reasons = {}, {}
    hard = 0
    scores, by_label = [], {n: [] for n in label_names}
    for s in samples:
        statuses[s.get("sample_status", "")] = statuses.get(s.get("sample_status", ""), 0) + 1
        flags, ids = [], set()
        md = s.get("metadata") or {}
        if "@modelarts:hard" in md:
            flags.append(is_true(md["@modelarts:hard"]))
        ids |= raw_reasons(md.get("@modelarts:hard_reasons"))
        for label in s.get("labels") or []:
            prop = label.get("property") or {}
            if "@modelarts:hard" in prop:
                flags.append(is_true(prop["@modelarts:hard"]))
            ids |= raw_reasons(prop.get("@modelarts:hard_reasons"))
            if "score" in label:
                scores.append(float(label["score"]))
                if label.get("name") in by_label:
                    by_label[label["name"]].append(float(label["score"]))
        if any(flags) or (not flags and ids):
            hard += 1
            for r in ids:
                name = f"{r}_{REASON_NAMES[r]}" if r in REASON_NAMES else "undocumented"
                reasons[name] = reasons.get(name, 0) + 1
    scores.sort()

    def cumulative(values):
        counts = [0] * 11
        for v in values:
            counts[bucket(v)] += 1
        out, total = {}, 0
        for k, le in enumerate(LE + ["+Inf"]):
            total += counts[k]
            out[le] = total
        return out

    return {
        "statuses": statuses, "hard": hard, "reasons": reasons, "labels_scored": len(scores),
        "buckets": cumulative(scores),
        "by_label": {n: cumulative(v) for n, v in by_label.items()},
        "quantiles": (nearest_rank(scores, 10), nearest_rank(scores, 50),
                      nearest_rank(scores, 90)),
    }


class SampleQuality(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario=cls.scenario_path())
        cls.raw = {ds: cls.list_raw(ds) for ds in (DS, DS_TRUNC)}

    @classmethod
    def tearDownClass(cls):
        cls.sim.close_clients()
        cls.sim.stop()
        harness._rmtree(cls.sim.workdir)  # noqa: SLF001
        harness._rmtree(os.path.dirname(cls._scenario))  # noqa: SLF001

    @classmethod
    def scenario_path(cls):
        import tempfile
        d = tempfile.mkdtemp(prefix="lw-samples-")
        cls._scenario = os.path.join(d, "scenario.json")
        with open(cls._scenario, "w") as f:
            json.dump(SCENARIO, f)
        return cls._scenario

    @classmethod
    def list_raw(cls, dataset):
        """Every sample document, read with our own signed requests (page offsets)."""
        out, offset = [], 0
        while True:
            r = cls.sim.get(cls.sim.v2(f"/datasets/{dataset}/auto-annotations/samples"),
                            query={"limit": 100, "offset": offset})
            assert r.status == 200, r
            page = r.json()["samples"]
            if not page:
                return out
            out += page
            offset += 1

    def setUp(self):
        # The simulator outlives the tests; a keep-alive connection idle since the last
        # test may have been closed by its read timeout.
        self.sim.close_clients()

    def view_of(self, dataset):
        for d in self.sim.view()["datasets"]:
            if d["dataset_id"] == dataset:
                return d["samples"]
        raise AssertionError(f"{dataset} not in /_sim/view")

    def start_daemon(self, watches, poll=None):
        return harness.Daemon.start(self, self.sim, watches, poll=poll or POLL)

    def value(self, d, name, **labels):
        """The series of `name` with exactly these labels (job/instance aside), or None."""
        for line in d.metrics().splitlines():
            if not line.startswith(name + "{"):
                continue
            head, _, value = line.rpartition(" ")
            got = dict(harness._parse_labels(head[len(name) + 1:-1]))  # noqa: SLF001
            if got == labels:
                return float(value)
        return None

    def metric_map(self, d, name, key, **labels):
        """{label value of `key`: value} of every series of `name` matching `labels`."""
        out = {}
        for line in d.metrics().splitlines():
            if not line.startswith(name + "{"):
                continue
            head, _, value = line.rpartition(" ")
            got = dict(harness._parse_labels(head[len(name) + 1:-1]))  # noqa: SLF001
            if all(got.get(k) == v for k, v in labels.items()) and \
                    set(got) - {key} == set(labels):
                out[got[key]] = float(value)
        return out

    # ---- the figures ---------------------------------------------------------------------

    def test_metrics_events_and_cli_match_the_scenario_exactly(self):
        d = self.start_daemon([
            {"dataset_id": DS, "discover": False, "auto_tasks": [TASK], "sample_quality": True,
             "sample_quality_interval": "2s", "max_samples_per_round": 5000,
             "sample_label_names": ["car", "bus", "unicycle"], "low_confidence_median": 0.9},
        ])
        first = d.wait_event("sample_quality_round", timeout=60, dataset_id=DS)
        raw = expected_from_raw(self.raw[DS], ("car", "bus", "unicycle"))
        view = self.view_of(DS)

        # The simulator's summary and the raw documents agree (the scenario is what we think).
        self.assertEqual(view["count"], 3000)
        self.assertEqual(view["hard"], 420)
        self.assertEqual(view["statuses"], raw["statuses"])
        self.assertEqual(view["labels_scored"], raw["labels_scored"])
        self.assertEqual(view["scores_above_one"], 0)
        view_cum, total = {}, 0
        for le, n in zip(LE, view["score_buckets"]):
            total += n
            view_cum[le] = total
        view_cum["+Inf"] = total
        self.assertEqual(view_cum, raw["buckets"])
        self.assertEqual({f"{r}_{REASON_NAMES[int(r)]}": n for r, n in view["reasons"].items()},
                         raw["reasons"])

        # Metrics: statuses verbatim, exact buckets, hard samples and reasons.
        self.assertEqual(self.metric_map(d, "modelarts_auto_annotation_samples", "sample_status",
                                         dataset_id=DS),
                         {k: float(v) for k, v in view["statuses"].items()})
        buckets = self.metric_map(d, "modelarts_auto_annotation_label_score_bucket", "le",
                                  dataset_id=DS)
        self.assertEqual(buckets, {k: float(v) for k, v in raw["buckets"].items()})
        self.assertEqual(self.value(d, "modelarts_auto_annotation_label_score_count", dataset_id=DS),
                         view["labels_scored"])
        for name in ("car", "bus"):
            self.assertEqual(
                self.metric_map(d, "modelarts_auto_annotation_label_score_bucket", "le",
                                dataset_id=DS, label_name=name),
                {k: float(v) for k, v in raw["by_label"][name].items()}, name)
            per_bucket = view["label_score_buckets"][name]
            self.assertEqual(raw["by_label"][name]["1"], sum(per_bucket), name)
        self.assertEqual(self.value(d, "modelarts_auto_annotation_label_score_count", dataset_id=DS,
                                  label_name="unicycle"), 0.0)
        self.assertEqual(self.value(d, "modelarts_auto_annotation_hard_samples", dataset_id=DS), 420.0)
        self.assertEqual(self.metric_map(d, "modelarts_auto_annotation_hard_reasons", "reason",
                                         dataset_id=DS),
                         {k: float(v) for k, v in raw["reasons"].items()})
        self.assertEqual(self.value(d, "modelarts_auto_annotation_dataset_samples", dataset_id=DS),
                         3000.0)
        self.assertEqual(self.value(d, "labelwatch_sample_round_truncated", dataset_id=DS), 0.0)
        self.assertIsNotNone(
            self.value(d, "labelwatch_sample_round_last_success_timestamp_seconds", dataset_id=DS))

        # The round event: counts, quantiles from the raw scores, hard figures.
        self.assertEqual(first["samples"], 3000)
        self.assertEqual(first["dataset_samples"], 3000)
        self.assertFalse(first["truncated"])
        self.assertEqual(first["by_status"], view["statuses"])
        self.assertEqual(first["waiting"], 2950)  # __ALL__ is labeled already
        self.assertEqual(first["labels_scored"], raw["labels_scored"])
        self.assertEqual((first["score_p10"], first["score_p50"], first["score_p90"]),
                         raw["quantiles"])
        self.assertEqual(first["score_buckets"], raw["buckets"])
        self.assertEqual(first["hard_samples"], 420)
        self.assertEqual(first["hard_reasons"], raw["reasons"])
        self.assertEqual(first["detail_requests"], 0)
        self.assertEqual(first["list_requests"], 30)

        # The median is below 0.9: one low_confidence_batch, not one per round.
        low = d.wait_event("low_confidence_batch", dataset_id=DS)
        self.assertEqual(low["level"], "warning")
        self.assertEqual(low["median"], raw["quantiles"][1])
        self.assertEqual(low["threshold"], 0.9)
        self.assertEqual(low["waiting"], 2950)
        d.wait_event("sample_quality_round", timeout=60, count=3, dataset_id=DS)
        self.assertEqual(len(d.events("low_confidence_batch")), 1)

        # The CLI summary, with the daemon's configuration file, shows the same figures.
        r = cli_util.run(self.sim, "--config", d.config_path, "list", "samples", "--dataset", DS,
                         "--summary", connection=False)
        self.assertEqual(r.returncode, 0, r)
        s = r.json()
        self.assertEqual(s["dataset_id"], DS)
        self.assertEqual(s["max_samples"], 5000)
        self.assertEqual(s["samples"], 3000)
        self.assertEqual(s["by_status"], first["by_status"])
        self.assertEqual({k: float(v) for k, v in s["score_buckets"].items()}, buckets)
        self.assertEqual({k: float(v) for k, v in s["by_label"]["car"]["score_buckets"].items()},
                         self.metric_map(d, "modelarts_auto_annotation_label_score_bucket", "le",
                                         dataset_id=DS, label_name="car"))
        self.assertEqual(s["hard_samples"], 420)
        self.assertEqual({k: float(v) for k, v in s["hard_reasons"].items()},
                         self.metric_map(d, "modelarts_auto_annotation_hard_reasons", "reason",
                                         dataset_id=DS))
        self.assertEqual((s["score_p10"], s["score_p50"], s["score_p90"]), raw["quantiles"])
        table = cli_util.run(self.sim, "--config", d.config_path, "list", "samples",
                             "--dataset", DS, "--summary", connection=False, output="table")
        self.assertEqual(table.returncode, 0, table)
        self.assertIn("3000 of 3000", table.stdout)
        self.assertIn("reason 1_low_confidence", table.stdout)
        rows = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1]
                for line in table.stdout.splitlines()[1:] if line.strip()}
        self.assertEqual(rows["score <= 0.5"], str(raw["buckets"]["0.5"]))
        self.assertEqual(rows["hard_samples"], "420")

    def test_truncated_round_says_so_and_polling_keeps_its_interval(self):
        since = self.sim.last_seq()
        d = self.start_daemon([
            {"dataset_id": DS, "discover": False, "auto_tasks": [TASK], "sample_quality": True,
             "sample_quality_interval": "1h", "max_samples_per_round": 5000},
            {"dataset_id": DS_TRUNC, "discover": False, "sample_quality": True,
             "sample_quality_interval": "1h", "max_samples_per_round": 1000},
        ])
        trunc = d.wait_event("sample_quality_round", timeout=60, dataset_id=DS_TRUNC)
        d.wait_event("sample_quality_round", timeout=60, dataset_id=DS)
        journal = self.sim.journal(since=since)  # before the CLI adds its own requests
        self.assertTrue(trunc["truncated"])
        self.assertEqual(trunc["samples"], 1000)
        self.assertEqual(trunc["dataset_samples"], 1234)
        self.assertEqual(trunc["max_samples"], 1000)
        self.assertEqual(trunc["list_requests"], 10)
        self.assertEqual(sum(trunc["by_status"].values()), 1000)
        self.assertEqual(self.value(d, "labelwatch_sample_round_truncated", dataset_id=DS_TRUNC), 1.0)
        self.assertEqual(self.value(d, "modelarts_auto_annotation_dataset_samples",
                                  dataset_id=DS_TRUNC), 1234.0)
        self.assertEqual(sum(self.metric_map(d, "modelarts_auto_annotation_samples",
                                             "sample_status", dataset_id=DS_TRUNC).values()),
                         1000.0)
        # The first 1000 in list order, exactly.
        raw = expected_from_raw(self.raw[DS_TRUNC][:1000])
        self.assertEqual(self.metric_map(d, "modelarts_auto_annotation_label_score_bucket", "le",
                                         dataset_id=DS_TRUNC),
                         {k: float(v) for k, v in raw["buckets"].items()})
        self.assertEqual(trunc["hard_samples"], raw["hard"])

        # The CLI with --max says the same.
        r = cli_util.run(self.sim, "list", "samples", "--dataset", DS_TRUNC, "--summary",
                         "--max", "1000")
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(r.json()["truncated"])
        self.assertEqual(r.json()["dataset_samples"], 1234)
        self.assertEqual(r.json()["score_buckets"], trunc["score_buckets"])

        # Both rounds together: 40 list requests, paced to max_rate / 2 = 10 per second,
        # while the running task kept its 1s polls.
        lists = [e["time_ms"] for e in journal if e["endpoint"] == "sample_list"]
        self.assertEqual(len(lists), 40)
        start, end = min(lists), max(lists)
        self.assertGreaterEqual(end - start, 3000, "rounds are paced, not a burst")
        for t in lists:
            in_second = [x for x in lists if t <= x < t + 1000]
            self.assertLessEqual(len(in_second), 11, "at most max_rate/2 round requests a second")
        polls = [e["time_ms"] for e in journal
                 if e["endpoint"] == "auto_task" and e.get("task_id") == TASK]
        during = [t for t in polls if start - 1500 <= t <= end + 1500]
        self.assertGreaterEqual(len(during), 4, polls)
        gaps = [b - a for a, b in zip(during, during[1:])]
        self.assertLess(max(gaps), 1600, f"task poll gaps during the rounds: {gaps}")

    def test_thin_list_items_are_read_once_from_the_detail_endpoint(self):
        since = self.sim.last_seq()
        d = self.start_daemon([
            {"dataset_id": DS_THIN, "discover": False, "sample_quality": True,
             "sample_quality_interval": "1s"},
        ])
        first = d.wait_event("sample_quality_round", timeout=60, dataset_id=DS_THIN)
        self.assertEqual(first["detail_requests"], 40)
        self.assertEqual(first["details_cached"], 0)
        view = self.view_of(DS_THIN)
        self.assertEqual(first["hard_samples"], view["hard"])
        self.assertEqual(first["labels_scored"], 40)
        self.assertEqual(self.value(d, "modelarts_auto_annotation_hard_samples", dataset_id=DS_THIN),
                         float(view["hard"]))
        second = d.wait_event("sample_quality_round", timeout=60, count=2, dataset_id=DS_THIN)
        self.assertEqual(second["detail_requests"], 0)
        self.assertEqual(second["details_cached"], 40)
        self.assertEqual(second["score_buckets"], first["score_buckets"])
        details = [e for e in self.sim.journal(since=since, endpoint="sample")
                   if e.get("dataset_id") == DS_THIN]
        self.assertEqual(len(details), 40, "each thin sample's detail read exactly once")

    def test_reload_without_sample_quality_removes_the_series(self):
        d = self.start_daemon([
            {"dataset_id": DS_TRUNC, "discover": False, "sample_quality": True,
             "sample_quality_interval": "1h", "max_samples_per_round": 200},
        ])
        d.wait_event("sample_quality_round", timeout=60, dataset_id=DS_TRUNC)
        self.assertIn(DS_TRUNC, d.metrics())
        with open(d.config_path, "w") as f:
            f.write(harness.daemon_config(
                self.sim, [{"dataset_id": DS_TRUNC, "discover": True, "sample_quality": False}],
                poll=POLL, events_log=d.events_path, state_path=d.state_path))
        os.kill(d.process.pid, signal.SIGHUP)
        d.wait_event("config_reloaded")
        harness.poll_until(lambda: DS_TRUNC not in d.metrics(), 10,
                           what="sample series of the dataset removed")

    def test_get_sample_shows_scores_hard_flags_and_reason_names(self):
        hard = next(s for s in self.raw[DS]
                    if s["metadata"]["@modelarts:hard"] and
                    len(s["metadata"]["@modelarts:hard_reasons"]) == 2)
        r = cli_util.run(self.sim, "get", "sample", "--dataset", DS, "--sample", hard["sample_id"])
        self.assertEqual(r.returncode, 0, r)
        doc = r.json()
        ids = sorted(hard["metadata"]["@modelarts:hard_reasons"])
        names = [f"{i}_{REASON_NAMES[i]}" for i in ids]
        self.assertTrue(doc["quality"]["hard"])
        self.assertEqual(doc["quality"]["hard_reasons"], names)
        self.assertEqual(doc["quality"]["best_score"], hard["labels"][0]["score"])
        self.assertEqual(doc["labels"][0]["score"], hard["labels"][0]["score"])
        self.assertEqual(doc["labels"][0]["name"], hard["labels"][0]["name"])
        self.assertEqual(doc["metadata"]["hard_reason_names"], names)
        self.assertNotIn("source", doc)  # a pre-signed URL is a credential
        table = cli_util.run(self.sim, "get", "sample", "--dataset", DS, "--sample",
                             hard["sample_id"], output="table")
        self.assertEqual(table.returncode, 0, table)
        for name in names:
            self.assertIn(name, table.stdout)
        self.assertNotIn("Signature", table.stdout)

    def test_summary_rejects_filters(self):
        r = cli_util.run(self.sim, "list", "samples", "--dataset", DS, "--summary",
                         "--low-score", "0.5")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("--summary", r.stderr)


if __name__ == "__main__":
    unittest.main()
