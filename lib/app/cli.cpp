// The labelwatch CLI: argument parsing, settings, and one API call per invocation (see
// cli.hpp).
#include "app/cli.hpp"

#include "app/api_stack.hpp"

#include "app/cli_output.hpp"
#include "app/sample_quality.hpp"
#include "auth/credentials.hpp"
#include "auth/token_provider.hpp"
#include "config/reader.hpp"
#include "core/version.hpp"
#include "modelarts/api_client.hpp"
#include "net/https_client.hpp"
#include "rules/decide.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>

namespace labelwatch::app {
namespace {

namespace asio = boost::asio;
using modelarts::api_client;
using modelarts::api_error;

// Flags given on the command line; unset ones leave the configuration's value.
struct flags {
  std::string config_path;
  std::optional<std::string> endpoint, project_id, ca_file, proxy, locale, auth_method;
  std::optional<std::string> access_key_file, secret_key_file;
  std::optional<std::string> iam_endpoint, domain_name, user_name, password_file, project_name;
  std::optional<std::string> timeout;
  std::optional<double> max_rate;
  std::optional<std::uint32_t> max_in_flight;
  std::string output;  // "", "json", "table"
};

// What the chosen subcommand needs.
struct command_args {
  std::string dataset, task, sample, type;
  bool label_stats = false;
  bool summary = false;                  // list samples --summary
  bool max_given = false;                // --max was on the command line
  std::vector<std::string> label_names;  // --by-label
  std::optional<std::uint64_t> offset;
  std::optional<std::uint32_t> limit;
  std::size_t max_items = 0;
  std::uint32_t page_size = 0;
  modelarts::sample_filter filter;
  // accept
  std::string action;
  bool overwrite = false;
  bool dry_run = false;
  bool yes = false;
};

struct settings {
  config::cloud_config cloud;
  config::auth_config auth;
  config::poll_config poll;
  std::vector<config::watch_config> watches;
};

struct usage_error {
  std::string message;
};

// [cloud]/[auth]/[poll] from --config, then the flags over them. Throws usage_error.
settings resolve_settings(const flags& f) {
  settings s;
  if (!f.config_path.empty()) {
    auto loaded = config::load_config_file(f.config_path);
    if (!loaded) {
      std::string all;
      for (const auto& e : loaded.error()) all += (all.empty() ? "" : "\n") + e.to_string();
      throw usage_error{all};
    }
    s.cloud = loaded->cloud;
    s.auth = loaded->auth;
    s.poll = loaded->poll;
    s.watches = loaded->watches;
  }
  if (f.endpoint) s.cloud.endpoint = *f.endpoint;
  if (f.project_id) s.cloud.project_id = *f.project_id;
  if (f.ca_file) s.cloud.ca_file = *f.ca_file;
  if (f.proxy) s.cloud.proxy = *f.proxy;
  if (f.locale) s.cloud.locale = *f.locale;
  if (f.auth_method) {
    if (*f.auth_method == "aksk")
      s.auth.method = config::auth_method::aksk;
    else if (*f.auth_method == "token")
      s.auth.method = config::auth_method::token;
    else if (*f.auth_method == "none")
      s.auth.method = config::auth_method::none;
    else
      throw usage_error{"--auth: expected aksk, token or none, got \"" + *f.auth_method + "\""};
  }
  if (f.access_key_file) s.auth.access_key_file = *f.access_key_file;
  if (f.secret_key_file) s.auth.secret_key_file = *f.secret_key_file;
  if (f.iam_endpoint) s.auth.iam_endpoint = *f.iam_endpoint;
  if (f.domain_name) s.auth.domain_name = *f.domain_name;
  if (f.user_name) s.auth.user_name = *f.user_name;
  if (f.password_file) s.auth.password_file = *f.password_file;
  if (f.project_name) s.auth.project_name = *f.project_name;
  if (f.timeout) {
    const auto d = parse_duration(*f.timeout);
    if (!d || d->count() <= 0)
      throw usage_error{"--timeout: expected a positive duration such as 10s or 1500ms, got \"" +
                        *f.timeout + "\""};
    s.poll.request_timeout = *d;
  }
  if (f.max_rate) s.poll.max_rate = *f.max_rate;
  if (f.max_in_flight) s.poll.max_in_flight = *f.max_in_flight;
  if (s.cloud.endpoint.empty())
    throw usage_error{"no endpoint: give --endpoint or --config with [cloud] endpoint"};
  if (s.cloud.project_id.empty())
    throw usage_error{"no project id: give --project-id or --config with [cloud] project_id"};
  return s;
}

int print_api_error(std::ostream& err, std::string_view what, const api_error& e) {
  err << "labelwatch: " << what << " failed: " << e.summary() << "\n";
  // A request that never left because of our own settings is a configuration problem.
  if (e.kind == errc::config_invalid || e.kind == errc::invalid_argument) return k_exit_usage;
  return k_exit_api_error;
}

// Prints one document or a list in the chosen format.
struct printer {
  std::ostream& out;
  bool json;

  void value(const boost::json::value& v) const { out << (json ? pretty_json(v) : key_value_table(v)); }
  template <class T>
  void one(const T& doc) const {
    const auto v = to_json(doc);
    out << (json ? pretty_json(v) : key_value_table(v));
  }
  template <class T>
  void many(const std::vector<T>& items) const {
    if (json) {
      boost::json::array a;
      for (const auto& item : items) a.push_back(to_json(item));
      out << pretty_json(a);
    } else {
      out << table_of(items);
    }
  }
};

template <class T>
int report(const printer& p, std::ostream& err, std::string_view what,
           const modelarts::api_result<T>& r) {
  if (!r) return print_api_error(err, what, r.error());
  if constexpr (requires { r->items; }) {
    p.many(r->items);
  } else if constexpr (requires { r->size(); }) {
    p.many(*r);
  } else {
    p.one(*r);
  }
  return k_exit_ok;
}

using runner = std::function<net::awaitable<int>(api_client&, const printer&, std::ostream&)>;

// `list samples --summary`: the daemon's sample-quality round, printed.
net::awaitable<int> print_sample_summary(api_client& c, const command_args& a, const printer& p,
                                         std::ostream& err) {
  listing_options options;  // --max 0: the whole dataset
  options.max_samples = a.max_items == 0 ? std::numeric_limits<std::size_t>::max() : a.max_items;
  const std::string dataset = a.dataset;
  auto listed = co_await list_samples_for_quality(c, dataset, options, nullptr);
  if (!listed) {
    const std::string what = "list samples --summary (" + listed.error().operation + ")";
    co_return print_api_error(err, what, listed.error().error);
  }
  auto q = summarize(listed->samples, a.label_names);
  q.dataset_samples = listed->dataset_samples;
  q.truncated = listed->truncated;
  if (p.json) {
    boost::json::object o;
    o["dataset_id"] = dataset;
    o["max_samples"] = a.max_items;  // 0: unbounded
    for (const auto& kv : to_json(q)) o[kv.key()] = kv.value();
    o["list_requests"] = listed->list_requests;
    o["detail_requests"] = listed->detail_requests;
    p.out << pretty_json(o);
  } else {
    p.out << summary_table(dataset, a.max_items, q);
  }
  co_return k_exit_ok;
}

bool single_page(const command_args& a) {
  return a.offset.has_value() || a.limit.has_value();
}

modelarts::page_request page_of(const command_args& a) {
  return {a.offset.value_or(0), a.limit.value_or(0)};
}

// Builds the client stack for `s`, runs `run` on it and returns the exit code.
int execute(const settings& s, const runner& run, const printer& out, std::ostream& err) {
  asio::io_context io;
  auto stack = make_api_stack(io.get_executor(), s.cloud, s.auth, s.poll);
  if (!stack) {
    err << "labelwatch: " << stack.error() << "\n";
    return k_exit_usage;
  }
  auto& client = (*stack)->api;

  int code = k_exit_api_error;
  asio::co_spawn(io, run(*client, out, err), [&](std::exception_ptr e, int rc) {
    if (!e) {
      code = rc;
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      err << "labelwatch: internal error: " << ex.what() << "\n";
    }
    code = k_exit_api_error;
  });
  io.run();
  return code;
}

// `accept`: show the task and the request, then send it only with --yes.
net::awaitable<int> run_accept(api_client& c, const printer& p, std::ostream& err,
                               const command_args& a, const settings& s) {
  const auto action = config::parse_acceptance_action(a.action);
  if (!action) {
    err << "labelwatch: accept: unknown action \"" << a.action << "\"\n";
    co_return k_exit_usage;
  }
  const auto task = co_await c.get_workforce_task(a.dataset, a.task, false, nullptr);
  if (!task) co_return print_api_error(err, "accept: reading the task", task.error());

  const task_key key{task_kind::workforce, a.dataset, a.task};
  const auto f = rules::figures_of(key, *task);
  const auto opt_int = [](const std::optional<std::int64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  boost::json::object plan;
  plan["dataset_id"] = f.dataset_id;
  plan["task_id"] = f.task_id;
  plan["task_name"] = f.task_name;
  plan["status"] = to_string(f.status);
  plan["status_code"] = f.status_code;
  plan["checking_task_id"] = f.checking_task_id;
  plan["pass_rate"] = f.pass_rate ? boost::json::value(*f.pass_rate) : boost::json::value(nullptr);
  plan["checked_samples"] = opt_int(f.checked);
  plan["sampling_num"] = opt_int(f.sampling_num);
  plan["accepted_samples"] = opt_int(f.accepted);
  plan["rejected_samples"] = opt_int(f.rejected);
  plan["unchecked_samples"] = opt_int(f.unchecked);
  plan["action"] = config::to_string(*action);
  plan["action_code"] = rules::action_code(*action);
  plan["overwrite_last_result"] = a.overwrite;
  plan["request"] = "PUT /v2/" + s.cloud.project_id + "/datasets/" + a.dataset + "/workforce-tasks/" +
                    a.task + "/acceptance/status?locale=" + s.cloud.locale;
  plan["body"] = boost::json::object{{"action", rules::action_code(*action)},
                                     {"overwrite_last_result", a.overwrite}};

  if (f.status != workforce_status::accepting) {
    err << "labelwatch: note: the task is " << to_string(f.status)
        << ", not accepting; the API is likely to refuse the action\n";
  }
  if (a.dry_run || !a.yes) {
    plan["sent"] = false;
    p.value(plan);
    if (a.dry_run) {
      err << "labelwatch: dry run: nothing was sent\n";
      co_return k_exit_ok;
    }
    err << "labelwatch: refusing to act without --yes: this would send " << config::to_string(*action)
        << " (action " << rules::action_code(*action) << ") to team labeling task " << a.task
        << " (status " << to_string(f.status) << ", checking task "
        << (f.checking_task_id.empty() ? std::string("none") : f.checking_task_id)
        << "). Check the figures above, then run again with --yes to send it.\n";
    co_return k_exit_usage;
  }

  const auto code = static_cast<modelarts::acceptance_action_code>(rules::action_code(*action));
  const auto r = co_await c.update_acceptance_status(a.dataset, a.task, code, a.overwrite);
  plan["sent"] = true;
  if (!r) {
    p.value(plan);
    co_return print_api_error(err, "accept", r.error());
  }
  plan["result"] = "applied";
  plan["response"] = to_json(*r);
  p.value(plan);
  err << "labelwatch: " << config::to_string(*action) << " sent to " << a.task
      << "; the task moves through syncing to its result (watch it with get workforce-task)\n";
  co_return k_exit_ok;
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            bool stdout_is_tty) {
  CLI::App app{"labelwatch: one-shot ModelArts labeling CLI (the library labelwatchd uses)",
               "labelwatch"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommands
  app.footer(
      "Exit codes: 0 ok, 1 API or network error (the message names the error code and\n"
      "request id), 2 usage or configuration error. Credentials: [auth] files, else\n"
      "HUAWEICLOUD_SDK_AK/SK (HUAWEICLOUD_SDK_PASSWORD for token auth), else\n"
      "$CREDENTIALS_DIRECTORY/ak, sk, password.");

  flags f;
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and exit");
  app.add_option("--config", f.config_path,
                 "labelwatchd configuration file ([cloud], [auth], [poll])");
  app.add_option("--endpoint", f.endpoint,
                 "ModelArts endpoint, https://host[:port] ([cloud] endpoint)");
  app.add_option("--project-id", f.project_id, "Project id ([cloud] project_id)");
  app.add_option("--ca-file", f.ca_file, "Extra PEM CA bundle trusted besides the system store");
  app.add_option("--proxy", f.proxy, "HTTP CONNECT proxy, http://host:port (default: HTTPS_PROXY)");
  app.add_option("--locale", f.locale, "Locale for acceptance calls (en-us|zh-cn)");
  app.add_option("--auth", f.auth_method, "Authentication: aksk | token | none");
  app.add_option("--access-key-file", f.access_key_file, "File holding the AK");
  app.add_option("--secret-key-file", f.secret_key_file, "File holding the SK");
  app.add_option("--iam-endpoint", f.iam_endpoint, "IAM endpoint for token auth");
  app.add_option("--domain-name", f.domain_name, "IAM domain (account) name for token auth");
  app.add_option("--user-name", f.user_name, "IAM user name for token auth");
  app.add_option("--password-file", f.password_file, "File holding the IAM password");
  app.add_option("--project-name", f.project_name,
                 "Token scope by project name (default: the project id)");
  app.add_option("--timeout", f.timeout,
                 "Timeout of each request, e.g. 10s ([poll] request_timeout)");
  app.add_option("--max-rate", f.max_rate, "Requests per second ([poll] max_rate)");
  app.add_option("--max-in-flight", f.max_in_flight, "Concurrent requests ([poll] max_in_flight)");
  app.add_option("-o,--output", f.output,
                 "Output format: json | table (default: table on a terminal, else json)")
      ->check(CLI::IsMember({"json", "table"}));

  command_args a;
  runner run;
  std::string what;

  auto* get =
      app.add_subcommand("get", "Show one auto-labeling task, team labeling task or sample");
  get->require_subcommand(1);
  auto* get_auto = get->add_subcommand("auto-task", "GET .../datasets/{dataset}/tasks/{task}");
  get_auto->add_option("--dataset", a.dataset, "Dataset id")->required();
  get_auto->add_option("--task", a.task, "Auto-labeling task id")->required();
  get_auto->callback([&] {
    what = "get auto-task";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      {
        const auto r = co_await c.get_auto_task(a.dataset, a.task);
        co_return report(p, e, what, r);
      }
    };
  });
  auto* get_wf =
      get->add_subcommand("workforce-task", "GET .../datasets/{dataset}/workforce-tasks/{task}");
  get_wf->add_option("--dataset", a.dataset, "Dataset id")->required();
  get_wf->add_option("--task", a.task, "Team labeling task id")->required();
  get_wf->add_flag("--label-stats", a.label_stats, "Also request per-label statistics");
  get_wf->callback([&] {
    what = "get workforce-task";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      {
        const auto r = co_await c.get_workforce_task(a.dataset, a.task, a.label_stats);
        co_return report(p, e, what, r);
      }
    };
  });
  auto* get_sample =
      get->add_subcommand("sample", "GET .../datasets/{dataset}/auto-annotations/samples/{sample}");
  get_sample->add_option("--dataset", a.dataset, "Dataset id")->required();
  get_sample->add_option("--sample", a.sample, "Sample id")->required();
  get_sample->callback([&] {
    what = "get sample";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      {
        const auto r = co_await c.get_sample(a.dataset, a.sample);
        if (!r) co_return print_api_error(e, what, r.error());
        const auto v = sample_detail_json(*r);
        p.out << (p.json ? pretty_json(v) : key_value_table(v));
        co_return k_exit_ok;
      }
    };
  });

  auto* list = app.add_subcommand(
      "list", "List tasks, samples or datasets (every page unless --offset/--limit)");
  list->require_subcommand(1);
  const auto paging = [&a](CLI::App* sub) {
    sub->add_option("--offset", a.offset, "Fetch only the page at this offset");
    sub->add_option("--limit", a.limit, "Page size; alone, fetch only the first page");
    sub->add_option("--page-size", a.page_size,
                    "Page size while following every page (default: the API maximum)");
  };
  auto* list_auto = list->add_subcommand("auto-tasks", "Auto-labeling tasks of a dataset");
  list_auto->add_option("--dataset", a.dataset, "Dataset id")->required();
  list_auto->add_option("--type", a.type, "auto-label | pre-label | auto-grouping");
  paging(list_auto);
  list_auto->callback([&] {
    what = "list auto-tasks";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      if (single_page(a)) {
        const auto r = co_await c.list_auto_tasks(a.dataset, page_of(a), a.type);
        co_return report(p, e, what, r);
      }
      const auto r = co_await c.list_all_auto_tasks(a.dataset, a.type, a.page_size);
      co_return report(p, e, what, r);
    };
  });
  auto* list_wf = list->add_subcommand("workforce-tasks", "Team labeling tasks of a dataset");
  list_wf->add_option("--dataset", a.dataset, "Dataset id")->required();
  paging(list_wf);
  list_wf->callback([&] {
    what = "list workforce-tasks";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      if (single_page(a)) {
        const auto r = co_await c.list_workforce_tasks(a.dataset, page_of(a));
        co_return report(p, e, what, r);
      }
      const auto r = co_await c.list_all_workforce_tasks(a.dataset, a.page_size);
      co_return report(p, e, what, r);
    };
  });
  auto* list_samples = list->add_subcommand("samples", "Auto-annotated samples of a dataset");
  list_samples->add_option("--dataset", a.dataset, "Dataset id")->required();
  auto* max_opt =
      list_samples->add_option("--max", a.max_items, "Stop after this many samples (0: all)");
  list_samples->add_flag(
      "--summary", a.summary,
      "Print the figures labelwatchd exports for the dataset (statuses, label confidence "
      "histogram and quantiles, hard samples and reasons) instead of the samples; --max "
      "defaults to the dataset's max_samples_per_round in --config, else 2000");
  list_samples->add_option("--by-label", a.label_names,
                           "With --summary: break the confidence down by this label name "
                           "(repeatable; default: the dataset's sample_label_names in --config)");
  list_samples->add_option("--high-score", a.filter.high_score, "Upper confidence bound");
  list_samples->add_option("--low-score", a.filter.low_score, "Lower confidence bound");
  list_samples->add_option("--label-name", a.filter.label_name, "Only samples with this label");
  list_samples->add_option("--order", a.filter.order, "asc | desc")
      ->check(CLI::IsMember({"asc", "desc"}));
  paging(list_samples);
  list_samples->callback([&a, &what, &run, max_opt] {
    what = "list samples";
    a.max_given = max_opt->count() > 0;
    if (a.summary) {
      if (single_page(a) || !a.filter.high_score.empty() || !a.filter.low_score.empty() ||
          !a.filter.label_name.empty() || !a.filter.order.empty())
        throw CLI::ValidationError(
            "--summary",
            "aggregates what labelwatchd sees: it takes no filters, --offset or --limit");
      run = [&a](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
        co_return co_await print_sample_summary(c, a, p, e);
      };
      return;
    }
    if (!a.label_names.empty())
      throw CLI::ValidationError("--by-label", "only applies with --summary");
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      if (single_page(a)) {
        const auto r = co_await c.list_samples(a.dataset, page_of(a), a.filter);
        co_return report(p, e, what, r);
      }
      const auto r = co_await c.list_all_samples(a.dataset, a.filter, a.max_items, a.page_size);
      co_return report(p, e, what, r);
    };
  });
  auto* list_ds = list->add_subcommand("datasets", "Datasets of the project");
  paging(list_ds);
  list_ds->callback([&] {
    what = "list datasets";
    run = [&a, &what](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      if (single_page(a)) {
        const auto r = co_await c.list_datasets(page_of(a));
        co_return report(p, e, what, r);
      }
      {
        const auto r = co_await c.list_all_datasets(a.page_size);
        co_return report(p, e, what, r);
      }
    };
  });
  settings s;
  auto* accept = app.add_subcommand(
      "accept",
      "Apply an acceptance action to a team labeling task: shows the task and the request, "
      "sends it only with --yes");
  accept->add_option("--dataset", a.dataset, "Dataset id")->required();
  accept->add_option("--task", a.task, "Team labeling task id")->required();
  accept
      ->add_option("--action", a.action,
                   "pass_all | reject_all | cancel | pass_single_and_unprocessed | pass_single")
      ->required()
      ->check(CLI::IsMember({"pass_all", "reject_all", "cancel", "pass_single_and_unprocessed",
                             "pass_single"}));
  accept->add_flag("--overwrite", a.overwrite, "Send overwrite_last_result = true");
  accept->add_flag("--dry-run", a.dry_run, "Show what would be sent and send nothing");
  accept->add_flag("--yes", a.yes, "Send the action (without it nothing is sent, exit 2)");
  accept->footer(
      "Manual actions are not written to labelwatchd's ledger (the daemon holds the state\n"
      "database); the daemon sees their effect at the task's next poll.");
  accept->callback([&] {
    what = "accept";
    run = [&a, &s](api_client& c, const printer& p, std::ostream& e) -> net::awaitable<int> {
      co_return co_await run_accept(c, p, e, a, s);
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (show_version && e.get_exit_code() != 0) {
      out << "labelwatch " << version << "\n";
      return k_exit_ok;
    }
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
    err << "labelwatch: " << e.what() << "\nRun 'labelwatch --help' for usage.\n";
    return k_exit_usage;
  }
  if (!run) {
    err << "labelwatch: no command given\nRun 'labelwatch --help' for usage.\n";
    return k_exit_usage;
  }

  try {
    s = resolve_settings(f);
  } catch (const usage_error& e) {
    err << "labelwatch: " << e.message << "\n";
    return k_exit_usage;
  }
  if (a.summary) {
    // The daemon's settings for this dataset, unless the command line says otherwise.
    const auto w = std::find_if(s.watches.begin(), s.watches.end(),
                                [&a](const auto& x) { return x.dataset_id == a.dataset; });
    if (!a.max_given) a.max_items = w != s.watches.end() ? w->max_samples_per_round : 2000;
    if (a.label_names.empty() && w != s.watches.end()) a.label_names = w->sample_label_names;
  }
  const bool as_json = f.output.empty() ? !stdout_is_tty : f.output == "json";
  return execute(s, run, printer{out, as_json}, err);
}

}  // namespace labelwatch::app
