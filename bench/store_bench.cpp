// Start-up and write cost of the SQLite state store with 10,000 tracked tasks (the
// benchmark's scale): how long loading every task state takes (open + quick_check +
// load, and load alone, plus re-decoding every stored snapshot), and how many task
// upserts per second group commit sustains. Real files in a temporary directory
// ($TMPDIR or /tmp), synchronous=FULL as in production. Wall-clock times: the work
// happens on the store's writer thread.
//   build/bench/store_bench [--benchmark_filter=load]
#include "core/tracker.hpp"
#include "store/store.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace {

using namespace labelwatch;
using namespace labelwatch::store;

constexpr int k_tasks = 10'000;

// A workforce detail body of realistic size (~1.5 KB), as the tracker stores it.
std::string snapshot_body(int i) {
  const std::string id = "task" + std::to_string(i);
  return R"({"dataset_id":"WxCREuCkBSAlQr9xrde","task_id":")" + id +
         R"(","task_name":"team-)" + id +
         R"(","status":1,"create_time":1606184400278,"update_time":1606184400278,"repetition":1,)"
         R"("workforces_config":{"workforces":[{"workforce_id":"q3ZFSwORu1ztKljDLYQ","workers":[{"email":"xxx@xxx.com","worker_id":"afdda13895bc66322ffbf36ae833bcf0","role":0}]}]},)"
         R"("synchronize_data":false,"synchronize_auto_labeling_data":false,)"
         R"("workforce_stats":{"workforce_count":1,"labeler_count":1,"reviewer_count":0},)"
         R"("sample_stats":{"total_sample_count":317,"unannotated_sample_count":310,"unreviewed_sample_count":0,"uncheck_sample_count":0,"sampled_sample_count":0,"rejected_sample_count":0,"accepted_sample_count":7,"auto_annotation_sample_count":0},)"
         R"("checking_task_desc":{"checking_task_id":"onSbri2oqYOmDjDyW17","action":0,"overwrite_last_result":false},)"
         R"("auto_sync_dataset":true,"worker_stats":[{"email":"xxx@xxx.com","worker_id":"afdda13895bc66322ffbf36ae833bcf0","role":0,)"
         R"("task_id":")" + id +
         R"(","workforce_task_name":"team","dataset_id":"WxCREuCkBSAlQr9xrde","sample_stats":{"total_sample_count":317,)"
         R"("unannotated_sample_count":310,"unreviewed_sample_count":0,"uncheck_sample_count":0,"sampled_sample_count":0,)"
         R"("rejected_sample_count":0,"accepted_sample_count":7,"auto_annotation_sample_count":0},"create_time":1606184400278,)"
         R"("update_time":1606184790000,"email_status":3,"last_notify_time":0}]})";
}

tracked_task task_state(int i, sys_time now) {
  tracked_task t;
  t.key = task_key{task_kind::workforce, "ds" + std::to_string(i % 50), "task" + std::to_string(i)};
  t.name = "team-task" + std::to_string(i);
  t.first_seen = now - std::chrono::hours{24};
  t.status_code = 1;
  t.status_since = now - std::chrono::hours{3};
  t.last_success = now;
  t.progress = 2.2;
  t.fingerprint = "s=317,310,0,0,0,0,7,0,-,c=";
  t.moved_at = now - std::chrono::minutes{5};
  t.progress_event_value = 2.2;
  t.progress_event_fingerprint = t.fingerprint;
  t.snapshot_json = snapshot_body(i);
  return t;
}

class fixture {
 public:
  fixture() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/labelwatch-bench-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    options_.path = dir_ + "/state.db";
    auto s = state_store::open(options_);
    if (!s) throw std::runtime_error(s.error().message);
    const auto now = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
    write_batch b;
    for (int i = 0; i < k_tasks; ++i) b.put(task_state(i, now));
    (*s)->submit(std::move(b));
    if (auto r = (*s)->flush_sync(); !r) throw std::runtime_error(r.error().message);
  }
  ~fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const open_options& options() const { return options_; }

 private:
  std::string dir_;
  open_options options_;
};

fixture& shared() {
  static fixture f;
  return f;
}

// Daemon start-up: open (integrity check, migrations) and load every task.
void BM_open_and_load_10k(benchmark::State& state) {
  auto& f = shared();
  for (auto _ : state) {
    auto s = state_store::open(f.options());
    if (!s) state.SkipWithError(s.error().message.c_str());
    auto tasks = (*s)->load_tasks();
    if (!tasks || tasks->size() != k_tasks) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(tasks);
  }
  state.SetItemsProcessed(state.iterations() * k_tasks);
}
BENCHMARK(BM_open_and_load_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_load_10k(benchmark::State& state) {
  auto s = state_store::open(shared().options());
  if (!s) {
    state.SkipWithError(s.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto tasks = (*s)->load_tasks();
    if (!tasks || tasks->size() != k_tasks) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(tasks);
  }
  state.SetItemsProcessed(state.iterations() * k_tasks);
}
BENCHMARK(BM_load_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

// The rest of start-up: rebuilding every snapshot from its stored body.
void BM_restore_snapshots_10k(benchmark::State& state) {
  auto s = state_store::open(shared().options());
  if (!s) {
    state.SkipWithError(s.error().message.c_str());
    return;
  }
  auto tasks = (*s)->load_tasks();
  if (!tasks) {
    state.SkipWithError(tasks.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    for (auto& t : *tasks)
      if (restore_snapshot(t)) state.SkipWithError("a stored snapshot did not decode");
  }
  state.SetItemsProcessed(state.iterations() * k_tasks);
}
BENCHMARK(BM_restore_snapshots_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

// Steady state: upserts of `range(0)` changed tasks per transaction (one loop turn's
// worth), durable before the next turn.
void BM_commit_tasks(benchmark::State& state) {
  auto s = state_store::open(shared().options());
  if (!s) {
    state.SkipWithError(s.error().message.c_str());
    return;
  }
  const auto per_txn = static_cast<int>(state.range(0));
  const auto now = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
  int next = 0;
  for (auto _ : state) {
    write_batch b;
    for (int i = 0; i < per_txn; ++i) b.put(task_state(next++ % k_tasks, now));
    (*s)->submit(std::move(b));
    if (auto r = (*s)->flush_sync(); !r) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * per_txn);
}
BENCHMARK(BM_commit_tasks)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
