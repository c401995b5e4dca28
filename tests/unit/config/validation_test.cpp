// Every validation rule: one document with one mistake, and the exact error it gives
// (key, line, message). Documents built with with_cloud() start their own text at line 4.
#include "config/reader.hpp"
#include "config_test_util.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::config;
using namespace labelwatch::config::testing;

namespace {

struct error_case {
  std::string_view name;
  std::string_view toml;  // appended to k_cloud unless `whole`
  std::string_view key;
  std::size_t line;
  std::string_view message;
  bool whole = false;
};

const error_case k_cases[] = {
    // ---- [cloud] -------------------------------------------------------------------
    {"cloud_missing", "", "cloud", 0, "required table [cloud] is missing; it needs endpoint and project_id", true},
    {"cloud_not_a_table", "cloud = 1\n", "cloud", 1, "expected a table ([cloud]), got the integer 1", true},
    {"endpoint_missing", "[cloud]\nproject_id = \"p\"\n", "cloud.endpoint", 1,
     R"(required key is missing; expected the ModelArts endpoint of your region, such as "https://modelarts.cn-north-4.myhuaweicloud.com")",
     true},
    {"endpoint_not_a_url", "[cloud]\nendpoint = \"modelarts.example.com\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2, "is not an absolute URL", true},
    {"endpoint_scheme", "[cloud]\nendpoint = \"ftp://modelarts.example.com\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2, "must start with https:// or http://", true},
    {"endpoint_plain_http", "[cloud]\nendpoint = \"http://10.0.0.1\"\nproject_id = \"p\"\n", "cloud.endpoint", 2,
     "must start with https://; plain http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), for tests",
     true},
    {"endpoint_userinfo", "[cloud]\nendpoint = \"https://ak:sk@modelarts.example.com\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2, "must not contain user:password@ (credentials never go in URLs)", true},
    {"endpoint_port", "[cloud]\nendpoint = \"https://modelarts.example.com:0\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2, "has an invalid port; expected 1..65535", true},
    {"endpoint_query", "[cloud]\nendpoint = \"https://modelarts.example.com?x=1\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2, "must not have a ?query", true},
    {"endpoint_path", "[cloud]\nendpoint = \"https://modelarts.example.com/v2\"\nproject_id = \"p\"\n",
     "cloud.endpoint", 2,
     R"(must not have a path; expected a base URL such as "https://modelarts.cn-north-4.myhuaweicloud.com")", true},
    {"endpoint_no_host", "[cloud]\nendpoint = \"https://\"\nproject_id = \"p\"\n", "cloud.endpoint", 2,
     "has no host", true},
    {"endpoint_type", "[cloud]\nendpoint = 5\nproject_id = \"p\"\n", "cloud.endpoint", 2,
     "expected a string, got the integer 5", true},
    {"project_id_missing", "[cloud]\nendpoint = \"https://modelarts.example.com\"\n", "cloud.project_id", 1,
     R"(required key is missing; expected the project id of your region, such as "0123456789abcdef0123456789abcdef")",
     true},
    {"project_id_empty", "[cloud]\nendpoint = \"https://modelarts.example.com\"\nproject_id = \"\"\n",
     "cloud.project_id", 3,
     R"(must not be empty; expected the project id of your region, such as "0123456789abcdef0123456789abcdef")", true},
    {"project_id_not_url_safe", "[cloud]\nendpoint = \"https://modelarts.example.com\"\nproject_id = \"a/b\"\n",
     "cloud.project_id", 3, R"(invalid project id "a/b"; expected letters, digits, '-', '_', '.' or '~')", true},
    {"locale", "locale = \"EN-US\"\n", "cloud.locale", 4, R"(unknown locale "EN-US"; expected "en-us" or "zh-cn")"},
    {"ca_file_relative", "ca_file = \"ca.pem\"\n", "cloud.ca_file", 4,
     R"(expected an absolute path (labelwatchd runs with / as its working directory), got "ca.pem")"},
    {"proxy_https", "proxy = \"https://proxy:3128\"\n", "cloud.proxy", 4,
     "must start with http:// (the proxy is reached with HTTP CONNECT)"},
    {"proxy_path", "proxy = \"http://proxy:3128/x\"\n", "cloud.proxy", 4,
     R"(must not have a path; expected a proxy URL such as "http://proxy:3128")"},
    {"unknown_table", "[pol]\n", "pol", 4,
     "unknown table or key (did you mean \"poll\"?); expected one of: cloud, auth, poll, watch, server, "
     "state, events, acceptance"},

    // ---- [auth] --------------------------------------------------------------------
    {"auth_method", "[auth]\nmethod = \"ak\"\n", "auth.method", 5,
     R"(unknown method "ak"; expected "aksk", "token" or "none")"},
    {"auth_ak_without_sk", "[auth]\naccess_key_file = \"/etc/ak\"\n", "auth.access_key_file", 5,
     "access_key_file is set but secret_key_file is not; set both, or neither to read "
     "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK from the environment"},
    {"auth_sk_without_ak", "[auth]\nsecret_key_file = \"/etc/sk\"\n", "auth.secret_key_file", 5,
     "secret_key_file is set but access_key_file is not; set both, or neither to read "
     "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK from the environment"},
    {"auth_token_user_missing",
     "[auth]\nmethod = \"token\"\niam_endpoint = \"https://iam.example.com\"\ndomain_name = \"acme\"\n",
     "auth.user_name", 4, R"(required with method = "token"; expected the IAM user name)"},
    {"auth_token_user_empty",
     "[auth]\nmethod = \"token\"\niam_endpoint = \"https://iam.example.com\"\ndomain_name = \"acme\"\nuser_name = \"\"\n",
     "auth.user_name", 8, R"(must not be empty with method = "token"; expected the IAM user name)"},
    {"auth_token_iam_http",
     "[auth]\nmethod = \"token\"\niam_endpoint = \"http://iam.example.com\"\ndomain_name = \"acme\"\nuser_name = \"u\"\n",
     "auth.iam_endpoint", 6,
     "must start with https://; plain http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), for tests"},
    {"auth_token_refresh_too_long", "[auth]\ntoken_refresh_before = \"24h\"\n", "auth.token_refresh_before", 5,
     R"(must be shorter than 24h (IAM tokens are valid for 24 hours), got "24h")"},
    {"auth_token_refresh_zero", "[auth]\ntoken_refresh_before = \"0s\"\n", "auth.token_refresh_before", 5,
     R"(must be longer than 0s, got "0s")"},

    // ---- [poll] --------------------------------------------------------------------
    {"active_interval_zero", "[poll]\nactive_interval = \"0s\"\n", "poll.active_interval", 5,
     R"(must be longer than 0s, got "0s")"},
    {"idle_interval_no_unit", "[poll]\nidle_interval = \"5\"\n", "poll.idle_interval", 5,
     R"(invalid duration "5"; expected a duration such as "15s", "5m", "1h")"},
    {"terminal_interval_integer", "[poll]\nterminal_interval = 60\n", "poll.terminal_interval", 5,
     R"(expected a duration such as "15s", "5m", "1h", got the integer 60)"},
    {"request_timeout_short", "[poll]\nrequest_timeout = \"99ms\"\n", "poll.request_timeout", 5,
     R"(must be at least 100ms, got "99ms")"},
    {"max_in_flight_high", "[poll]\nmax_in_flight = 1025\n", "poll.max_in_flight", 5,
     "must be between 1 and 1024, got 1025"},
    {"max_in_flight_zero", "[poll]\nmax_in_flight = 0\n", "poll.max_in_flight", 5, "must be between 1 and 1024, got 0"},
    {"max_in_flight_string", "[poll]\nmax_in_flight = \"16\"\n", "poll.max_in_flight", 5,
     R"(expected an integer, got the string "16")"},
    {"max_in_flight_float", "[poll]\nmax_in_flight = 1.5\n", "poll.max_in_flight", 5,
     "expected an integer, got the float 1.5"},
    {"max_rate_zero", "[poll]\nmax_rate = 0\n", "poll.max_rate", 5,
     "must be a number greater than 0 and at most 10000 (requests per second), got 0"},
    {"max_rate_inf", "[poll]\nmax_rate = inf\n", "poll.max_rate", 5,
     "must be a number greater than 0 and at most 10000 (requests per second), got inf"},
    {"max_rate_string", "[poll]\nmax_rate = \"20\"\n", "poll.max_rate", 5, R"(expected a number, got the string "20")"},
    {"stall_after_zero", "[poll]\nstall_after = \"0ms\"\n", "poll.stall_after", 5, R"(must be longer than 0s, got "0ms")"},
    {"stall_after_huge", "[poll]\nstall_after = \"3651d\"\n", "poll.stall_after", 5,
     R"(must be at most 3650d, got "3651d")"},
    {"duration_overflow", "[poll]\nstall_after = \"99999999999999999999h\"\n", "poll.stall_after", 5,
     R"(invalid duration "99999999999999999999h"; expected a duration such as "15s", "5m", "1h")"},
    {"duration_as_toml_time", "[poll]\nactive_interval = 00:00:15\n", "poll.active_interval", 5,
     R"(expected a duration such as "15s", "5m", "1h", got a time)"},
    {"poll_unknown_key", "[poll]\ninterval = \"15s\"\n", "poll.interval", 5,
     "unknown key; expected one of: active_interval, idle_interval, terminal_interval, request_timeout, "
     "max_in_flight, max_rate, stall_after"},

    // ---- [[watch]] -----------------------------------------------------------------
    {"watch_single_brackets", "[watch]\ndataset_id = \"a\"\n", "watch", 4,
     "expected an array of tables: write [[watch]] (one per entry), not [watch]"},
    {"watch_not_tables", "watch = [1]\n[cloud]\nendpoint = \"https://x.example\"\nproject_id = \"p\"\n", "watch[0]", 1,
     "expected a table ([[watch]]), got the integer 1", true},
    {"watch_dataset_missing", "[[watch]]\ndiscover = true\n", "watch[0].dataset_id", 4,
     R"(required key is missing; expected the dataset id, such as "WxCREuCkBSAlQr9xrde")"},
    {"watch_dataset_empty", "[[watch]]\ndataset_id = \"\"\n", "watch[0].dataset_id", 5,
     "must not be empty; expected the dataset id"},
    {"watch_dataset_invalid", "[[watch]]\ndataset_id = \"a b\"\n", "watch[0].dataset_id", 5,
     R"(invalid dataset id "a b"; expected letters, digits, '-', '_', '.' or '~')"},
    {"watch_dataset_duplicate", "[[watch]]\ndataset_id = \"a\"\n\n[[watch]]\ndataset_id = \"a\"\n",
     "watch[1].dataset_id", 8, R"(duplicate dataset_id "a" (also watch[0], line 4); use one [[watch]] per dataset)"},
    {"watch_nothing", "[[watch]]\ndataset_id = \"a\"\ndiscover = false\nauto_tasks = []\n", "watch[0]", 4,
     R"(dataset "a": watches nothing: list auto_tasks or workforce_tasks, or set discover = true or sample_quality = true)"},
    {"watch_sample_quality_false",
     "[[watch]]\ndataset_id = \"a\"\ndiscover = false\nsample_quality = false\n", "watch[0]", 4,
     R"(dataset "a": watches nothing: list auto_tasks or workforce_tasks, or set discover = true or sample_quality = true)"},
    {"watch_tasks_not_list", "[[watch]]\ndataset_id = \"a\"\nauto_tasks = \"x\"\n", "watch[0].auto_tasks", 6,
     R"(dataset "a": expected an array of strings such as ["XGrRZuCV1qmMxnsmD5u"], got the string "x")"},
    {"watch_task_not_string", "[[watch]]\ndataset_id = \"a\"\nauto_tasks = [\"x\", 1]\n",
     "watch[0].auto_tasks[1]", 6, R"(dataset "a": expected a string, got the integer 1)"},
    {"watch_task_duplicate", "[[watch]]\ndataset_id = \"a\"\nworkforce_tasks = [\"x\", \"y\", \"x\"]\n",
     "watch[0].workforce_tasks[2]", 6, R"(dataset "a": duplicate task id "x" (also at workforce_tasks[0]))"},
    {"watch_task_empty", "[[watch]]\ndataset_id = \"a\"\nauto_tasks = [\"\"]\n", "watch[0].auto_tasks[0]", 6,
     R"(dataset "a": task id must not be empty)"},
    {"watch_task_invalid", "[[watch]]\ndataset_id = \"a\"\nauto_tasks = [\"x?y\"]\n", "watch[0].auto_tasks[0]", 6,
     R"(dataset "a": invalid task id "x?y"; expected letters, digits, '-', '_', '.' or '~')"},
    {"watch_discover_type", "[[watch]]\ndataset_id = \"a\"\ndiscover = \"yes\"\n", "watch[0].discover", 6,
     R"(dataset "a": expected true or false, got the string "yes")"},
    {"watch_discover_interval", "[[watch]]\ndataset_id = \"a\"\ndiscover_interval = \"0s\"\n",
     "watch[0].discover_interval", 6, R"(dataset "a": must be longer than 0s, got "0s")"},
    {"watch_sample_quality_type", "[[watch]]\ndataset_id = \"a\"\nsample_quality = 1\n", "watch[0].sample_quality", 6,
     R"(dataset "a": expected true or false, got the integer 1)"},
    {"watch_sample_interval", "[[watch]]\ndataset_id = \"a\"\nsample_quality_interval = \"0m\"\n",
     "watch[0].sample_quality_interval", 6, R"(dataset "a": must be longer than 0s, got "0m")"},
    {"watch_max_samples_zero", "[[watch]]\ndataset_id = \"a\"\nmax_samples_per_round = 0\n",
     "watch[0].max_samples_per_round", 6, R"(dataset "a": must be between 1 and 100000, got 0)"},
    {"watch_max_samples_high", "[[watch]]\ndataset_id = \"a\"\nmax_samples_per_round = 100001\n",
     "watch[0].max_samples_per_round", 6, R"(dataset "a": must be between 1 and 100000, got 100001)"},
    {"watch_label_not_string", "[[watch]]\ndataset_id = \"a\"\nsample_label_names = [1]\n",
     "watch[0].sample_label_names[0]", 6, R"(dataset "a": expected a string, got the integer 1)"},
    {"watch_label_duplicate", "[[watch]]\ndataset_id = \"a\"\nsample_label_names = [\"cat\", \"cat\"]\n",
     "watch[0].sample_label_names[1]", 6, R"(dataset "a": duplicate label name "cat")"},
    {"watch_label_empty", "[[watch]]\ndataset_id = \"a\"\nsample_label_names = [\"\"]\n",
     "watch[0].sample_label_names[0]", 6, R"(dataset "a": label name must not be empty)"},
    {"watch_low_confidence", "[[watch]]\ndataset_id = \"a\"\nlow_confidence_median = 1.5\n",
     "watch[0].low_confidence_median", 6, R"(dataset "a": must be between 0 and 1, got 1.5 (a ratio such as 0.98, not a percentage))"},
    {"watch_unknown_key", "[[watch]]\ndataset_id = \"a\"\nsample_qualty = true\n", "watch[0].sample_qualty", 6,
     "dataset \"a\": unknown key (did you mean \"sample_quality\"?); expected one of: dataset_id, auto_tasks, "
     "workforce_tasks, discover, discover_interval, worker_metrics, sample_quality, sample_quality_interval, "
     "max_samples_per_round, sample_label_names, low_confidence_median"},

    // ---- [server] ------------------------------------------------------------------
    {"listen_no_port", "[server]\nlisten = \"127.0.0.1\"\n", "server.listen", 5,
     R"(has no port; expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")"},
    {"listen_v6_without_brackets", "[server]\nlisten = \"::1:9464\"\n", "server.listen", 5,
     R"(an IPv6 address needs brackets; expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")"},
    {"listen_v6_no_colon", "[server]\nlisten = \"[::1]9464\"\n", "server.listen", 5,
     R"(expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")"},
    {"listen_v6_invalid", "[server]\nlisten = \"[zz]:80\"\n", "server.listen", 5,
     R"(invalid IPv6 address; expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")"},
    {"listen_port_range", "[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen", 5,
     "invalid port; expected 0..65535 (0: any free port)"},
    {"listen_port_empty", "[server]\nlisten = \"127.0.0.1:\"\n", "server.listen", 5,
     "invalid port; expected 0..65535 (0: any free port)"},
    {"listen_host_empty", "[server]\nlisten = \":9464\"\n", "server.listen", 5,
     R"(invalid host; expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")"},
    {"listen_type", "[server]\nlisten = 9464\n", "server.listen", 5, "expected a string, got the integer 9464"},
    {"tls_cert_only", "[server]\ntls_cert_file = \"/etc/c.pem\"\n", "server.tls_cert_file", 5,
     "tls_cert_file is set but tls_key_file is not; set both to serve HTTPS, or neither for plain HTTP"},
    {"tls_key_only", "[server]\ntls_key_file = \"/etc/k.pem\"\n", "server.tls_key_file", 5,
     "tls_key_file is set but tls_cert_file is not; set both to serve HTTPS, or neither for plain HTTP"},
    {"basic_auth_user_only", "[server]\nbasic_auth_user = \"prom\"\n", "server.basic_auth_user", 5,
     "basic_auth_user needs basic_auth_password_file (a file holding the password)"},
    {"basic_auth_password_only", "[server]\nbasic_auth_password_file = \"/etc/pw\"\n",
     "server.basic_auth_password_file", 5, "basic_auth_password_file needs basic_auth_user"},
    {"basic_auth_user_colon", "[server]\nbasic_auth_user = \"a:b\"\nbasic_auth_password_file = \"/etc/pw\"\n",
     "server.basic_auth_user", 5, "must not contain ':' or control characters"},
    {"max_connections", "[server]\nmax_connections = 0\n", "server.max_connections", 5,
     "must be between 1 and 10000, got 0"},
    {"idle_timeout", "[server]\nidle_timeout = \"0s\"\n", "server.idle_timeout", 5, R"(must be longer than 0s, got "0s")"},

    // ---- [state] -------------------------------------------------------------------
    {"state_path_empty", "[state]\npath = \"\"\n", "state.path", 5,
     R"(must not be empty; expected the SQLite file, such as "/var/lib/labelwatch/state.db")"},
    {"state_path_relative", "[state]\npath = \"state.db\"\n", "state.path", 5,
     R"(expected an absolute path (labelwatchd runs with / as its working directory), got "state.db")"},
    {"state_retention", "[state]\ntransition_retention = \"0s\"\n", "state.transition_retention", 5,
     R"(must be longer than 0s, got "0s")"},

    // ---- [events] ------------------------------------------------------------------
    {"events_log_keyword", "[events]\nlog = \"stderr\"\n", "events.log", 5,
     R"(expected "stdout", "journal" or an absolute file path, got "stderr")"},
    {"events_log_directory", "[events]\nlog = \"/var/log/\"\n", "events.log", 5,
     R"(expected "stdout", "journal" or an absolute file path, got "/var/log/")"},
    {"webhook_scheme", "[events]\nwebhook_url = \"ftp://hooks.example\"\n", "events.webhook_url", 5,
     "must start with https:// or http://"},
    {"webhook_credentials", "[events]\nwebhook_url = \"https://user:token@hooks.example/x\"\n", "events.webhook_url", 5,
     "must not contain user:password@ (credentials never go in URLs)"},
    {"webhook_secret_without_url", "[events]\nwebhook_secret_file = \"/etc/secret\"\n", "events.webhook_secret_file", 5,
     "webhook_secret_file is set but webhook_url is not; set webhook_url or remove the secret"},
    {"webhook_plain_http_remote", "[events]\nwebhook_url = \"http://hooks.example/x\"\n", "events.webhook_url", 5,
     "must start with https://; plain http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), for tests"},
    {"webhook_ca_without_url", "[events]\nwebhook_ca_file = \"/etc/ca.pem\"\n", "events.webhook_ca_file", 5,
     "webhook_ca_file is set but webhook_url is not; set webhook_url or remove webhook_ca_file"},
    {"webhook_ca_relative", "[events]\nwebhook_url = \"https://h.example\"\nwebhook_ca_file = \"ca.pem\"\n",
     "events.webhook_ca_file", 6,
     R"(expected an absolute path (labelwatchd runs with / as its working directory), got "ca.pem")"},
    {"webhook_queue_size", "[events]\nwebhook_queue_size = 0\n", "events.webhook_queue_size", 5,
     "must be between 1 and 1000000, got 0"},
    {"recent_events", "[events]\nrecent_events = 0\n", "events.recent_events", 5, "must be between 1 and 100000, got 0"},

    // ---- [acceptance] --------------------------------------------------------------
    {"acceptance_enabled_type", "[acceptance]\nenabled = \"no\"\n", "acceptance.enabled", 5,
     R"(expected true or false, got the string "no")"},
    {"acceptance_rate_zero", "[acceptance]\nmax_actions_per_hour = 0\n", "acceptance.max_actions_per_hour", 5,
     "must be between 1 and 10000, got 0; set enabled = false to stop all actions"},
    {"acceptance_cooldown", "[acceptance]\ntask_cooldown = \"-1s\"\n", "acceptance.task_cooldown", 5,
     R"(invalid duration "-1s"; expected a duration such as "15s", "5m", "1h")"},
    {"acceptance_rule_single_brackets", "[acceptance.rule]\nname = \"r\"\n", "acceptance.rule", 4,
     "expected an array of tables: write [[acceptance.rule]] (one per entry), not [acceptance.rule]"},
    {"acceptance_unknown_key", "[acceptance]\nenable = true\n", "acceptance.enable", 5,
     "unknown key (did you mean \"enabled\"?); expected one of: enabled, max_actions_per_hour, task_cooldown, rule"},

    // ---- [[acceptance.rule]] -------------------------------------------------------
    {"rule_name_missing", "[[acceptance.rule]]\naction = \"pass_all\"\n", "acceptance.rule[0].name", 4,
     R"(required key is missing; every rule needs a unique name, such as "pass-high-quality")"},
    {"rule_name_empty", "[[acceptance.rule]]\nname = \"\"\naction = \"pass_all\"\n", "acceptance.rule[0].name", 5,
     "must be a non-empty name without control characters; it labels metrics and the ledger"},
    {"rule_name_duplicate",
     "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\n[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\n",
     "acceptance.rule[1].name", 8,
     R"(duplicate rule name "r" (also acceptance.rule[0], line 4); rule names must be unique: they label metrics and the ledger)"},
    {"rule_action_missing", "[[acceptance.rule]]\nname = \"r\"\n", "acceptance.rule[0].action", 4,
     "rule \"r\": required key is missing; expected one of: pass_all (0), reject_all (1), cancel (2), "
     "pass_single_and_unprocessed (4), pass_single (5)"},
    {"rule_action_unknown", "[[acceptance.rule]]\nname = \"r\"\naction = \"approve\"\n", "acceptance.rule[0].action", 6,
     "rule \"r\": unknown action \"approve\"; expected one of: pass_all (0), reject_all (1), cancel (2), "
     "pass_single_and_unprocessed (4), pass_single (5)"},
    {"rule_action_3", "[[acceptance.rule]]\nname = \"r\"\naction = 3\n", "acceptance.rule[0].action", 6,
     "rule \"r\": expected an action name, got the integer 3 (action 3 lists conflicts: it is not a rule "
     "action; see max_conflicts); use one of: pass_all (0), reject_all (1), cancel (2), "
     "pass_single_and_unprocessed (4), pass_single (5)"},
    {"rule_action_number", "[[acceptance.rule]]\nname = \"r\"\naction = 0\n", "acceptance.rule[0].action", 6,
     "rule \"r\": expected an action name, got the integer 0; use one of: pass_all (0), reject_all (1), "
     "cancel (2), pass_single_and_unprocessed (4), pass_single (5)"},
    {"rule_action_bool", "[[acceptance.rule]]\nname = \"r\"\naction = true\n", "acceptance.rule[0].action", 6,
     "rule \"r\": expected an action name, got the boolean true; use one of: pass_all (0), reject_all (1), "
     "cancel (2), pass_single_and_unprocessed (4), pass_single (5)"},
    {"rule_mode", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmode = \"enforced\"\n",
     "acceptance.rule[0].mode", 7, R"(rule "r": unknown mode "enforced"; expected "dry-run" or "enforce")"},
    {"rule_datasets_string", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\ndatasets = \"*\"\n",
     "acceptance.rule[0].datasets", 7,
     R"(rule "r": expected an array of strings such as ["*"] or ["WxCREuCkBSAlQr9xrde"], got the string "*")"},
    {"rule_datasets_empty", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\ndatasets = []\n",
     "acceptance.rule[0].datasets", 7, R"(rule "r": must list at least one dataset id, or "*" for every watched dataset)"},
    {"rule_dataset_not_watched",
     "[[watch]]\ndataset_id = \"a\"\n[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\ndatasets = [\"a\", \"b\"]\n",
     "acceptance.rule[0].datasets[1]", 9,
     R"(rule "r": dataset "b" is not watched by any [[watch]]; the rule could never act on it)"},
    {"rule_dataset_invalid", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\ndatasets = [\"a/b\"]\n",
     "acceptance.rule[0].datasets[0]", 7, R"(rule "r": invalid dataset id "a/b"; expected a dataset id or "*")"},
    {"rule_when_status_empty", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nwhen_status = []\n",
     "acceptance.rule[0].when_status", 7,
     "rule \"r\": must list at least one workforce task status; expected some of: starting, running, accepting, "
     "accepted, rejected, syncing, created, sampling"},
    {"rule_when_status_unknown", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nwhen_status = [\"unknown\"]\n",
     "acceptance.rule[0].when_status[0]", 7,
     "rule \"r\": unknown workforce task status \"unknown\"; expected one of: starting, running, accepting, "
     "accepted, rejected, syncing, created, sampling"},
    {"rule_when_status_case",
     "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nwhen_status = [\"accepting\", \"Sampling\"]\n",
     "acceptance.rule[0].when_status[1]", 7,
     "rule \"r\": unknown workforce task status \"Sampling\"; expected one of: starting, running, accepting, "
     "accepted, rejected, syncing, created, sampling"},
    {"rule_min_pass_rate_percent", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmin_pass_rate = 98\n",
     "acceptance.rule[0].min_pass_rate", 7,
     R"(rule "r": must be between 0 and 1, got 98 (a ratio such as 0.98, not a percentage))"},
    {"rule_max_pass_rate_negative", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmax_pass_rate = -0.5\n",
     "acceptance.rule[0].max_pass_rate", 7, R"(rule "r": must be between 0 and 1, got -0.5)"},
    {"rule_max_pass_rate_nan", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmax_pass_rate = nan\n",
     "acceptance.rule[0].max_pass_rate", 7, R"(rule "r": must be between 0 and 1, got nan)"},
    {"rule_pass_rate_type", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmin_pass_rate = \"0.9\"\n",
     "acceptance.rule[0].min_pass_rate", 7, R"(rule "r": expected a number, got the string "0.9")"},
    {"rule_min_above_max",
     "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmin_pass_rate = 0.9\nmax_pass_rate = 0.5\n",
     "acceptance.rule[0].min_pass_rate", 7,
     R"(rule "r": min_pass_rate 0.9 is greater than max_pass_rate 0.5; the rule could never act)"},
    {"rule_min_checked_negative", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmin_checked_samples = -1\n",
     "acceptance.rule[0].min_checked_samples", 7, R"(rule "r": must be 0 or more, got -1)"},
    {"rule_max_conflicts_negative", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmax_conflicts = -3\n",
     "acceptance.rule[0].max_conflicts", 7, R"(rule "r": must be 0 or more, got -3)"},
    {"rule_sampling_complete_type",
     "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nrequire_sampling_complete = 1\n",
     "acceptance.rule[0].require_sampling_complete", 7, R"(rule "r": expected true or false, got the integer 1)"},
    {"rule_overwrite_type", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\noverwrite_last_result = \"false\"\n",
     "acceptance.rule[0].overwrite_last_result", 7, R"(rule "r": expected true or false, got the string "false")"},
    {"rule_unknown_key", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\nmin_passrate = 0.9\n",
     "acceptance.rule[0].min_passrate", 7,
     "rule \"r\": unknown key (did you mean \"min_pass_rate\"?); expected one of: name, mode, datasets, "
     "when_status, min_pass_rate, max_pass_rate, min_checked_samples, max_conflicts, "
     "require_sampling_complete, action, overwrite_last_result"},
    {"rule_quoted_key", "[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\n\"odd key\" = 1\n",
     "acceptance.rule[0].\"odd key\"", 7,
     "rule \"r\": unknown key; expected one of: name, mode, datasets, when_status, min_pass_rate, max_pass_rate, "
     "min_checked_samples, max_conflicts, require_sampling_complete, action, overwrite_last_result"},
};

// Readable test names in failures instead of a byte dump.
void PrintTo(const error_case& c, std::ostream* os) { *os << c.name; }

class validation : public ::testing::TestWithParam<error_case> {};

}  // namespace

TEST_P(validation, reports_exactly_this_error) {
  const auto& c = GetParam();
  const std::string doc = c.whole ? std::string{c.toml} : with_cloud(c.toml);
  const auto errors = errors_of(doc);
  ASSERT_EQ(errors.size(), 1u) << doc << "\n" << dump(errors);
  EXPECT_EQ(errors[0].file, "t.toml");
  EXPECT_EQ(errors[0].key, c.key);
  EXPECT_EQ(errors[0].line, c.line);
  EXPECT_EQ(errors[0].message, c.message);
}

INSTANTIATE_TEST_SUITE_P(config, validation, ::testing::ValuesIn(k_cases),
                         [](const auto& p) { return std::string{p.param.name}; });

TEST(validation, token_without_its_keys_lists_each_missing_key) {
  const auto errors = errors_of(with_cloud("[auth]\nmethod = \"token\"\n"));
  ASSERT_EQ(errors.size(), 3u) << dump(errors);
  EXPECT_EQ(errors[0].to_string(),
            "t.toml:4: auth.iam_endpoint: required with method = \"token\"; expected the IAM endpoint of "
            "your region, such as \"https://iam.cn-north-4.myhuaweicloud.com\"");
  EXPECT_EQ(errors[1].to_string(),
            "t.toml:4: auth.domain_name: required with method = \"token\"; expected the account (domain) "
            "name that owns the IAM user");
  EXPECT_EQ(errors[2].to_string(),
            "t.toml:4: auth.user_name: required with method = \"token\"; expected the IAM user name");
}

TEST(validation, a_short_key_suggests_the_long_one) {
  const auto errors = errors_of(with_cloud("[[watch]]\ndataset = \"a\"\n"));
  ASSERT_EQ(errors.size(), 2u) << dump(errors);
  EXPECT_EQ(errors[0].key, "watch[0].dataset_id");
  EXPECT_EQ(errors[1].key, "watch[0].dataset");
  EXPECT_TRUE(errors[1].message.starts_with("unknown key (did you mean \"dataset_id\"?)")) << errors[1].message;
}

TEST(validation, wrong_element_types_are_each_reported) {
  const auto errors = errors_of(with_cloud("[[watch]]\ndataset_id = \"a\"\nauto_tasks = [1, \"ok\", true]\n"));
  ASSERT_EQ(errors.size(), 2u) << dump(errors);
  EXPECT_EQ(errors[0].key, "watch[0].auto_tasks[0]");
  EXPECT_EQ(errors[1].key, "watch[0].auto_tasks[2]");
  EXPECT_EQ(errors[1].message, R"(dataset "a": expected a string, got the boolean true)");
}

TEST(validation, an_invalid_value_does_not_also_report_watches_nothing) {
  const auto errors = errors_of(with_cloud("[[watch]]\ndataset_id = \"a\"\ndiscover = false\nauto_tasks = [\"\"]\n"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].key, "watch[0].auto_tasks[0]");
}

TEST(validation, inactive_auth_keys_are_allowed) {
  // Switching method must not force deleting the other method's keys.
  const auto r = parse_config(with_cloud("[auth]\nmethod = \"none\"\naccess_key_file = \"/a\"\n"
                                         "secret_key_file = \"/b\"\nuser_name = \"u\"\n"),
                              "t.toml");
  EXPECT_TRUE(r) << (r ? "" : dump(r.error()));
}

TEST(validation, a_bad_path_does_not_also_break_its_pair) {
  // access_key_file is relative (reported); secret_key_file alone must not add "set both".
  const auto errors = errors_of(with_cloud("[auth]\naccess_key_file = \"ak\"\nsecret_key_file = \"/etc/sk\"\n"));
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_EQ(errors[0].key, "auth.access_key_file");
}

TEST(validation, a_stray_element_does_not_hide_the_others) {
  const auto errors = errors_of("watch = [ { dataset_id = \"a\", discover = \"no\" }, 7 ]\n" +
                                with_cloud("[[acceptance.rule]]\nname = \"r\"\naction = \"pass_all\"\n"
                                           "mode = \"live\"\n"));
  ASSERT_EQ(errors.size(), 3u) << dump(errors);
  // Both on line 1.
  EXPECT_EQ(errors[0].key, "watch[1]");
  EXPECT_EQ(errors[1].key, "watch[0].discover");
  EXPECT_EQ(errors[2].key, "acceptance.rule[0].mode");
}

TEST(validation, duplicate_ids_point_at_the_first_occurrence) {
  const auto errors = errors_of(with_cloud("[[watch]]\ndataset_id = \"a\"\nauto_tasks = [\"\", \"x\", \"x\"]\n"));
  ASSERT_EQ(errors.size(), 2u) << dump(errors);
  EXPECT_EQ(errors[0].key, "watch[0].auto_tasks[0]");
  EXPECT_EQ(errors[1].key, "watch[0].auto_tasks[2]");
  EXPECT_EQ(errors[1].message, R"(dataset "a": duplicate task id "x" (also at auto_tasks[1]))");
}
