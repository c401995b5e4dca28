// Cost of the /metrics path at fleet scale (issue 9 target: a scrape of N = 10,000 tasks
// with worker metrics off in at most 150 ms), of the per-poll update path and of
// removing tasks (a reload).
//
//   build/bench/metrics_bench --benchmark_filter=serialize
#include "observe/gzip.hpp"
#include "observe/metrics.hpp"

#include "fixtures.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace {

using namespace labelwatch;
namespace fx = observe::fixtures;

// Half auto-labeling, half team tasks, 100 tasks per dataset, ids shaped like the API's.
void fill_fleet(observe::metrics& m, int n) {
  auto at = fx::seed_auto_task();
  auto wt = fx::accepting_workforce_task();
  const auto since = from_unix_ms(1606184400278);
  const auto now = from_unix_ms(1606188000000);
  for (int i = 0; i < n; ++i) {
    const std::string ds = "WxCREuCkBSAlQr" + std::to_string(10000 + i / 100);
    const std::string id = "iYZx7gScPUozO" + std::to_string(100000 + i);
    if (i % 2 == 0) {
      at.task_name = "auto-" + std::to_string(i);
      at.progress = static_cast<double>(i % 101);
      at.status_code = i % 7 - 1;
      m.update_auto_task({task_kind::auto_labeling, ds, id}, at, since, now);
    } else {
      wt.task_name = "team-" + std::to_string(i);
      wt.status_code = i % 8;
      m.update_workforce_task({task_kind::workforce, ds, id}, wt, since, now, false);
    }
  }
}

// A scrape when nothing changed since the previous one: every line comes from the cache.
void bm_serialize(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, static_cast<int>(state.range(0)));
  (void)m.serialize();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto body = m.serialize();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(bm_serialize)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The first scrape: every series is rendered (start-up, or a scrape interval longer than
// everything changing).
void bm_serialize_cold(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto m = std::make_unique<observe::metrics>("bench");
    fill_fleet(*m, static_cast<int>(state.range(0)));
    state.ResumeTiming();
    auto body = m->serialize();
    benchmark::DoNotOptimize(body);
    state.PauseTiming();
    m.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(bm_serialize_cold)->Arg(10000)->Unit(benchmark::kMillisecond);

// A scrape after every task was polled once since the previous scrape (the bench's
// steady state: each poll moves last_success and, for running tasks, progress and a
// sample count).
void bm_serialize_after_poll_round(benchmark::State& state) {
  observe::metrics m("bench");
  const int n = static_cast<int>(state.range(0));
  fill_fleet(m, n);
  (void)m.serialize();
  auto at = fx::seed_auto_task();
  auto wt = fx::accepting_workforce_task();
  std::int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++round;
    const auto since = from_unix_ms(1606184400278);
    const auto now = from_unix_ms(1606188000000 + round * 10000);
    for (int i = 0; i < n; ++i) {
      const std::string ds = "WxCREuCkBSAlQr" + std::to_string(10000 + i / 100);
      const std::string id = "iYZx7gScPUozO" + std::to_string(100000 + i);
      if (i % 2 == 0) {
        at.task_name = "auto-" + std::to_string(i);
        at.progress = static_cast<double>((i + round) % 101);
        at.status_code = i % 7 - 1;
        m.update_auto_task({task_kind::auto_labeling, ds, id}, at, since, now);
      } else {
        wt.task_name = "team-" + std::to_string(i);
        wt.status_code = i % 8;
        wt.stats->unannotated_sample_count = round;
        m.update_workforce_task({task_kind::workforce, ds, id}, wt, since, now, false);
      }
    }
    state.ResumeTiming();
    auto body = m.serialize();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(bm_serialize_after_poll_round)->Arg(10000)->Unit(benchmark::kMillisecond);

void bm_serialize_gzip(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, static_cast<int>(state.range(0)));
  (void)m.serialize();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto body = observe::gzip_compress(m.serialize());
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(bm_serialize_gzip)->Arg(10000)->Unit(benchmark::kMillisecond);

// The per-poll path: a task that already has its series gets a new snapshot.
void bm_update_workforce_task(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, 10000);
  auto wt = fx::accepting_workforce_task();
  const task_key key{task_kind::workforce, "WxCREuCkBSAlQr10050", "iYZx7gScPUozO105001"};
  std::int64_t i = 0;
  for (auto _ : state) {
    wt.stats->unannotated_sample_count = ++i;
    wt.status_code = i % 2;
    m.update_workforce_task(key, wt, from_unix_ms(i), from_unix_ms(i), false);
  }
}
BENCHMARK(bm_update_workforce_task);

void bm_update_auto_task(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, 10000);
  auto at = fx::seed_auto_task();
  const task_key key{task_kind::auto_labeling, "WxCREuCkBSAlQr10050", "iYZx7gScPUozO105000"};
  std::int64_t i = 0;
  for (auto _ : state) {
    at.progress = static_cast<double>(++i % 100);
    m.update_auto_task(key, at, from_unix_ms(i), from_unix_ms(i));
  }
}
BENCHMARK(bm_update_auto_task);

// A reload that drops 100 of 10,000 tasks (prometheus-cpp 1.0's Family::Remove was
// linear in the family: this held the loop for seconds).
void bm_remove_100_tasks(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto m = std::make_unique<observe::metrics>("bench");
    fill_fleet(*m, 10000);
    state.ResumeTiming();
    for (int i = 0; i < 100; ++i) {
      const std::string ds = "WxCREuCkBSAlQr" + std::to_string(10000 + (i * 97) / 100);
      const std::string id = "iYZx7gScPUozO" + std::to_string(100000 + i * 97);
      m->remove_task({i * 97 % 2 == 0 ? task_kind::auto_labeling : task_kind::workforce, ds, id});
    }
    state.PauseTiming();
    m.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(bm_remove_100_tasks)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
