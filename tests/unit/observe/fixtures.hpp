// Decoded documents built by hand from the seed pages (reference/seeds 000 and 001), for
// the observe tests, the metrics benchmark and the exposition dump.
#pragma once

#include "core/task.hpp"
#include "modelarts/types.hpp"

#include <string>

namespace labelwatch::observe::fixtures {

// Seed 000's example: running, progress 10.0 %, result {total 49, annotated 30}, "fast".
inline modelarts::auto_task seed_auto_task() {
  modelarts::auto_task t;
  t.resource_id = "XGrRZuCV1qmMxnsmD5u";
  t.task_id = "XGrRZuCV1qmMxnsmD5u";
  t.task_name = "auto-label-cars";
  t.status_code = 1;
  t.progress = 10.0;
  t.create_time_raw = "2020-11-23 11:08:20";
  t.code = "ModelArts.4902";
  t.message = "Start to export annotations. Export task id is jMZGm2SBp4Ymr2wrhAK";
  t.elapsed_time = 0;
  t.export_type = 0;
  t.config.algorithm_type = "fast";
  t.config.collect_sample = false;
  t.config.worker_server_num = 0;
  modelarts::auto_task_result r;
  r.total_sample_count = 49;
  r.annotated_sample_count = 30;
  t.result = r;
  return t;
}

// Seed 001's example: status 1 (running), sample_stats {317 total, 310 unannotated,
// 7 accepted, ...}, one worker with the same stats; plus acceptance figures as the
// acceptance report documents them (CheckTaskStats), which the example leaves out.
inline modelarts::workforce_task seed_workforce_task() {
  modelarts::workforce_task t;
  t.dataset_id = "WxCREuCkBSAlQr9xrde";
  t.task_id = "iYZx7gScPUozOXner9k";
  t.task_name = "task-e63f";
  t.status_code = 1;
  t.create_time = from_unix_ms(1606184400278);
  t.update_time = from_unix_ms(1606184400278);
  t.repetition = 1;
  modelarts::sample_stats s;
  s.total_sample_count = 317;
  s.unannotated_sample_count = 310;
  s.unreviewed_sample_count = 0;
  s.uncheck_sample_count = 0;
  s.sampled_sample_count = 0;
  s.rejected_sample_count = 0;
  s.accepted_sample_count = 7;
  s.auto_annotation_sample_count = 0;
  t.stats = s;
  modelarts::checking_task_desc c;
  c.checking_task_id = "onSbri2oqYOmDjDyW17";
  c.action = 0;
  c.overwrite_last_result = false;
  t.checking = c;
  modelarts::worker_task w;
  w.worker_id = "afdda13895bc66322ffbf36ae833bcf0";
  w.email = "xxx@xxx.com";
  w.role = 0;
  w.stats = s;
  w.create_time_ms = 1606184400278;
  w.update_time_ms = 1606184795050;
  w.email_status = 3;
  w.last_notify_time_ms = 0;
  t.workers.push_back(w);
  return t;
}

// A task in acceptance: the seed task with checking_stats and rates filled in.
inline modelarts::workforce_task accepting_workforce_task() {
  auto t = seed_workforce_task();
  t.status_code = 2;
  t.pass_rate = 0.96;
  t.check_rate = 0.2;
  t.score = 87.5;
  modelarts::check_task_stats cs;
  cs.sampled_sample_count = 63;
  cs.checked_sample_count = 50;
  cs.accepted_sample_count = 48;
  cs.rejected_sample_count = 2;
  cs.unchecked_sample_count = 13;
  cs.pass_rate = 0.96;
  cs.sampling_num = 63;
  cs.sampling_rate = 0.2;
  cs.score = "A";
  t.checking->checking_stats = cs;
  return t;
}

inline task_key auto_key(std::string dataset = "WxCREuCkBSAlQr9xrde",
                         std::string task = "XGrRZuCV1qmMxnsmD5u") {
  return {task_kind::auto_labeling, std::move(dataset), std::move(task)};
}

inline task_key workforce_key(std::string dataset = "WxCREuCkBSAlQr9xrde",
                              std::string task = "iYZx7gScPUozOXner9k") {
  return {task_kind::workforce, std::move(dataset), std::move(task)};
}

}  // namespace labelwatch::observe::fixtures
