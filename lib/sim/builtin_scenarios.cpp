// The built-in scenarios, in the same JSON format users write (so they double as
// examples): "seeds" serves the API pages' example documents verbatim, "demo" is a
// lively project for `labelwatchd --demo`, "scale" is generated for benchmarks.
#include "sim/scenario.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>

namespace labelwatch::sim {
namespace {

// The example documents of reference/seeds 000 (auto task), 001 (workforce task) and
// 002 (auto-labeling sample), byte for byte in content.
constexpr std::string_view k_seeds = R"json({
  "name": "seeds",
  "project_id": "0123456789abcdef0123456789abcdef",
  "datasets": [ {
    "dataset_id": "WxCREuCkBSAlQr9xrde",
    "dataset_name": "dataset-e63f",
    "dataset_type": 0,
    "created": "-30d",
    "auto_tasks": [ {
      "task_id": "XGrRZuCV1qmMxnsmD5u",
      "task_name": "auto-label-XGrR",
      "verbatim": true,
      "document": {
        "resource_id" : "XGrRZuCV1qmMxnsmD5u",
        "create_time" : "2020-11-23 11:08:20",
        "progress" : 10.0,
        "status" : 1,
        "message" : "Start to export annotations. Export task id is jMZGm2SBp4Ymr2wrhAK",
        "code" : "ModelArts.4902",
        "elapsed_time" : 0,
        "result" : {
          "total_sample_count" : 49,
          "annotated_sample_count" : 30
        },
        "export_type" : 0,
        "config" : {
          "ambiguity" : false,
          "worker_server_num" : 0,
          "collect_sample" : false,
          "algorithm_type" : "fast",
          "image_brightness" : false,
          "image_colorfulness" : false
        }
      }
    } ],
    "workforce_tasks": [ {
      "task_id": "iYZx7gScPUozOXner9k",
      "task_name": "task-e63f",
      "verbatim": true,
      "conflict_samples": ["0059c1b9458a2da9443af684b5099b4e"],
      "document": {
        "dataset_id" : "WxCREuCkBSAlQr9xrde",
        "task_id" : "iYZx7gScPUozOXner9k",
        "task_name" : "task-e63f",
        "status" : 1,
        "create_time" : 1606184400278,
        "update_time" : 1606184400278,
        "repetition" : 1,
        "workforces_config" : {
          "workforces" : [ {
            "workforce_id" : "q3ZFSwORu1ztKljDLYQ",
            "workers" : [ {
              "email" : "xxx@xxx.com",
              "worker_id" : "afdda13895bc66322ffbf36ae833bcf0",
              "role" : 0
            } ]
          } ]
        },
        "synchronize_data" : false,
        "synchronize_auto_labeling_data" : false,
        "workforce_stats" : {
          "workforce_count" : 1,
          "labeler_count" : 1,
          "reviewer_count" : 0
        },
        "sample_stats" : {
          "total_sample_count" : 317,
          "unannotated_sample_count" : 310,
          "unreviewed_sample_count" : 0,
          "uncheck_sample_count" : 0,
          "sampled_sample_count" : 0,
          "rejected_sample_count" : 0,
          "accepted_sample_count" : 7,
          "auto_annotation_sample_count" : 0
        },
        "checking_task_desc" : {
          "checking_task_id" : "onSbri2oqYOmDjDyW17",
          "action" : 0,
          "overwrite_last_result" : false
        },
        "auto_sync_dataset" : true,
        "worker_stats" : [ {
          "email" : "xxx@xxx.com",
          "worker_id" : "afdda13895bc66322ffbf36ae833bcf0",
          "role" : 0,
          "task_id" : "iYZx7gScPUozOXner9k",
          "workforce_task_name" : "task-e63f",
          "dataset_id" : "WxCREuCkBSAlQr9xrde",
          "sample_stats" : {
            "total_sample_count" : 317,
            "unannotated_sample_count" : 310,
            "unreviewed_sample_count" : 0,
            "uncheck_sample_count" : 0,
            "sampled_sample_count" : 0,
            "rejected_sample_count" : 0,
            "accepted_sample_count" : 7,
            "auto_annotation_sample_count" : 0
          },
          "create_time" : 1606184400278,
          "update_time" : 1606184795050,
          "email_status" : 3,
          "last_notify_time" : 0
        } ]
      }
    } ],
    "samples": [ {
      "sample_id" : "0059c1b9458a2da9443af684b5099b4e",
      "sample_type" : 0,
      "labels" : [ {
        "name" : "Bees",
        "type" : 0,
        "id" : "1",
        "property" : {
          "@modelarts:hard_coefficient" : "0.0",
          "@modelarts:hard" : "false"
        },
        "score" : 0.66
      } ],
      "source" : "https://test-obs.obs.xxx.com:443/data/3_1597649054631.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH&Expires=1606299474&Signature=anOLGOHPSrj3WXUHVc70tAxWlf4%3D",
      "metadata" : {
        "@modelarts:hard_coefficient" : 0.0,
        "@modelarts:hard" : false,
        "@modelarts:import_origin" : 0,
        "@modelarts:hard_reasons" : [ ]
      },
      "sample_time" : 1600490651933,
      "sample_status" : "UN_ANNOTATION"
    } ]
  } ]
})json";

// A project that looks alive for the first ten minutes: auto tasks queue, run and
// succeed within a minute or two (one fails with an error message, one appears late),
// team tasks label, enter acceptance and fill in their checking stats.
constexpr std::string_view k_demo = R"json({
  "name": "demo",
  "project_id": "3f9a1c7e5b2d4e6f8a0b1c2d3e4f5a6b",
  "project_name": "cn-north-4",
  "acceptance_sync": "8s",
  "datasets": [
  {
    "dataset_id": "dsFlw8Kq2ZxP0aLm3Rt",
    "dataset_name": "flowers-5class-2024q4",
    "dataset_type": 0,
    "created": "-12d",
    "document": { "description": "Five flower species, field photos from the Q4 collection run" },
    "generate_samples": { "count": 240, "seed": 11, "hard": 36,
      "statuses": { "UN_ANNOTATION": 150, "__AUTO_ANNOTATION__": 90 },
      "labels": ["daisy", "dandelion", "roses", "sunflowers", "tulips"],
      "reasons": [1, 2, 7, 19, 20], "score_min": 0.31, "score_max": 0.99 },
    "auto_tasks": [
    {
      "task_id": "Xk7PqA2mVt9RbC4nLs1",
      "task_name": "auto-label-flowers-fast",
      "created": "-20s",
      "document": { "result": { "total_sample_count": 1200, "annotated_sample_count": 310, "unconfirmed_sample_count": 0 } },
      "timeline": [
        { "at": "0s", "status": -1, "progress": 0.0, "message": "The task is queuing." },
        { "at": "12s", "status": 0, "message": "Initializing the training resources." },
        { "at": "20s", "status": 1, "code": "ModelArts.4902", "message": "Training the labeling model." },
        { "at": "95s", "ramp": true, "progress": 100.0, "elapsed_time": 75,
          "result": { "unconfirmed_sample_count": 890 } },
        { "at": "100s", "status": 3, "code": "ModelArts.4916", "message": "Auto labeling task executed." }
      ]
    },
    {
      "task_id": "Xn2QwE5rTy8UiO1pAs3",
      "task_name": "auto-label-flowers-round2",
      "visible_from": "4m",
      "document": { "result": { "total_sample_count": 1450, "annotated_sample_count": 1200, "unconfirmed_sample_count": 0 } },
      "timeline": [
        { "at": "4m", "status": -1, "progress": 0.0, "message": "The task is queuing." },
        { "at": "4m20s", "status": 1, "code": "ModelArts.4902", "message": "Training the labeling model." },
        { "at": "6m", "ramp": true, "progress": 100.0, "elapsed_time": 100,
          "result": { "unconfirmed_sample_count": 250 } },
        { "at": "6m5s", "status": 3, "code": "ModelArts.4916", "message": "Auto labeling task executed." }
      ]
    } ],
    "workforce_tasks": [
    {
      "task_id": "Wf3nLr8QzTa6YcE1pK0",
      "task_name": "flowers-team-labeling",
      "created": "-2d",
      "document": {
        "description": "Second pass on the Q4 flowers, 10% acceptance sampling",
        "workforces_config": { "workforces": [ { "workforce_id": "TmA9xQ2LpR7vKc3Nw5e", "workforce_name": "flowers-team",
          "workers": [ { "email": "alice.chen@example.com", "worker_id": "5f1c3a9e0b7d4c2a8e6f1b3d5a7c9e0f", "role": 0 },
                       { "email": "bob.kumar@example.com", "worker_id": "8a2e4c6b1d3f5a7c9e0b2d4f6a8c0e1b", "role": 0 },
                       { "email": "carol.diaz@example.com", "worker_id": "c3e5a7b9d1f3a5c7e9b1d3f5a7c9e1b3", "role": 1 } ] } ] },
        "workforce_stats": { "workforce_count": 1, "labeler_count": 2, "reviewer_count": 1 }
      },
      "timeline": [
        { "at": "0s", "status": 1,
          "sample_stats": { "total_sample_count": 600, "unannotated_sample_count": 420, "unreviewed_sample_count": 60,
                            "uncheck_sample_count": 100, "sampled_sample_count": 0, "rejected_sample_count": 0,
                            "accepted_sample_count": 20, "auto_annotation_sample_count": 0, "deleted_sample_count": 0 },
          "worker_stats": [
            { "email": "alice.chen@example.com", "worker_id": "5f1c3a9e0b7d4c2a8e6f1b3d5a7c9e0f", "role": 0,
              "task_id": "Wf3nLr8QzTa6YcE1pK0", "workforce_task_name": "flowers-team-labeling", "dataset_id": "dsFlw8Kq2ZxP0aLm3Rt",
              "sample_stats": { "total_sample_count": 300, "unannotated_sample_count": 200, "unreviewed_sample_count": 30,
                                "uncheck_sample_count": 60, "sampled_sample_count": 0, "rejected_sample_count": 0,
                                "accepted_sample_count": 10, "auto_annotation_sample_count": 0 },
              "email_status": 3, "last_notify_time": 0 },
            { "email": "bob.kumar@example.com", "worker_id": "8a2e4c6b1d3f5a7c9e0b2d4f6a8c0e1b", "role": 0,
              "task_id": "Wf3nLr8QzTa6YcE1pK0", "workforce_task_name": "flowers-team-labeling", "dataset_id": "dsFlw8Kq2ZxP0aLm3Rt",
              "sample_stats": { "total_sample_count": 300, "unannotated_sample_count": 220, "unreviewed_sample_count": 30,
                                "uncheck_sample_count": 40, "sampled_sample_count": 0, "rejected_sample_count": 0,
                                "accepted_sample_count": 10, "auto_annotation_sample_count": 0 },
              "email_status": 3, "last_notify_time": 0 } ] },
        { "at": "90s", "ramp": true,
          "sample_stats": { "unannotated_sample_count": 0, "unreviewed_sample_count": 0, "uncheck_sample_count": 580 },
          "worker_stats": [
            { "sample_stats": { "unannotated_sample_count": 0, "unreviewed_sample_count": 0, "uncheck_sample_count": 290 } },
            { "sample_stats": { "unannotated_sample_count": 0, "unreviewed_sample_count": 0, "uncheck_sample_count": 290 } } ] },
        { "at": "100s", "status": 2, "check_rate": 0.1,
          "sample_stats": { "sampled_sample_count": 60 },
          "checking_task_desc": { "checking_task_id": "Ck9TzQ1vRb5WnP3xLa7", "action": 0, "overwrite_last_result": false,
            "checking_stats": { "task_id": "Ck9TzQ1vRb5WnP3xLa7", "sampling_num": 60, "sampling_rate": 0.1,
              "sampled_sample_count": 60, "checked_sample_count": 0, "accepted_sample_count": 0,
              "rejected_sample_count": 0, "unchecked_sample_count": 60, "pass_rate": 0.0, "score": "",
              "total_sample_count": 600, "total_score": 0 },
            "total_stats": { "task_id": "Ck9TzQ1vRb5WnP3xLa7", "sampling_num": 60, "sampling_rate": 0.1,
              "sampled_sample_count": 60, "checked_sample_count": 0, "accepted_sample_count": 0,
              "rejected_sample_count": 0, "unchecked_sample_count": 60, "pass_rate": 0.0, "score": "",
              "total_sample_count": 600, "total_score": 0 } } },
        { "at": "160s", "ramp": true, "pass_rate": 0.98, "score": 4.6,
          "checking_task_desc": {
            "checking_stats": { "checked_sample_count": 60, "accepted_sample_count": 59, "rejected_sample_count": 1,
              "unchecked_sample_count": 0, "pass_rate": 0.98, "total_score": 276 },
            "total_stats": { "checked_sample_count": 60, "accepted_sample_count": 59, "rejected_sample_count": 1,
              "unchecked_sample_count": 0, "pass_rate": 0.98, "total_score": 276 } } },
        { "at": "161s", "checking_task_desc": { "checking_stats": { "score": "A" }, "total_stats": { "score": "A" } } }
      ]
    } ]
  },
  {
    "dataset_id": "dsVeh4Tn7QmL2rXs9Pb",
    "dataset_name": "vehicle-detection-dashcam",
    "dataset_type": 1,
    "created": "-40d",
    "document": { "description": "Dashcam frames, bounding boxes for road users" },
    "generate_samples": { "count": 180, "seed": 23, "hard": 45,
      "statuses": { "UN_ANNOTATION": 100, "__AUTO_ANNOTATION__": 80 },
      "labels": ["car", "truck", "bus", "motorcycle", "bicycle"],
      "reasons": [0, 1, 3, 12, 14], "score_min": 0.12, "score_max": 0.97 },
    "auto_tasks": [
    {
      "task_id": "Pl5RvN8xKc2TqM7bZa3",
      "task_name": "pre-label-vehicles-yolo",
      "created": "-5s",
      "document": { "type": 1, "result": { "total_sample_count": 5400, "annotated_sample_count": 1250, "unconfirmed_sample_count": 0 } },
      "timeline": [
        { "at": "0s", "status": -1, "progress": 0.0, "message": "The task is queuing." },
        { "at": "8s", "status": 1, "code": "ModelArts.4950", "message": "Auto inference task submitted." },
        { "at": "60s", "ramp": true, "progress": 37.5, "elapsed_time": 52 },
        { "at": "61s", "status": 2, "code": "ModelArts.4654", "message": "Inference execution error.",
          "error_code": "ModelArts.4654", "error_msg": "Inference execution error.",
          "error_detail": "The inference service exited: CUDA out of memory on node pool-gpu-a/node-3" }
      ]
    },
    {
      "task_id": "Ag6WcJ3pLx8NvR1kTe5",
      "task_name": "auto-label-vehicles-accurate",
      "created": "-1m",
      "document": { "config": { "algorithm_type": "accurate" },
                    "result": { "total_sample_count": 5400, "annotated_sample_count": 1250, "unconfirmed_sample_count": 0 } },
      "timeline": [
        { "at": "0s", "status": -1, "progress": 0.0, "message": "Waiting for a free training node." },
        { "at": "45s", "status": 1, "code": "ModelArts.4902", "message": "Training the labeling model." },
        { "at": "170s", "ramp": true, "progress": 100.0, "elapsed_time": 125,
          "result": { "unconfirmed_sample_count": 4150 } },
        { "at": "175s", "status": 3, "code": "ModelArts.4916", "message": "Auto labeling task executed." }
      ]
    } ],
    "workforce_tasks": [
    {
      "task_id": "Wv2HsK9mQp4LdB7xNc8",
      "task_name": "dashcam-bbox-round2",
      "created": "-10s",
      "document": {
        "description": "Boxes for trucks and buses, two labelers, one reviewer",
        "workforces_config": { "workforces": [ { "workforce_id": "TmB4kW8nQx1RzP6Lc2v", "workforce_name": "road-team",
          "workers": [ { "email": "dmitri.ivanov@example.com", "worker_id": "0d2f4b6a8c1e3f5a7b9c2e4f6a8b1d3f", "role": 0 },
                       { "email": "emma.schulz@example.com", "worker_id": "1e3a5c7f9b2d4e6a8c1f3b5d7e9a2c4f", "role": 1 } ] } ] },
        "workforce_stats": { "workforce_count": 1, "labeler_count": 1, "reviewer_count": 1 },
        "sample_stats": { "total_sample_count": 400, "unannotated_sample_count": 400, "unreviewed_sample_count": 0,
                          "uncheck_sample_count": 0, "sampled_sample_count": 0, "rejected_sample_count": 0,
                          "accepted_sample_count": 0, "auto_annotation_sample_count": 0, "deleted_sample_count": 0 }
      },
      "timeline": [
        { "at": "0s", "status": 6 },
        { "at": "15s", "status": 0 },
        { "at": "25s", "status": 1 },
        { "at": "200s", "ramp": true,
          "sample_stats": { "unannotated_sample_count": 0, "uncheck_sample_count": 392, "rejected_sample_count": 8 } },
        { "at": "210s", "status": 2, "check_rate": 0.1,
          "sample_stats": { "sampled_sample_count": 40 },
          "checking_task_desc": { "checking_task_id": "Ck2NvB8qLz5TxR1mWc6", "action": 0, "overwrite_last_result": false,
            "checking_stats": { "task_id": "Ck2NvB8qLz5TxR1mWc6", "sampling_num": 40, "sampling_rate": 0.1,
              "sampled_sample_count": 40, "checked_sample_count": 0, "accepted_sample_count": 0,
              "rejected_sample_count": 0, "unchecked_sample_count": 40, "pass_rate": 0.0, "score": "",
              "total_sample_count": 400, "total_score": 0 } } },
        { "at": "300s", "ramp": true, "pass_rate": 0.85,
          "checking_task_desc": { "checking_stats": { "checked_sample_count": 40, "accepted_sample_count": 34,
              "rejected_sample_count": 6, "unchecked_sample_count": 0, "pass_rate": 0.85, "total_score": 150 } } },
        { "at": "301s", "checking_task_desc": { "checking_stats": { "score": "C" } } }
      ]
    } ]
  },
  {
    "dataset_id": "dsRev9Tx4Pa6KdQ2mLw",
    "dataset_name": "product-reviews-sentiment",
    "dataset_type": 100,
    "created": "-90d",
    "document": { "description": "Customer reviews, three-way sentiment" },
    "generate_samples": { "count": 120, "seed": 5, "hard": 12,
      "statuses": { "UN_ANNOTATION": 120 },
      "labels": ["positive", "negative", "neutral"], "reasons": [1, 2],
      "score_min": 0.4, "score_max": 0.99, "sample_type": 1 },
    "auto_tasks": [
    {
      "task_id": "Rv1KmP7sQa3XnT8bLc2",
      "task_name": "pre-label-reviews-bert",
      "created": "-3h",
      "document": { "type": 1, "status": 3, "progress": 100.0, "code": "ModelArts.4952",
                    "message": "Auto inference task executed.", "elapsed_time": 1260,
                    "result": { "total_sample_count": 8000, "annotated_sample_count": 2000, "unconfirmed_sample_count": 6000 } }
    } ],
    "workforce_tasks": [
    {
      "task_id": "Wr8PqL3nXv6TzK1mSa4",
      "task_name": "reviews-sentiment-team",
      "created": "-1d",
      "document": {
        "workforces_config": { "workforces": [ { "workforce_id": "TmC7pR2xLq9NvK4Wb1z", "workforce_name": "text-team",
          "workers": [ { "email": "farah.haddad@example.com", "worker_id": "2f4a6c8e0b3d5f7a9c1e4b6d8f0a3c5e", "role": 0 } ] } ] },
        "workforce_stats": { "workforce_count": 1, "labeler_count": 1, "reviewer_count": 0 }
      },
      "timeline": [
        { "at": "0s", "status": 1,
          "sample_stats": { "total_sample_count": 2000, "unannotated_sample_count": 1800, "unreviewed_sample_count": 0,
                            "uncheck_sample_count": 150, "sampled_sample_count": 0, "rejected_sample_count": 0,
                            "accepted_sample_count": 50, "auto_annotation_sample_count": 0, "deleted_sample_count": 0 } },
        { "at": "10m", "ramp": true,
          "sample_stats": { "unannotated_sample_count": 900, "uncheck_sample_count": 1050 } }
      ]
    } ]
  } ]
})json";

std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::value(boost::json::string(s)));
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

scenario_result<scenario> scale_from_query(std::string_view query) {
  std::uint64_t autos = 1000, teams = 1000, datasets = 10, seed = 1;
  while (!query.empty()) {
    auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = item.find('=');
    const auto key = item.substr(0, eq);
    const auto value = parse_uint(eq == std::string_view::npos ? "" : item.substr(eq + 1));
    std::uint64_t* target = key == "auto"        ? &autos
                            : key == "workforce" ? &teams
                            : key == "datasets"  ? &datasets
                            : key == "seed"      ? &seed
                                                 : nullptr;
    if (!target)
      return scenario_error{"", "builtin:scale: unknown parameter " + quoted(key) +
                                    " (expected auto, workforce, datasets, seed)"};
    if (!value || (target != &seed && *value > 1'000'000) || (target == &datasets && *value == 0))
      return scenario_error{"", "builtin:scale: " + std::string(key) +
                                    " needs an integer (datasets 1..1000000, tasks 0..1000000)"};
    *target = *value;
  }
  return generate_scale_scenario(autos, teams, datasets, seed);
}

}  // namespace

std::vector<std::string> builtin_names() {
  return {"seeds", "demo", "scale?auto=N&workforce=N&datasets=M&seed=S"};
}

scenario_result<scenario> builtin_scenario(std::string_view name) {
  if (name == "seeds") return parse_scenario(k_seeds, "builtin:seeds");
  if (name == "demo") return parse_scenario(k_demo, "builtin:demo");
  if (name == "scale") return scale_from_query("");
  if (name.starts_with("scale?")) return scale_from_query(name.substr(6));
  return scenario_error{"", "unknown built-in scenario " + quoted(name) +
                                " (known: builtin:seeds, builtin:demo, "
                                "builtin:scale?auto=N&workforce=N&datasets=M&seed=S)"};
}

}  // namespace labelwatch::sim
