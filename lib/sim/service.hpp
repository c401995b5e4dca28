// labelwatch-sim's request handling: routes, authentication, faults, the ModelArts
// endpoints, IAM tokens, the journal and the control API. Pure: a request and `now` in,
// an answer out (which may ask the network layer to delay, hang, close or reset).
//
// ModelArts endpoints (all GET unless noted; {pid} must be the scenario's project id):
//   /v2/{pid}/datasets                                            {total_number, datasets}
//   /v2/{pid}/datasets/{ds}/tasks                                 {tasks, total_count,
//   exist_running_deploy_task} /v2/{pid}/datasets/{ds}/tasks/{id}                            auto
//   task detail (seeds 000/003) /v2/{pid}/datasets/{ds}/workforce-tasks {count, tasks}
//   /v2/{pid}/datasets/{ds}/workforce-tasks/{id}                  workforce task detail (seed 001)
//   PUT /v2/{pid}/datasets/{ds}/workforce-tasks/{id}/acceptance/status?locale=  (seed 004)
//   /v2/{pid}/datasets/{ds}/auto-annotations/samples              {sample_count, samples}
//   /v2/{pid}/datasets/{ds}/auto-annotations/samples/{id}         sample detail (seed 002)
//   POST /v3/auth/tokens                                          IAM password token (no auth)
//
// Order of checks for a ModelArts request: route (unknown -> 404 APIG.0101), auth (401
// APIG.0301 ...), armed fault, project id (400 ModelArts.0210 "Invalid project ID."),
// parameters (400 ModelArts.0101), existence (400 ModelArts.4352 dataset, 4612 auto
// task, 4619 workforce task, 4420 sample; 404 for tasks when not_found_status = 404).
// Every answer carries X-Request-Id; gateway (APIG) error bodies repeat it as request_id.
//
// Lists: limit must be an integer in the documented range (datasets/tasks/samples
// 1..100, default 10; workforce tasks 1..1000, default 1000), offset >= 0 (default 0);
// the pagination mode decides whether offset counts pages or items.
//
// The workforce-task detail includes label_stats, sample_stats and workforce_stats only
// when the query asks (label_stats=true, ...), as the page's parameter table says
// (default false). The page's example response shows stats without flags; set
// "workforce_stats_default": true in the scenario (or the settings) to behave like that.
//
// Control API (/_sim/..., no auth, loopback peers only, not journaled): see
// handle_control in service.cpp and the README's labelwatch-sim section.
//
// Thread-safe: handle() and the other members serialise on an internal mutex.
#pragma once

#include "sim/auth.hpp"
#include "sim/journal.hpp"
#include "sim/request.hpp"
#include "sim/scenario.hpp"
#include "sim/world.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace labelwatch::sim {

struct service_options {
  auth_mode auth = auth_mode::aksk;
  std::vector<access_key_pair> keys;  // AK/SK pairs accepted in aksk mode
  aksk_policy aksk;
  // IAM password login (POST /v3/auth/tokens). An empty password refuses every login.
  std::string iam_user = "labelwatch";
  std::string iam_domain = "labelwatch";
  std::string iam_password;
  std::chrono::milliseconds token_lifetime{std::chrono::hours(24)};
  std::size_t journal_capacity = 100'000;
  std::size_t journal_body_limit = 4096;
};

class service {
 public:
  // `start`: wall-clock start of the simulation; `entropy`: seeds ids and tokens.
  service(scenario s, service_options options, sys_time start, std::uint64_t entropy);

  response handle(const request_view& r, sys_time now);
  // The network layer reports how long an answer took (including delays and hangs).
  void record_duration(std::uint64_t journal_seq, std::chrono::milliseconds d);

  std::string project_id() const;
  auth_mode auth() const;

 private:
  struct routed;
  response handle_api(const request_view& r, sys_time now);
  response handle_control(const request_view& r, sys_time now);
  response answer(const routed& rt, const request_view& r, sys_time now);
  response iam_tokens(const request_view& r, sys_time now);
  response acceptance(const routed& rt, const request_view& r, sys_time now);
  response apply_fault(const fault_spec& f, const routed& rt, const request_view& r, sys_time now,
                       const std::string& request_id);
  std::string new_request_id();

  mutable std::mutex mutex_;
  world world_;
  service_options options_;
  aksk_verifier verifier_;
  token_store tokens_;
  journal journal_;
  std::uint64_t rng_;
};

}  // namespace labelwatch::sim
