// parse_config on valid documents: the DESIGN.md example, defaults, accepted variants,
// where values came from, and how syntax errors and multiple errors are reported.
#include "config/reader.hpp"
#include "config_test_util.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::config;
using namespace labelwatch::config::testing;
using namespace std::chrono_literals;

namespace {

// DESIGN.md "Configuration", verbatim apart from the commented-out optional keys.
constexpr std::string_view k_design_example = R"([cloud]
endpoint   = "https://modelarts.cn-north-4.myhuaweicloud.com"
project_id = "0123456789abcdef0123456789abcdef"
locale     = "en-us"            # sent as ?locale= on acceptance calls
ca_file    = ""                 # extra PEM bundle; default: system trust store
# proxy    = "http://proxy:3128"  # default: HTTPS_PROXY / NO_PROXY from the environment

[auth]
method          = "aksk"        # "aksk" | "token" | "none"
access_key_file = "/run/credentials/labelwatchd.service/ak"  # else env HUAWEICLOUD_SDK_AK
secret_key_file = "/run/credentials/labelwatchd.service/sk"  # else env HUAWEICLOUD_SDK_SK

[poll]
active_interval   = "15s"   # tasks queuing/running/accepting
idle_interval     = "5m"    # tasks not moving (created, stopped, rejected)
terminal_interval = "1h"    # succeeded/failed/accepted; "0s" = stop polling
request_timeout   = "10s"
max_in_flight     = 16      # concurrent API requests
max_rate          = 20.0    # API requests per second, all operations together
stall_after       = "30m"   # active task with no progress for this long -> task_stalled

[[watch]]                   # one per dataset
dataset_id      = "WxCREuCkBSAlQr9xrde"
auto_tasks      = ["XGrRZuCV1qmMxnsmD5u"]   # explicit ids, optional
workforce_tasks = ["iYZx7gScPUozOXner9k"]   # explicit ids, optional
discover        = true                      # also list the dataset's tasks periodically
discover_interval = "5m"
worker_metrics  = false                     # per-worker series (cardinality!)
sample_quality  = false                     # auto-annotated sample confidence / hard examples

[server]
listen = "127.0.0.1:9464"   # /metrics /healthz /readyz / (status page) /api/v1/...

[state]
path = "/var/lib/labelwatch/state.db"        # SQLite; created if missing

[events]
log = "stdout"              # JSON lines; "stdout" | "journal" | a file path

[[acceptance.rule]]         # none configured = never acts
name = "pass-high-quality"
mode = "dry-run"            # "dry-run" logs and counts only | "enforce" calls the API
datasets = ["*"]            # dataset ids or "*"
when_status = ["accepting"] # workforce task status names the rule may act in
min_pass_rate = 0.98        # checking_stats.pass_rate
min_checked_samples = 50    # checking_stats.checked_sample_count
require_sampling_complete = true   # checked == sampling_num
action = "pass_all"         # pass_all(0) reject_all(1) cancel(2) pass_single_and_unprocessed(4) pass_single(5)
overwrite_last_result = false
)";

}  // namespace

TEST(reader, design_example_parses_to_its_values) {
  const auto cfg = parse_ok(k_design_example);
  EXPECT_EQ(cfg.source, "t.toml");
  EXPECT_EQ(cfg.cloud.endpoint, "https://modelarts.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(cfg.cloud.project_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(cfg.cloud.locale, "en-us");
  EXPECT_EQ(cfg.cloud.ca_file, "");
  EXPECT_EQ(cfg.cloud.proxy, "");
  EXPECT_EQ(cfg.auth.method, auth_method::aksk);
  EXPECT_EQ(cfg.auth.access_key_file, "/run/credentials/labelwatchd.service/ak");
  EXPECT_EQ(cfg.auth.secret_key_file, "/run/credentials/labelwatchd.service/sk");
  EXPECT_EQ(cfg.poll.active_interval, 15s);
  EXPECT_EQ(cfg.poll.idle_interval, 5min);
  EXPECT_EQ(cfg.poll.terminal_interval, 1h);
  EXPECT_EQ(cfg.poll.request_timeout, 10s);
  EXPECT_EQ(cfg.poll.max_in_flight, 16u);
  EXPECT_DOUBLE_EQ(cfg.poll.max_rate, 20.0);
  EXPECT_EQ(cfg.poll.stall_after, 30min);
  ASSERT_EQ(cfg.watches.size(), 1u);
  const auto& w = cfg.watches[0];
  EXPECT_EQ(w.dataset_id, "WxCREuCkBSAlQr9xrde");
  EXPECT_EQ(w.auto_tasks, std::vector<std::string>{"XGrRZuCV1qmMxnsmD5u"});
  EXPECT_EQ(w.workforce_tasks, std::vector<std::string>{"iYZx7gScPUozOXner9k"});
  EXPECT_TRUE(w.discover);
  EXPECT_EQ(w.discover_interval, 5min);
  EXPECT_FALSE(w.worker_metrics);
  EXPECT_FALSE(w.sample_quality);
  EXPECT_EQ(w.line, 22u);
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:9464");
  EXPECT_EQ(cfg.state.path, "/var/lib/labelwatch/state.db");
  EXPECT_EQ(cfg.events.log, "stdout");
  EXPECT_TRUE(cfg.acceptance.enabled);
  ASSERT_EQ(cfg.acceptance.rules.size(), 1u);
  const auto& r = cfg.acceptance.rules[0];
  EXPECT_EQ(r.name, "pass-high-quality");
  EXPECT_EQ(r.mode, acceptance_mode::dry_run);
  EXPECT_EQ(r.datasets, std::vector<std::string>{"*"});
  EXPECT_EQ(r.when_status, std::vector<workforce_status>{workforce_status::accepting});
  EXPECT_EQ(r.min_pass_rate, 0.98);
  EXPECT_FALSE(r.max_pass_rate);
  EXPECT_EQ(r.min_checked_samples, 50);
  EXPECT_TRUE(r.require_sampling_complete);
  EXPECT_FALSE(r.max_conflicts);
  EXPECT_EQ(r.action, acceptance_action::pass_all);
  EXPECT_FALSE(r.overwrite_last_result);
  EXPECT_EQ(r.line, 40u);
}

TEST(reader, key_lines_record_where_each_value_is) {
  const auto cfg = parse_ok(k_design_example);
  const auto at = [&](std::string_view key) -> std::size_t {
    const auto it = cfg.key_lines.find(key);
    return it == cfg.key_lines.end() ? 0 : it->second;
  };
  EXPECT_EQ(at("cloud"), 1u);
  EXPECT_EQ(at("cloud.endpoint"), 2u);
  EXPECT_EQ(at("auth.secret_key_file"), 11u);
  EXPECT_EQ(at("poll.stall_after"), 20u);
  EXPECT_EQ(at("watch[0]"), 22u);
  EXPECT_EQ(at("watch[0].auto_tasks"), 24u);
  EXPECT_EQ(at("state.path"), 35u);
  EXPECT_EQ(at("acceptance.rule[0].action"), 48u);
  EXPECT_EQ(at("poll.max_rate_typo"), 0u);
}

TEST(reader, minimal_config_takes_every_default) {
  const auto cfg = parse_ok(k_cloud);
  const daemon_config d;
  EXPECT_EQ(cfg.cloud.locale, "en-us");
  EXPECT_EQ(cfg.auth.method, auth_method::aksk);
  EXPECT_EQ(cfg.auth.access_key_file, "");
  EXPECT_EQ(cfg.auth.token_refresh_before, 30min);
  EXPECT_EQ(cfg.poll.active_interval, 15s);
  EXPECT_EQ(cfg.poll.idle_interval, 5min);
  EXPECT_EQ(cfg.poll.terminal_interval, 1h);
  EXPECT_EQ(cfg.poll.request_timeout, 10s);
  EXPECT_EQ(cfg.poll.max_in_flight, 16u);
  EXPECT_DOUBLE_EQ(cfg.poll.max_rate, 20.0);
  EXPECT_EQ(cfg.poll.stall_after, 30min);
  EXPECT_TRUE(cfg.watches.empty());
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:9464");
  EXPECT_EQ(cfg.server.max_connections, 64u);
  EXPECT_EQ(cfg.server.idle_timeout, 30s);
  EXPECT_EQ(cfg.state.path, "/var/lib/labelwatch/state.db");
  EXPECT_EQ(cfg.state.transition_retention, std::chrono::days{90});
  EXPECT_EQ(cfg.events.log, "stdout");
  EXPECT_EQ(cfg.events.webhook_url, "");
  EXPECT_EQ(cfg.events.webhook_queue_size, 1000u);
  EXPECT_EQ(cfg.events.recent_events, 500u);
  EXPECT_TRUE(cfg.acceptance.enabled);
  EXPECT_EQ(cfg.acceptance.max_actions_per_hour, 10u);
  EXPECT_EQ(cfg.acceptance.task_cooldown, 30min);
  EXPECT_TRUE(cfg.acceptance.rules.empty());
  EXPECT_EQ(d.poll.max_in_flight, cfg.poll.max_in_flight);
}

TEST(reader, watch_and_rule_defaults) {
  const auto cfg = parse_ok(with_cloud(R"(
[[watch]]
dataset_id = "ds1"

[[acceptance.rule]]
name = "r"
action = "reject_all"
)"));
  ASSERT_EQ(cfg.watches.size(), 1u);
  const auto& w = cfg.watches[0];
  EXPECT_TRUE(w.auto_tasks.empty());
  EXPECT_TRUE(w.workforce_tasks.empty());
  EXPECT_TRUE(w.discover);
  EXPECT_EQ(w.discover_interval, 5min);
  EXPECT_FALSE(w.worker_metrics);
  EXPECT_FALSE(w.sample_quality);
  EXPECT_EQ(w.sample_quality_interval, 10min);
  EXPECT_EQ(w.max_samples_per_round, 2000u);
  EXPECT_TRUE(w.sample_label_names.empty());
  EXPECT_FALSE(w.low_confidence_median);
  ASSERT_EQ(cfg.acceptance.rules.size(), 1u);
  const auto& r = cfg.acceptance.rules[0];
  EXPECT_EQ(r.mode, acceptance_mode::dry_run);
  EXPECT_EQ(r.datasets, std::vector<std::string>{"*"});
  EXPECT_EQ(r.when_status, std::vector<workforce_status>{workforce_status::accepting});
  EXPECT_FALSE(r.min_pass_rate);
  EXPECT_FALSE(r.max_pass_rate);
  EXPECT_FALSE(r.min_checked_samples);
  EXPECT_TRUE(r.require_sampling_complete);
  EXPECT_FALSE(r.max_conflicts);
  EXPECT_EQ(r.action, acceptance_action::reject_all);
  EXPECT_FALSE(r.overwrite_last_result);
}

TEST(reader, every_optional_key_is_read) {
  const auto cfg = parse_ok(R"(
[cloud]
endpoint = "https://modelarts.cn-east-3.myhuaweicloud.com/"
project_id = "p-1.x~y_z"
locale = "zh-cn"
ca_file = "/etc/labelwatch/ca.pem"
proxy = "http://proxy.internal:3128"

[auth]
method = "token"
iam_endpoint = "https://iam.cn-east-3.myhuaweicloud.com"
domain_name = "acme"
user_name = "watcher"
password_file = "/run/credentials/labelwatchd.service/password"
project_name = "cn-east-3"
token_refresh_before = "1h"
access_key_file = "/etc/ak"
secret_key_file = "/etc/sk"

[poll]
terminal_interval = "0s"
max_rate = 5
request_timeout = "100ms"

[[watch]]
dataset_id = "ds1"
discover = false
workforce_tasks = ["w1", "w2"]
worker_metrics = true
sample_quality = true
sample_quality_interval = "2m"
max_samples_per_round = 100000
sample_label_names = ["cat", "狗"]
low_confidence_median = 0.6

[server]
listen = "[::1]:0"
tls_cert_file = "/etc/labelwatch/cert.pem"
tls_key_file = "/etc/labelwatch/key.pem"
basic_auth_user = "prometheus"
basic_auth_password_file = "/etc/labelwatch/scrape-password"
max_connections = 10
idle_timeout = "5s"

[state]
path = "/srv/lw/state.db"
transition_retention = "7d"

[events]
log = "/var/log/labelwatch/events.jsonl"
webhook_url = "https://hooks.example/labelwatch?channel=ops"
webhook_secret_file = "/etc/labelwatch/webhook-secret"
webhook_ca_file = "/etc/labelwatch/webhook-ca.pem"
webhook_queue_size = 50
recent_events = 20

[acceptance]
enabled = false
max_actions_per_hour = 3
task_cooldown = "0s"

[[acceptance.rule]]
name = "reject-poor"
mode = "enforce"
datasets = ["ds1"]
when_status = ["accepting", "sampling", "accepting"]
max_pass_rate = 0.5
min_pass_rate = 0
min_checked_samples = 0
max_conflicts = 2
require_sampling_complete = false
action = "reject_all"
overwrite_last_result = true
)");
  EXPECT_EQ(cfg.cloud.endpoint, "https://modelarts.cn-east-3.myhuaweicloud.com");  // '/' dropped
  EXPECT_EQ(cfg.cloud.locale, "zh-cn");
  EXPECT_EQ(cfg.cloud.ca_file, "/etc/labelwatch/ca.pem");
  EXPECT_EQ(cfg.cloud.proxy, "http://proxy.internal:3128");
  EXPECT_EQ(cfg.auth.method, auth_method::token);
  EXPECT_EQ(cfg.auth.iam_endpoint, "https://iam.cn-east-3.myhuaweicloud.com");
  EXPECT_EQ(cfg.auth.domain_name, "acme");
  EXPECT_EQ(cfg.auth.user_name, "watcher");
  EXPECT_EQ(cfg.auth.password_file, "/run/credentials/labelwatchd.service/password");
  EXPECT_EQ(cfg.auth.project_name, "cn-east-3");
  EXPECT_EQ(cfg.auth.token_refresh_before, 1h);
  EXPECT_EQ(cfg.poll.terminal_interval, 0ms);
  EXPECT_DOUBLE_EQ(cfg.poll.max_rate, 5.0);
  EXPECT_EQ(cfg.poll.request_timeout, 100ms);
  ASSERT_EQ(cfg.watches.size(), 1u);
  const auto& w = cfg.watches[0];
  EXPECT_FALSE(w.discover);
  EXPECT_EQ(w.workforce_tasks, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_TRUE(w.worker_metrics);
  EXPECT_TRUE(w.sample_quality);
  EXPECT_EQ(w.sample_quality_interval, 2min);
  EXPECT_EQ(w.max_samples_per_round, 100000u);
  EXPECT_EQ(w.sample_label_names, (std::vector<std::string>{"cat", "狗"}));
  EXPECT_EQ(w.low_confidence_median, 0.6);
  EXPECT_EQ(cfg.server.listen, "[::1]:0");
  EXPECT_EQ(cfg.server.tls_cert_file, "/etc/labelwatch/cert.pem");
  EXPECT_EQ(cfg.server.tls_key_file, "/etc/labelwatch/key.pem");
  EXPECT_EQ(cfg.server.basic_auth_user, "prometheus");
  EXPECT_EQ(cfg.server.basic_auth_password_file, "/etc/labelwatch/scrape-password");
  EXPECT_EQ(cfg.server.max_connections, 10u);
  EXPECT_EQ(cfg.server.idle_timeout, 5s);
  EXPECT_EQ(cfg.state.path, "/srv/lw/state.db");
  EXPECT_EQ(cfg.state.transition_retention, std::chrono::days{7});
  EXPECT_EQ(cfg.events.log, "/var/log/labelwatch/events.jsonl");
  EXPECT_EQ(cfg.events.webhook_url, "https://hooks.example/labelwatch?channel=ops");
  EXPECT_EQ(cfg.events.webhook_secret_file, "/etc/labelwatch/webhook-secret");
  EXPECT_EQ(cfg.events.webhook_ca_file, "/etc/labelwatch/webhook-ca.pem");
  EXPECT_EQ(cfg.events.webhook_queue_size, 50u);
  EXPECT_EQ(cfg.events.recent_events, 20u);
  EXPECT_FALSE(cfg.acceptance.enabled);
  EXPECT_EQ(cfg.acceptance.max_actions_per_hour, 3u);
  EXPECT_EQ(cfg.acceptance.task_cooldown, 0ms);
  ASSERT_EQ(cfg.acceptance.rules.size(), 1u);
  const auto& r = cfg.acceptance.rules[0];
  EXPECT_EQ(r.mode, acceptance_mode::enforce);
  EXPECT_EQ(r.datasets, std::vector<std::string>{"ds1"});
  EXPECT_EQ(r.when_status,
            (std::vector<workforce_status>{workforce_status::accepting, workforce_status::sampling}));
  EXPECT_EQ(r.max_pass_rate, 0.5);
  EXPECT_EQ(r.min_pass_rate, 0.0);
  EXPECT_EQ(r.min_checked_samples, 0);
  EXPECT_EQ(r.max_conflicts, 2);
  EXPECT_FALSE(r.require_sampling_complete);
  EXPECT_EQ(r.action, acceptance_action::reject_all);
  EXPECT_TRUE(r.overwrite_last_result);
}

TEST(reader, plain_http_is_accepted_for_loopback_hosts_only) {
  for (std::string_view endpoint : {"http://127.0.0.1:8443", "http://127.1.2.3", "http://[::1]:9000",
                                    "http://localhost:1234", "http://LOCALHOST", "https://10.0.0.1:8443"}) {
    const std::string doc = "[cloud]\nendpoint = \"" + std::string{endpoint} + "\"\nproject_id = \"p\"\n";
    auto r = parse_config(doc, "t.toml");
    EXPECT_TRUE(r) << endpoint << (r ? "" : dump(r.error()));
  }
}

// Found by the config fuzz target: "Https://" was accepted but kept as written, while
// everything after the reader expects the canonical lower-case scheme.
TEST(reader, url_schemes_are_case_insensitive_and_kept_in_lower_case) {
  const auto cfg = parse_ok(
      "[cloud]\nendpoint = \"Https://modelarts.cn-north-4.myhuaweicloud.com\"\nproject_id = \"p\"\n"
      "proxy = \"HTTP://proxy.example.com:3128\"\n"
      "[auth]\nmethod = \"token\"\niam_endpoint = \"HTTPS://iam.cn-north-4.myhuaweicloud.com\"\n"
      "domain_name = \"d\"\nuser_name = \"u\"\n"
      "[events]\nwebhook_url = \"hTTps://hooks.example.com/Path/X\"\n"
      "webhook_secret_file = \"/etc/labelwatch/webhook.secret\"\n"
      "[[watch]]\ndataset_id = \"d1\"\ndiscover = true\n");
  EXPECT_EQ(cfg.cloud.endpoint, "https://modelarts.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(cfg.cloud.proxy, "http://proxy.example.com:3128");
  EXPECT_EQ(cfg.auth.iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(cfg.events.webhook_url, "https://hooks.example.com/Path/X");  // the path as written
}

TEST(reader, auth_none_needs_nothing) {
  const auto cfg = parse_ok(with_cloud("[auth]\nmethod = \"none\"\n"));
  EXPECT_EQ(cfg.auth.method, auth_method::none);
}

TEST(reader, a_watch_of_samples_alone_watches_something) {
  const auto cfg = parse_ok(
      with_cloud("[[watch]]\ndataset_id = \"ds1\"\ndiscover = false\nsample_quality = true\n"));
  ASSERT_EQ(cfg.watches.size(), 1u);
  EXPECT_TRUE(cfg.watches[0].sample_quality);
  EXPECT_FALSE(cfg.watches[0].discover);
}

TEST(reader, syntax_error_has_line_and_toml_message) {
  const auto errors = errors_of("[cloud]\nendpoint = \"https://x\"\nproject_id = \n");
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].file, "t.toml");
  EXPECT_EQ(errors[0].key, "");
  EXPECT_EQ(errors[0].line, 3u);
  EXPECT_TRUE(errors[0].message.starts_with("invalid TOML: ")) << errors[0].message;
  EXPECT_GT(errors[0].message.size(), std::string_view{"invalid TOML: "}.size());
}

TEST(reader, duplicate_key_is_a_syntax_error) {
  const auto errors = errors_of(with_cloud("[poll]\nmax_rate = 1.0\nmax_rate = 2.0\n"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].line, 6u);
  EXPECT_TRUE(errors[0].message.starts_with("invalid TOML: ")) << errors[0].message;
}

TEST(reader, every_error_is_reported_in_line_order) {
  const auto errors = errors_of(R"([cloud]
endpoint = "http://modelarts.example.com"
project_id = "p"
locale = "fr"

[poll]
max_in_flight = 0
active_intervl = "15s"

[[watch]]
dataset_id = "ds1"
discover = false

[[acceptance.rule]]
name = "r"
action = "accept"
)");
  ASSERT_EQ(errors.size(), 6u) << dump(errors);
  EXPECT_EQ(errors[0].to_string(),
            "t.toml:2: cloud.endpoint: must start with https://; plain http:// is allowed only for "
            "loopback hosts (127.0.0.1, ::1, localhost), for tests");
  EXPECT_EQ(errors[1].to_string(), R"(t.toml:4: cloud.locale: unknown locale "fr"; expected "en-us" or "zh-cn")");
  EXPECT_EQ(errors[2].to_string(), "t.toml:7: poll.max_in_flight: must be between 1 and 1024, got 0");
  EXPECT_EQ(errors[3].to_string(),
            "t.toml:8: poll.active_intervl: unknown key (did you mean \"active_interval\"?); expected "
            "one of: active_interval, idle_interval, terminal_interval, request_timeout, "
            "max_in_flight, max_rate, stall_after");
  EXPECT_EQ(errors[4].to_string(),
            "t.toml:10: watch[0]: dataset \"ds1\": watches nothing: list auto_tasks or "
            "workforce_tasks, or set discover = true or sample_quality = true");
  EXPECT_EQ(errors[5].to_string(),
            "t.toml:16: acceptance.rule[0].action: rule \"r\": unknown action \"accept\"; expected "
            "one of: pass_all (0), reject_all (1), cancel (2), pass_single_and_unprocessed (4), "
            "pass_single (5)");
}

TEST(reader, messages_are_single_lines_even_with_control_characters) {
  const auto errors = errors_of(with_cloud("[events]\nlog = \"std\\nout\\u0007\"\n"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].message, R"(expected "stdout", "journal" or an absolute file path, got "std\x0aout\x07")");
}

TEST(reader, long_values_are_cut_in_messages) {
  const std::string long_locale(500, 'x');
  const auto errors = errors_of(with_cloud("locale = \"" + long_locale + "\"\n"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_LT(errors[0].message.size(), 200u);
  EXPECT_NE(errors[0].message.find("xxx...\""), std::string::npos) << errors[0].message;
}
