// Microbenchmark of the document decoders: ns per decode of the seed examples and of
// larger, realistic pages. The daemon decodes ~1,000 documents per second on one core,
// so a decode must stay well under a millisecond.
//   build/bench/decode_bench [--benchmark_filter=workforce]
#include "modelarts/decode.hpp"

#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

using namespace labelwatch::modelarts;

std::string read_seed(const char* name) {
  std::ifstream in(std::string(LABELWATCH_TEST_DATA_DIR) + "/seeds/" + name, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("missing test data: ") + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The seed workforce detail with its worker_stats entry repeated `workers` times.
std::string workforce_with_workers(int workers) {
  const std::string worker = R"({"email":"w@example.com","worker_id":"afdda13895bc66322ffbf36ae833bcf0","role":0,
    "task_id":"iYZx7gScPUozOXner9k","workforce_task_name":"task-e63f","dataset_id":"WxCREuCkBSAlQr9xrde",
    "sample_stats":{"total_sample_count":317,"unannotated_sample_count":310,"unreviewed_sample_count":0,
    "uncheck_sample_count":0,"sampled_sample_count":0,"rejected_sample_count":0,"accepted_sample_count":7,
    "auto_annotation_sample_count":0},"create_time":1606184400278,"update_time":1606184795050,
    "email_status":3,"last_notify_time":0})";
  std::string body = R"({"dataset_id":"WxCREuCkBSAlQr9xrde","task_id":"iYZx7gScPUozOXner9k","task_name":"task-e63f",
    "status":1,"create_time":1606184400278,"update_time":1606184400278,"repetition":1,
    "sample_stats":{"total_sample_count":317,"unannotated_sample_count":310,"accepted_sample_count":7},
    "checking_task_desc":{"checking_task_id":"onSbri2oqYOmDjDyW17","action":0,"overwrite_last_result":false},
    "worker_stats":[)";
  for (int i = 0; i < workers; ++i) body += (i ? "," : "") + worker;
  return body + "]}";
}

std::string auto_task_list(int tasks) {
  std::string body = R"({"total_count":)" + std::to_string(tasks) + R"(,"tasks":[)";
  for (int i = 0; i < tasks; ++i) {
    body += (i ? "," : "");
    body += R"({"task_id":"XGrRZuCV1qmMxnsm)" + std::to_string(i) +
            R"(","task_name":"auto-label","dataset_id":"WxCREuCkBSAlQr9xrde","status":1,"type":0,
      "create_time":"2020-11-23 11:08:20","progress":10.0,"code":"ModelArts.4902","elapsed_time":0,
      "total_sample_count":49,"annotated_sample_count":30,"unconfirmed_sample_count":0,
      "config":{"ambiguity":false,"worker_server_num":0,"collect_sample":false,"algorithm_type":"fast"}})";
  }
  return body + "]}";
}

template <class Decode>
void run(benchmark::State& state, const std::string& body, Decode decode) {
  if (!decode(body)) throw std::runtime_error("benchmark input does not decode");
  for (auto _ : state) {
    auto r = decode(body);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void workforce_task_detail(benchmark::State& state) {
  run(state, read_seed("001_workforce_task_detail.json"), decode_workforce_task);
}
void workforce_task_detail_20_workers(benchmark::State& state) {
  run(state, workforce_with_workers(20), decode_workforce_task);
}
void auto_task_detail(benchmark::State& state) {
  run(state, read_seed("000_auto_task_detail.json"), decode_auto_task);
}
void auto_task_list_100(benchmark::State& state) {
  run(state, auto_task_list(100), decode_auto_task_list);
}
void sample_detail(benchmark::State& state) {
  run(state, read_seed("002_sample_detail.json"), decode_sample);
}
void error_body_gateway(benchmark::State& state) {
  const std::string body =
      R"({"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIG.0301","request_id":"0d8d2b4e5f6a"})";
  for (auto _ : state) {
    auto e = decode_error_body(body);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(workforce_task_detail);
BENCHMARK(workforce_task_detail_20_workers);
BENCHMARK(auto_task_detail);
BENCHMARK(auto_task_list_100);
BENCHMARK(sample_detail);
BENCHMARK(error_body_gateway);
