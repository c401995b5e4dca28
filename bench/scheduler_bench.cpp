// Cost of the scheduler's hot path at the benchmark's scale: 10,000 poll jobs, each
// iteration takes the next due job and reports it done (one poll's worth of
// scheduling), plus a tracker step for a typical unchanged poll.
//   build/bench/scheduler_bench
#include "core/scheduler.hpp"
#include "core/tracker.hpp"

#include <benchmark/benchmark.h>

#include <random>
#include <string>

namespace {

using namespace labelwatch;
using namespace std::chrono_literals;

void BM_pop_and_complete_10k(benchmark::State& state) {
  scheduler s;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  mono_time now{};
  for (int i = 0; i < 10'000; ++i)
    s.add(job_key::poll(task_key{task_kind::workforce, "ds", "task" + std::to_string(i)}),
          status_class::active, spread_start(now, 15s, unit(rng)));
  for (auto _ : state) {
    now = *s.next_due();
    auto due = s.pop_due(now, 1);
    s.completed(due.front().key, now, unit(rng));
    benchmark::DoNotOptimize(due);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pop_and_complete_10k);

void BM_tracker_unchanged_poll(benchmark::State& state) {
  modelarts::workforce_task doc;
  doc.task_id = "t";
  doc.task_name = "team";
  doc.status_code = 1;
  doc.stats = modelarts::sample_stats{};
  doc.stats->total_sample_count = 317;
  doc.stats->unannotated_sample_count = 310;
  const task_key key{task_kind::workforce, "ds", "t"};
  const sys_time t0 = from_unix_ms(1'700'000'000'000);
  tracked_task prev = track(nullptr, key, doc, std::string(1500, ' '), t0, {}).state;
  auto now = t0;
  for (auto _ : state) {
    now += 15s;
    auto out = track(&prev, key, doc, std::string(1500, ' '), now, {});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_tracker_unchanged_poll);

}  // namespace
