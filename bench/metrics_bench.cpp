// Cost of the /metrics path at fleet scale (issue 9 target: a scrape of N = 10,000 tasks
// with worker metrics off in at most 150 ms), and of the per-poll update path.
//
//   build/bench/metrics_bench --benchmark_filter=serialize
#include "observe/gzip.hpp"
#include "observe/metrics.hpp"

#include "fixtures.hpp"

#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

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

void bm_serialize(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto body = m.serialize();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(bm_serialize)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void bm_collect(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto families = m.registry().Collect();
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(bm_collect)->Arg(10000)->Unit(benchmark::kMillisecond);

void bm_serialize_gzip(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, static_cast<int>(state.range(0)));
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

// Removal is linear in the family size in prometheus-cpp 1.0 (Family::Remove searches by
// pointer): measure one task's removal and re-creation out of 10,000.
void bm_remove_and_readd_task(benchmark::State& state) {
  observe::metrics m("bench");
  fill_fleet(m, 10000);
  auto wt = fx::accepting_workforce_task();
  const task_key key{task_kind::workforce, "WxCREuCkBSAlQr10050", "iYZx7gScPUozO105001"};
  for (auto _ : state) {
    m.remove_task(key);
    m.update_workforce_task(key, wt, from_unix_ms(0), from_unix_ms(0), false);
  }
}
BENCHMARK(bm_remove_and_readd_task)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
