// etc/labelwatch.toml, the documented example that ships with the package, must parse.
#include "config/reader.hpp"
#include "config_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace labelwatch::config;
using namespace labelwatch::config::testing;
using namespace std::chrono_literals;

namespace {

std::string read_example() {
  std::ifstream in{LABELWATCH_EXAMPLE_CONFIG, std::ios::binary};
  EXPECT_TRUE(in) << "cannot open " << LABELWATCH_EXAMPLE_CONFIG;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whether a line reads `key = ...` or `# key = ...`.
bool assigns(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const auto skip = [&](std::string_view chars) {
      while (!line.empty() && chars.find(line.front()) != std::string_view::npos) line.remove_prefix(1);
    };
    skip(" \t");
    if (line.starts_with('#')) {
      line.remove_prefix(1);
      skip(" \t");
    }
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    skip(" \t");
    if (line.starts_with('=')) return true;
  }
  return false;
}

}  // namespace

TEST(example, parses_without_errors) {
  const std::string text = read_example();
  ASSERT_FALSE(text.empty());
  const auto r = parse_config(text, "etc/labelwatch.toml");
  ASSERT_TRUE(r) << dump(r.error());
  // The values DESIGN.md shows.
  EXPECT_EQ(r->cloud.endpoint, "https://modelarts.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(r->auth.method, auth_method::aksk);
  EXPECT_EQ(r->auth.access_key_file, "/run/credentials/labelwatchd.service/ak");
  EXPECT_EQ(r->auth.secret_key_file, "/run/credentials/labelwatchd.service/sk");
  EXPECT_EQ(r->poll.active_interval, 15s);
  EXPECT_EQ(r->server.listen, "127.0.0.1:9464");
  EXPECT_EQ(r->state.path, "/var/lib/labelwatch/state.db");
  ASSERT_FALSE(r->watches.empty());
  ASSERT_FALSE(r->acceptance.rules.empty());
  EXPECT_EQ(r->acceptance.rules[0].mode, acceptance_mode::dry_run);  // never enforce by example
}

// Every key the reader accepts appears in the example, at least commented out, so the
// example documents all of them.
TEST(example, mentions_every_key) {
  const std::string text = read_example();
  for (std::string_view key :
       {"endpoint", "project_id", "locale", "ca_file", "proxy", "method", "access_key_file",
        "secret_key_file", "iam_endpoint", "domain_name", "user_name", "password_file", "project_name",
        "token_refresh_before", "active_interval", "idle_interval", "terminal_interval",
        "request_timeout", "max_in_flight", "max_rate", "stall_after", "dataset_id", "auto_tasks",
        "workforce_tasks", "discover", "discover_interval", "worker_metrics", "sample_quality",
        "sample_quality_interval", "max_samples_per_round", "sample_label_names",
        "low_confidence_median", "listen", "tls_cert_file", "tls_key_file", "basic_auth_user",
        "basic_auth_password_file", "max_connections", "idle_timeout", "path", "transition_retention",
        "log", "webhook_url", "webhook_secret_file", "webhook_ca_file", "webhook_queue_size", "recent_events", "enabled",
        "max_actions_per_hour", "task_cooldown", "name", "mode", "datasets", "when_status",
        "min_pass_rate", "max_pass_rate", "min_checked_samples", "require_sampling_complete",
        "max_conflicts", "action", "overwrite_last_result"}) {
    EXPECT_TRUE(assigns(text, key)) << key;
  }
}
