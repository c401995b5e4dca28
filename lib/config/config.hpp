// The daemon's configuration as plain values (DESIGN.md "Configuration"). Reading and
// validation live in reader.hpp; this header is what the rest of the program consumes.
//
// Secrets are never stored here: only the *paths* (or environment variable names) they
// are read from. The credential loader reads them at the I/O edge.
#pragma once

#include "core/status.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace labelwatch::config {

struct cloud_config {
  std::string endpoint;    // "https://modelarts.cn-north-4.myhuaweicloud.com"
  std::string project_id;
  std::string locale = "en-us";  // "en-us" | "zh-cn", sent as ?locale= on acceptance calls
  std::string ca_file;           // extra PEM bundle; empty: system trust store only
  std::string proxy;             // empty: HTTPS_PROXY / NO_PROXY from the environment
};

enum class auth_method : std::uint8_t { aksk, token, none };

struct auth_config {
  auth_method method = auth_method::aksk;
  // aksk: files, else env HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK.
  std::string access_key_file;
  std::string secret_key_file;
  // token: password auth scoped to the project, refreshed before expires_at.
  std::string iam_endpoint;  // "https://iam.cn-north-4.myhuaweicloud.com"
  std::string domain_name;
  std::string user_name;
  std::string password_file;  // else env HUAWEICLOUD_SDK_PASSWORD
  std::string project_name;   // token scope; empty: scope by cloud.project_id
  milliseconds token_refresh_before{std::chrono::minutes{30}};
};

struct poll_config {
  milliseconds active_interval{std::chrono::seconds{15}};
  milliseconds idle_interval{std::chrono::minutes{5}};
  milliseconds terminal_interval{std::chrono::hours{1}};  // 0: stop polling terminal tasks
  milliseconds request_timeout{std::chrono::seconds{10}};
  std::uint32_t max_in_flight = 16;
  double max_rate = 20.0;  // requests per second, all operations together
  milliseconds stall_after{std::chrono::minutes{30}};
};

struct watch_config {
  std::string dataset_id;
  std::vector<std::string> auto_tasks;
  std::vector<std::string> workforce_tasks;
  bool discover = true;
  milliseconds discover_interval{std::chrono::minutes{5}};
  bool worker_metrics = false;
  // Auto-annotated sample quality (seed 002).
  bool sample_quality = false;
  milliseconds sample_quality_interval{std::chrono::minutes{10}};
  std::uint32_t max_samples_per_round = 2000;
  std::vector<std::string> sample_label_names;  // break the score histogram down by these
  std::optional<double> low_confidence_median;  // low_confidence_batch below this median
  std::size_t line = 0;  // where the [[watch]] table starts, for messages
};

struct server_config {
  std::string listen = "127.0.0.1:9464";
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::uint32_t max_connections = 64;
  milliseconds idle_timeout{std::chrono::seconds{30}};
};

struct state_config {
  std::string path = "/var/lib/labelwatch/state.db";
  milliseconds transition_retention{std::chrono::hours{24 * 90}};
};

struct events_config {
  std::string log = "stdout";  // "stdout" | "journal" | a file path
  std::string webhook_url;
  std::string webhook_secret_file;
  std::string webhook_ca_file;  // extra PEM bundle for the receiver; empty: system store only
  std::uint32_t webhook_queue_size = 1000;
  std::size_t recent_events = 500;  // in-memory ring behind /api/v1/events
};

enum class acceptance_mode : std::uint8_t { dry_run, enforce };

// PUT .../acceptance/status `action` values (action 3, the conflict list, is read-only
// and used by max_conflicts, never configured as a rule action).
enum class acceptance_action : std::uint8_t {
  pass_all = 0,
  reject_all = 1,
  cancel = 2,
  pass_single_and_unprocessed = 4,
  pass_single = 5,
};

struct acceptance_rule {
  std::string name;
  acceptance_mode mode = acceptance_mode::dry_run;
  std::vector<std::string> datasets{"*"};
  std::vector<workforce_status> when_status{workforce_status::accepting};
  // Inclusive bounds on checking_stats.pass_rate (0..1): the rule may act when
  // min_pass_rate <= pass_rate <= max_pass_rate; an absent bound is unbounded. The
  // reader's overlap check relies on this reading.
  std::optional<double> min_pass_rate;
  std::optional<double> max_pass_rate;
  std::optional<std::int64_t> min_checked_samples;
  bool require_sampling_complete = true;
  std::optional<std::int64_t> max_conflicts;
  acceptance_action action = acceptance_action::pass_all;
  bool overwrite_last_result = false;
  std::size_t line = 0;
};

struct acceptance_config {
  bool enabled = true;  // kill switch; applies on SIGHUP
  std::uint32_t max_actions_per_hour = 10;
  milliseconds task_cooldown{std::chrono::minutes{30}};
  std::vector<acceptance_rule> rules;  // none configured: never acts
};

struct daemon_config {
  std::string source;  // the file it was read from, for messages
  cloud_config cloud;
  auth_config auth;
  poll_config poll;
  std::vector<watch_config> watches;
  server_config server;
  state_config state;
  events_config events;
  acceptance_config acceptance;
  // Dotted key ("poll.active_interval", "watch[1]") -> line in `source`, for messages
  // about the values after parsing (e.g. a referenced file that is missing).
  std::map<std::string, std::size_t, std::less<>> key_lines;
};

std::string_view to_string(auth_method m) noexcept;
std::string_view to_string(acceptance_mode m) noexcept;
std::string_view to_string(acceptance_action a) noexcept;  // "pass_all", ...
std::optional<acceptance_action> parse_acceptance_action(std::string_view name) noexcept;

}  // namespace labelwatch::config
