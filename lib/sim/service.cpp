#include "sim/service.hpp"
#include "core/json_text.hpp"

#include "auth/signer.hpp"
#include "sim/document.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <variant>

namespace labelwatch::sim {
namespace {

using std::chrono::milliseconds;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Decoded query parameters in the order given.
struct query_params {
  std::vector<std::pair<std::string, std::string>> items;

  explicit query_params(std::string_view raw) {
    while (!raw.empty()) {
      const auto amp = raw.find('&');
      const auto item = raw.substr(0, amp);
      raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      items.emplace_back(auth::uri_decode(item.substr(0, eq), true),
                         eq == std::string_view::npos
                             ? std::string{}
                             : auth::uri_decode(item.substr(eq + 1), true));
    }
  }
  std::optional<std::string_view> get(std::string_view key) const {
    for (const auto& [k, v] : items)
      if (k == key) return std::string_view(v);
    return std::nullopt;
  }
};

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool flag(const query_params& q, std::string_view key) {
  const auto v = q.get(key);
  if (!v) return false;
  std::string lower(*v);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return lower == "true" || lower == "1";
}

bool is_gateway_code(std::string_view code) {
  return code.starts_with("APIG");
}

response json_response(int status, const json::value& body) {
  response r;
  r.status = status;
  r.body = json_text(body);
  return r;
}

response error_response(const api_failure& f, const std::string& request_id) {
  json::object body;
  if (is_gateway_code(f.error_code)) {
    body = json::object{
        {"error_msg", f.error_msg}, {"error_code", f.error_code}, {"request_id", request_id}};
  } else {
    body = json::object{{"error_code", f.error_code}, {"error_msg", f.error_msg}};
  }
  return json_response(f.http_status, body);
}

api_failure invalid_argument(std::string detail) {
  return api_failure{400, "ModelArts.0101", "Invalid Argument. " + std::move(detail)};
}

struct paging {
  std::size_t limit = 10;
  std::size_t offset = 0;
};

std::variant<paging, api_failure> parse_paging(const query_params& q, std::size_t max_limit,
                                               std::size_t default_limit) {
  paging p{default_limit, 0};
  if (const auto l = q.get("limit")) {
    const auto v = parse_uint(*l);
    if (!v || *v < 1 || *v > max_limit)
      return invalid_argument("limit must be an integer from 1 to " + std::to_string(max_limit));
    p.limit = static_cast<std::size_t>(*v);
  }
  if (const auto o = q.get("offset")) {
    const auto v = parse_uint(*o);
    if (!v || *v > 100'000'000) return invalid_argument("offset must be an integer >= 0");
    p.offset = static_cast<std::size_t>(*v);
  }
  return p;
}

std::string api_not_found_msg() {
  return "The API does not exist or has not been published in the environment";
}

json::object control_error(std::string message) {
  return json::object{{"error", std::move(message)}};
}

std::optional<double> max_label_score(const json::object& sample) {
  std::optional<double> best;
  if (const auto* ls = sample.if_contains("labels"); ls && ls->is_array())
    for (const auto& l : ls->get_array())
      if (l.is_object())
        if (const auto* s = l.get_object().if_contains("score"); s && s->is_number())
          best = std::max(best.value_or(-1.0), s->to_number<double>());
  return best;
}

}  // namespace

struct service::routed {
  endpoint target = endpoint::unknown;
  std::string project_id;
  std::string dataset_id;
  std::string task_id;
  std::string sample_id;
};

service::service(scenario s, service_options options, sys_time start, std::uint64_t entropy)
    : world_(std::move(s), start, entropy),
      options_(std::move(options)),
      verifier_(options_.keys, options_.aksk),
      journal_(options_.journal_capacity, options_.journal_body_limit),
      rng_(entropy * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}

std::string service::project_id() const {
  std::lock_guard lock(mutex_);
  return world_.settings().project_id;
}

auth_mode service::auth() const {
  std::lock_guard lock(mutex_);
  return options_.auth;
}

std::string service::new_request_id() {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 2; ++i) {
    auto x = splitmix64(rng_);
    for (int k = 0; k < 16; ++k, x >>= 4) out += digits[x & 0xf];
  }
  return out;
}

void service::record_duration(std::uint64_t seq, std::chrono::milliseconds d) {
  if (seq == 0) return;
  std::lock_guard lock(mutex_);
  journal_.set_duration(seq, d.count());
}

response service::handle(const request_view& r, sys_time now) {
  std::lock_guard lock(mutex_);
  if (r.path() == "/_sim" || r.path().starts_with("/_sim/")) return handle_control(r, now);
  return handle_api(r, now);
}

// ---- routing -------------------------------------------------------------------------

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(auth::uri_decode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

response service::handle_api(const request_view& r, sys_time now) {
  const auto request_id = new_request_id();
  routed rt;
  const auto parts = split_path(r.path());
  const auto n = parts.size();
  const auto method = r.method;
  auto is = [&](std::size_t i, std::string_view s) { return i < n && parts[i] == s; };
  if (n >= 3 && is(0, "v2") && is(2, "datasets")) {
    rt.project_id = parts[1];
    if (n == 3 && method == "GET") rt.target = endpoint::dataset_list;
    if (n >= 5) {
      rt.dataset_id = parts[3];
      if (is(4, "tasks")) {
        if (n == 5 && method == "GET") rt.target = endpoint::auto_task_list;
        if (n == 6 && method == "GET") rt.target = endpoint::auto_task, rt.task_id = parts[5];
      } else if (is(4, "workforce-tasks")) {
        if (n == 5 && method == "GET") rt.target = endpoint::workforce_task_list;
        if (n == 6 && method == "GET") rt.target = endpoint::workforce_task, rt.task_id = parts[5];
        if (n == 8 && is(6, "acceptance") && is(7, "status") && method == "PUT")
          rt.target = endpoint::acceptance, rt.task_id = parts[5];
      } else if (is(4, "auto-annotations") && is(5, "samples")) {
        if (n == 6 && method == "GET") rt.target = endpoint::sample_list;
        if (n == 7 && method == "GET") rt.target = endpoint::sample, rt.sample_id = parts[6];
      }
    }
  } else if (n == 3 && is(0, "v3") && is(1, "auth") && is(2, "tokens") && method == "POST") {
    rt.target = endpoint::iam;
  }

  journal_entry entry;
  entry.time_ms = to_unix_ms(now);
  entry.method = std::string(r.method);
  entry.path = std::string(r.path());
  entry.query = std::string(r.query());
  entry.target = rt.target;
  entry.dataset_id = rt.dataset_id;
  entry.task_id = rt.task_id.empty() ? rt.sample_id : rt.task_id;
  entry.request_id = request_id;
  if (r.method == "PUT") entry.body = std::string(r.body);

  auto finish = [&](response resp) {
    resp.headers.emplace_back("X-Request-Id", request_id);
    entry.status =
        resp.action == wire_action::hang || resp.action == wire_action::close ? 0 : resp.status;
    if (resp.status >= 400 && resp.action == wire_action::respond) {
      // Record the error code the client saw (cheap: error bodies are small).
      boost::system::error_code ec;
      const auto v = json::parse(resp.body, ec);
      if (!ec && v.is_object())
        if (const auto* c = v.get_object().if_contains("error_code"); c && c->is_string())
          entry.error_code = std::string(c->get_string());
    }
    resp.journal_seq = journal_.append(std::move(entry));
    return resp;
  };

  if (rt.target == endpoint::unknown) {
    entry.auth = std::string(to_string(auth_outcome::not_required));
    return finish(error_response(api_failure{404, "APIG.0101", api_not_found_msg()}, request_id));
  }

  if (rt.target == endpoint::iam) {
    entry.auth = std::string(to_string(auth_outcome::not_required));
  } else {
    auth_decision d;
    switch (options_.auth) {
      case auth_mode::none:
        d.outcome = auth_outcome::disabled;
        break;
      case auth_mode::aksk:
        d = verifier_.verify(r, now);
        break;
      case auth_mode::token:
        d = tokens_.verify(r.header("X-Auth-Token"), rt.project_id, now);
        break;
    }
    entry.auth = std::string(to_string(d.outcome));
    if (!d.ok()) {
      entry.detail = d.canonical_request;
      return finish(error_response(*d.failure, request_id));
    }
  }

  world::request_facts facts{rt.target, r.method, rt.dataset_id, rt.task_id};
  if (auto f = world_.take_fault(facts, now)) {
    entry.fault = std::string(to_string(f->kind)) + ":" + f->id;
    return finish(apply_fault(*f, rt, r, now, request_id));
  }
  return finish(answer(rt, r, now));
}

// ---- the endpoints -----------------------------------------------------------------

response service::answer(const routed& rt, const request_view& r, sys_time now) {
  if (rt.target == endpoint::iam) return iam_tokens(r, now);
  const auto& sc = world_.settings();
  const auto rid = std::string{};  // ModelArts bodies carry no request_id
  if (rt.project_id != sc.project_id)
    return error_response(api_failure{400, "ModelArts.0210", "Invalid project ID."}, rid);
  const query_params q(r.query());
  const int nf = sc.not_found_status;

  if (rt.target == endpoint::acceptance) return acceptance(rt, r, now);

  if (rt.target == endpoint::dataset_list) {
    const auto p = parse_paging(q, 100, 10);
    if (const auto* e = std::get_if<api_failure>(&p)) return error_response(*e, rid);
    const auto& pg = std::get<paging>(p);
    const auto total = world_.dataset_count();
    const auto b = paginate(total, pg.offset, pg.limit, sc.pagination);
    json::array items;
    for (auto i = b.first; i < b.last; ++i) items.push_back(world_.dataset_document(i, now));
    return json_response(200,
                         json::object{{"total_number", total}, {"datasets", std::move(items)}});
  }

  const auto ds = world_.find_dataset(rt.dataset_id);
  const api_failure no_dataset{nf, "ModelArts.4352", "Dataset does not exist"};

  switch (rt.target) {
    case endpoint::auto_task_list:
    case endpoint::workforce_task_list: {
      if (!ds) return error_response(no_dataset, rid);
      const bool autos = rt.target == endpoint::auto_task_list;
      const auto p = autos ? parse_paging(q, 100, 10) : parse_paging(q, 1000, 1000);
      if (const auto* e = std::get_if<api_failure>(&p)) return error_response(*e, rid);
      const auto& pg = std::get<paging>(p);
      const auto visible =
          world_.visible_tasks(autos ? task_kind::auto_labeling : task_kind::workforce, *ds, now);
      const auto b = paginate(visible.size(), pg.offset, pg.limit, sc.pagination);
      json::array items;
      for (auto i = b.first; i < b.last; ++i) {
        const auto idx = visible[i];
        auto doc = world_.render(idx, now);
        const auto& spec = world_.task(idx);
        if (autos) {
          // List items carry the dataset, the name and the counts at the top level.
          if (!doc.contains("task_id")) doc["task_id"] = spec.task_id;
          if (!doc.contains("task_name")) doc["task_name"] = spec.task_name;
          doc["dataset_id"] = spec.dataset_id;
          if (const auto* res = doc.if_contains("result"); res && res->is_object()) {
            const auto result = res->get_object();
            for (const auto key :
                 {"total_sample_count", "annotated_sample_count", "unconfirmed_sample_count"})
              if (const auto* v = result.if_contains(key)) doc[key] = *v;
          }
        } else {
          doc.erase("worker_stats");
        }
        items.push_back(std::move(doc));
      }
      if (autos)
        return json_response(200, json::object{{"tasks", std::move(items)},
                                               {"total_count", visible.size()},
                                               {"exist_running_deploy_task", false}});
      return json_response(200,
                           json::object{{"count", visible.size()}, {"tasks", std::move(items)}});
    }
    case endpoint::auto_task:
    case endpoint::workforce_task: {
      const bool autos = rt.target == endpoint::auto_task;
      const auto idx = world_.visible_task(autos ? task_kind::auto_labeling : task_kind::workforce,
                                           rt.dataset_id, rt.task_id, now);
      if (!idx)
        return error_response(
            autos ? api_failure{nf, "ModelArts.4612", "Task not found"}
                  : api_failure{nf, "ModelArts.4619", "Workforce task does not exist"},
            rid);
      auto doc = world_.render(*idx, now);
      if (!autos && !sc.workforce_stats_default) {
        if (!flag(q, "label_stats")) doc.erase("label_stats");
        if (!flag(q, "sample_stats")) doc.erase("sample_stats");
        if (!flag(q, "workforce_stats")) doc.erase("workforce_stats");
      }
      return json_response(200, doc);
    }
    case endpoint::sample_list: {
      if (!ds) return error_response(no_dataset, rid);
      const auto p = parse_paging(q, 100, 10);
      if (const auto* e = std::get_if<api_failure>(&p)) return error_response(*e, rid);
      const auto& pg = std::get<paging>(p);
      std::optional<double> low, high;
      for (const auto& [key, target] :
           {std::pair{"low_score", &low}, std::pair{"high_score", &high}}) {
        if (const auto v = q.get(key)) {
          double d = 0;
          const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
          if (v->empty() || ec != std::errc{} || ptr != v->data() + v->size())
            return error_response(invalid_argument(std::string(key) + " must be a number"), rid);
          *target = d;
        }
      }
      const auto& all = world_.samples(*ds);
      std::vector<const json::object*> matching;
      matching.reserve(all.size());
      for (const auto& s : all) {
        if (low || high) {
          const auto score = max_label_score(s);
          if (!score || (low && *score < *low) || (high && *score > *high)) continue;
        }
        matching.push_back(&s);
      }
      const auto b = paginate(matching.size(), pg.offset, pg.limit, sc.pagination);
      json::array items;
      for (auto i = b.first; i < b.last; ++i) items.push_back(*matching[i]);
      return json_response(
          200, json::object{{"sample_count", matching.size()}, {"samples", std::move(items)}});
    }
    case endpoint::sample: {
      if (!ds) return error_response(no_dataset, rid);
      const auto* s = world_.sample(*ds, rt.sample_id);
      if (!s) return error_response(api_failure{nf, "ModelArts.4420", "Sample not found"}, rid);
      return json_response(200, *s);
    }
    default:
      break;
  }
  return error_response(api_failure{404, "APIG.0101", api_not_found_msg()}, rid);
}

response service::acceptance(const routed& rt, const request_view& r, sys_time now) {
  const query_params q(r.query());
  const auto locale = q.get("locale");
  if (!locale) return error_response(invalid_argument("locale is required (en-us or zh-cn)"), {});
  if (*locale != "en-us" && *locale != "zh-cn")
    return error_response(invalid_argument("locale must be en-us or zh-cn"), {});
  boost::system::error_code ec;
  const auto body = json::parse(r.body, ec);
  if (ec || !body.is_object())
    return error_response(
        api_failure{400, "ModelArts.4105", "Incorrect JSON format of the input data."}, {});
  const auto& o = body.get_object();
  const auto* action = o.if_contains("action");
  if (!action || !action->is_int64() || action->get_int64() < 0 || action->get_int64() > 5)
    return error_response(invalid_argument("action must be an integer from 0 to 5"), {});
  bool overwrite = false;
  if (const auto* ow = o.if_contains("overwrite_last_result")) {
    if (!ow->is_bool())
      return error_response(invalid_argument("overwrite_last_result must be true or false"), {});
    overwrite = ow->get_bool();
  }
  const auto idx = world_.visible_task(task_kind::workforce, rt.dataset_id, rt.task_id, now);
  if (!idx)
    return error_response(api_failure{world_.settings().not_found_status, "ModelArts.4619",
                                      "Workforce task does not exist"},
                          {});
  auto result =
      world_.apply_acceptance(*idx, static_cast<int>(action->get_int64()), overwrite, now);
  if (result.failure) return error_response(*result.failure, {});
  return json_response(200, result.body);
}

response service::iam_tokens(const request_view& r, sys_time now) {
  auto iam_error = [](int status, std::string_view title, std::string message) {
    return json_response(status,
                         json::object{{"error", json::object{{"code", status},
                                                             {"title", title},
                                                             {"message", std::move(message)}}}});
  };
  boost::system::error_code ec;
  const auto body = json::parse(r.body, ec);
  const json::object* user = nullptr;
  const json::object* scope_project = nullptr;
  bool password_method = false;
  if (!ec && body.is_object()) {
    const auto* a = body.get_object().if_contains("auth");
    if (a && a->is_object()) {
      const auto* id = a->get_object().if_contains("identity");
      if (id && id->is_object()) {
        if (const auto* m = id->get_object().if_contains("methods"); m && m->is_array())
          for (const auto& x : m->get_array())
            if (x.is_string() && x.get_string() == "password") password_method = true;
        const auto* pw = id->get_object().if_contains("password");
        if (pw && pw->is_object())
          if (const auto* u = pw->get_object().if_contains("user"); u && u->is_object())
            user = &u->get_object();
      }
      const auto* sc = a->get_object().if_contains("scope");
      if (sc && sc->is_object())
        if (const auto* p = sc->get_object().if_contains("project"); p && p->is_object())
          scope_project = &p->get_object();
    }
  }
  if (!password_method || !user)
    return iam_error(400, "Bad Request",
                     "The request body is invalid: expected auth.identity "
                     "with methods [\"password\"] and password.user");
  auto str = [](const json::object* o, std::string_view key) -> std::string {
    if (!o) return {};
    const auto* v = o->if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string{};
  };
  const json::object* domain = nullptr;
  if (const auto* d = user->if_contains("domain"); d && d->is_object()) domain = &d->get_object();
  const bool good = !options_.iam_password.empty() && str(user, "name") == options_.iam_user &&
                    str(user, "password") == options_.iam_password &&
                    str(domain, "name") == options_.iam_domain;
  if (!good) return iam_error(401, "Unauthorized", "The username or password is wrong.");
  const auto& sc = world_.settings();
  const auto pid = str(scope_project, "id");
  const auto pname = str(scope_project, "name");
  if (!scope_project || (pid.empty() && pname.empty()))
    return iam_error(400, "Bad Request",
                     "ModelArts needs a project-scoped token: set auth.scope.project.id or name");
  if ((!pid.empty() && pid != sc.project_id) || (pid.empty() && pname != sc.project_name))
    return iam_error(400, "Bad Request", "The project does not exist or is not in the scope.");
  const auto t = tokens_.issue(sc.project_id, now, options_.token_lifetime, rng_);
  const json::object domain_obj{{"id", "d0000000000000000000000000000001"},
                                {"name", options_.iam_domain}};
  json::object token{
      {"expires_at", format_iam_time(t.expires_at)},
      {"issued_at", format_iam_time(t.issued_at)},
      {"methods", json::array{"password"}},
      {"project",
       json::object{{"id", sc.project_id}, {"name", sc.project_name}, {"domain", domain_obj}}},
      {"user", json::object{{"id", "u0000000000000000000000000000001"},
                            {"name", options_.iam_user},
                            {"domain", domain_obj},
                            {"password_expires_at", ""}}},
      {"roles", json::array{json::object{{"id", "0"}, {"name", "op_gated_modelarts"}}}},
      {"catalog", json::array{}},
  };
  auto resp = json_response(201, json::object{{"token", std::move(token)}});
  resp.headers.emplace_back("X-Subject-Token", t.token);
  return resp;
}

// ---- faults --------------------------------------------------------------------------

response service::apply_fault(const fault_spec& f, const routed& rt, const request_view& r,
                              sys_time now, const std::string& request_id) {
  response resp;
  switch (f.kind) {
    case fault_kind::throttle: {
      const auto code = f.code.empty() ? std::string("ModelArts.4206") : f.code;
      std::string msg = f.error_msg;
      if (msg.empty()) {
        if (code == "APIG.0308")
          msg =
              "The throttling threshold has been reached: policy user over "
              "ratelimit,limit:20,time:1 second";
        else if (code == "ModelArts.2799")
          msg = "TooManyRequests";
        else
          msg = "Excessive number of requests to " + std::string(r.path()) + ".";
      }
      resp = error_response(api_failure{f.status ? f.status : 429, code, msg}, request_id);
      const auto after = f.retry_after.value_or(2);
      if (f.retry_after_format == "seconds")
        resp.headers.emplace_back("Retry-After", std::to_string(after));
      else if (f.retry_after_format == "http_date")
        resp.headers.emplace_back("Retry-After",
                                  format_http_date(now + std::chrono::seconds(after)));
      break;
    }
    case fault_kind::error: {
      const int status = f.status ? f.status : 503;
      api_failure e{status, "ModelArts.0010", "Internal error."};
      if (status == 503) e = {503, "ModelArts.4700", "Unavailable gateway."};
      if (status == 502) e = {502, "APIG.0201", "Backend unavailable."};
      if (!f.error_code.empty()) e.error_code = f.error_code;
      if (!f.error_msg.empty()) e.error_msg = f.error_msg;
      resp = error_response(e, request_id);
      if (f.retry_after) {
        if (f.retry_after_format == "http_date")
          resp.headers.emplace_back("Retry-After",
                                    format_http_date(now + std::chrono::seconds(*f.retry_after)));
        else if (f.retry_after_format == "seconds")
          resp.headers.emplace_back("Retry-After", std::to_string(*f.retry_after));
      }
      break;
    }
    case fault_kind::hang:
      resp.action = wire_action::hang;
      resp.status = 0;
      break;
    case fault_kind::close:
      resp.action = wire_action::close;
      resp.status = 0;
      break;
    default: {
      resp = answer(rt, r, now);
      if (f.kind == fault_kind::delay) break;
      if (f.kind == fault_kind::reset) {
        resp.action = wire_action::reset_mid_body;
        resp.partial_body_bytes =
            std::min(f.partial_bytes.value_or(resp.body.size() / 2), resp.body.size());
        break;
      }
      if (resp.status < 200 || resp.status >= 300) break;  // shape faults need a document
      switch (f.kind) {
        case fault_kind::truncated_json:
          resp.body.resize(resp.body.size() / 2);
          break;
        case fault_kind::malformed_json:
          // Drop the closing brace and end on a half-written member.
          if (!resp.body.empty()) resp.body.pop_back();
          resp.body += ",\"x_sim_broken\": tru";
          break;
        case fault_kind::oversized: {
          // A valid document padded to `bytes`: a client must refuse it by size.
          auto& b = resp.body;
          if (!b.empty() && b.back() == '}' && b.size() < f.bytes) {
            b.pop_back();
            const std::string head =
                (b.size() > 1 ? "," : "") + std::string("\"x_sim_padding\":\"");
            const auto pad =
                f.bytes > b.size() + head.size() + 2 ? f.bytes - b.size() - head.size() - 2 : 0;
            b += head;
            b.append(pad, 'x');
            b += "\"}";
          }
          break;
        }
        case fault_kind::invalid_utf8: {
          boost::system::error_code ec;
          auto v = json::parse(resp.body, ec);
          if (ec || !v.is_object()) break;
          auto& o = v.as_object();
          const char* key = o.contains("task_name")       ? "task_name"
                            : o.contains("sample_status") ? "sample_status"
                                                          : "x_sim_text";
          // json_text() would repair the bytes, so splice them into the text afterwards.
          constexpr std::string_view marker = "x-sim-invalid-utf8-marker";
          o[key] = json::string(marker);
          resp.body = json_text(v);
          const auto at = resp.body.find(marker);
          if (at != std::string::npos)
            resp.body.replace(at, marker.size(), "bad\xff\xfe utf8 \xc3\x28 here");
          break;
        }
        case fault_kind::numbers_as_strings:
        case fault_kind::unknown_status:
        case fault_kind::missing_optional:
        case fault_kind::extra_fields: {
          boost::system::error_code ec;
          auto v = json::parse(resp.body, ec);
          if (ec) break;
          if (f.kind == fault_kind::numbers_as_strings) numbers_to_strings(v);
          if (f.kind == fault_kind::missing_optional) remove_optional_objects(v);
          if (f.kind == fault_kind::extra_fields) add_unknown_fields(v);
          if (f.kind == fault_kind::unknown_status && v.is_object()) {
            auto& o = v.as_object();
            if (o.contains("status")) o["status"] = f.status_code;
            // Lists: every item.
            if (auto* tasks = o.if_contains("tasks"); tasks && tasks->is_array())
              for (auto& t : tasks->as_array())
                if (t.is_object()) t.as_object()["status"] = f.status_code;
          }
          resp.body = json_text(v);
          break;
        }
        default:
          break;
      }
    }
  }
  if (f.delay > milliseconds{0}) resp.delay = f.delay;
  return resp;
}

// ---- control API ---------------------------------------------------------------------

response service::handle_control(const request_view& r, sys_time now) {
  auto reply = [](int status, json::value body) {
    auto resp = json_response(status, body);
    return resp;
  };
  response resp = [&]() -> response {
    if (!r.from_loopback)
      return reply(403, control_error("the control API answers loopback clients only"));
    const auto parts = split_path(r.path());  // parts[0] == "_sim"
    const auto n = parts.size();
    const auto m = r.method;
    const query_params q(r.query());
    auto parse_body = [&](json::value& out) -> std::optional<response> {
      boost::system::error_code ec;
      out = json::parse(r.body.empty() ? std::string_view("{}") : r.body, ec);
      if (ec) return reply(400, control_error("the body is not JSON: " + ec.message()));
      return std::nullopt;
    };
    auto seg = [&](std::size_t i) -> std::string_view {
      return i < n ? std::string_view(parts[i]) : "";
    };

    if (n == 2 && seg(1) == "journal" && m == "GET") {
      journal_filter f;
      if (const auto v = q.get("since")) f.since = parse_uint(*v).value_or(0);
      if (const auto v = q.get("limit"))
        f.limit = static_cast<std::size_t>(parse_uint(*v).value_or(1000));
      if (const auto v = q.get("method")) f.method = std::string(*v);
      if (const auto v = q.get("task_id")) f.task_id = std::string(*v);
      if (const auto v = q.get("status")) f.status = static_cast<int>(parse_uint(*v).value_or(0));
      if (const auto v = q.get("endpoint")) {
        f.target = parse_endpoint(*v);
        if (!f.target)
          return reply(400, control_error("unknown endpoint \"" + std::string(*v) + "\""));
      }
      return reply(200, journal_.query(f));
    }
    if (n == 2 && seg(1) == "view" && m == "GET") {
      const auto& sc = world_.settings();
      return reply(200, json::object{
                            {"project_id", sc.project_id},
                            {"project_name", sc.project_name},
                            {"scenario", sc.name},
                            {"auth", to_string(options_.auth)},
                            {"speed", sc.speed},
                            {"started_at", format_rfc3339_ms(world_.start())},
                            {"now", format_rfc3339_ms(now)},
                            {"scenario_time_ms", world_.scenario_time(now).count()},
                            {"pagination", to_string(sc.pagination)},
                            {"not_found_status", sc.not_found_status},
                            {"datasets", world_.datasets_view(now)},
                            {"faults", world_.faults_json(now)},
                            {"journal", json::object{{"last_seq", journal_.last_seq()},
                                                     {"size", journal_.size()}}},
                            {"tokens", tokens_.size()},
                            {"locked_access_keys", verifier_.locked_count(now)},
                        });
    }
    if (n == 2 && seg(1) == "settings" && (m == "GET" || m == "PUT")) {
      if (m == "PUT") {
        json::value body;
        if (auto e = parse_body(body)) return *e;
        if (!body.is_object()) return reply(400, control_error("expected a JSON object"));
        for (const auto& member : body.get_object()) {
          // Named, not structured bindings: lambdas may not capture those (clang 14).
          const std::string_view key = member.key();
          const json::value& v = member.value();
          auto bad = [&](std::string what) {
            return reply(400, control_error(std::string(key) + ": " + what));
          };
          auto dur = [&]() -> std::optional<milliseconds> {
            return v.is_string() ? parse_duration(v.get_string()) : std::nullopt;
          };
          if (key == "pagination") {
            const auto pm = v.is_string() ? parse_pagination_mode(v.get_string()) : std::nullopt;
            if (!pm) return bad("expected \"page\" or \"record\"");
            world_.set_pagination(*pm);
          } else if (key == "not_found_status") {
            if (!v.is_int64() || (v.get_int64() != 400 && v.get_int64() != 404))
              return bad("expected 400 or 404");
            world_.set_not_found_status(static_cast<int>(v.get_int64()));
          } else if (key == "workforce_stats_default") {
            if (!v.is_bool()) return bad("expected true or false");
            world_.set_workforce_stats_default(v.get_bool());
          } else if (key == "acceptance_sync") {
            const auto d = dur();
            if (!d) return bad("expected a duration like \"5s\"");
            world_.set_acceptance_sync(*d);
          } else if (key == "max_skew") {
            const auto d = dur();
            if (!d) return bad("expected a duration like \"15m\"");
            verifier_.policy().max_skew = *d;
          } else if (key == "lockout_threshold") {
            if (!v.is_int64() || v.get_int64() < 0)
              return bad("expected an integer >= 0 (0 disables)");
            verifier_.policy().lockout_threshold = static_cast<std::size_t>(v.get_int64());
          } else if (key == "lockout_duration") {
            const auto d = dur();
            if (!d) return bad("expected a duration like \"5m\"");
            verifier_.policy().lockout_duration = *d;
          } else if (key == "token_lifetime") {
            const auto d = dur();
            if (!d || *d <= milliseconds{0}) return bad("expected a duration like \"24h\"");
            options_.token_lifetime = *d;
          } else {
            return bad(
                "unknown or read-only setting (changeable: pagination, not_found_status, "
                "workforce_stats_default, acceptance_sync, max_skew, lockout_threshold, "
                "lockout_duration, token_lifetime)");
          }
        }
      }
      const auto& sc = world_.settings();
      const auto& pol = verifier_.policy();
      return reply(200, json::object{
                            {"project_id", sc.project_id},
                            {"auth", to_string(options_.auth)},
                            {"speed", sc.speed},
                            {"pagination", to_string(sc.pagination)},
                            {"not_found_status", sc.not_found_status},
                            {"workforce_stats_default", sc.workforce_stats_default},
                            {"acceptance_sync", format_duration(sc.acceptance_sync)},
                            {"max_skew", format_duration(pol.max_skew)},
                            {"lockout_threshold", pol.lockout_threshold},
                            {"lockout_duration", format_duration(pol.lockout_duration)},
                            {"token_lifetime", format_duration(options_.token_lifetime)},
                        });
    }
    if (seg(1) == "faults") {
      if (n == 2 && m == "GET")
        return reply(200, json::object{{"faults", world_.faults_json(now)}});
      if (n == 2 && m == "DELETE") {
        world_.clear_faults();
        return reply(200, json::object{{"faults", json::array{}}});
      }
      if (n == 2 && m == "POST") {
        json::value body;
        if (auto e = parse_body(body)) return *e;
        auto f = read_fault(body, "");
        if (!f) return reply(400, control_error(f.error().to_string()));
        const auto id = world_.arm_fault(std::move(*f), now);
        return reply(201, json::object{{"id", id}});
      }
      if (n == 3 && m == "DELETE") {
        if (!world_.clear_fault(parts[2]))
          return reply(404, control_error("no fault \"" + parts[2] + "\""));
        return reply(200, json::object{{"id", parts[2]}, {"cleared", true}});
      }
    }
    if (seg(1) == "tasks" && n == 3) {
      const auto idx = world_.find_task(parts[2]);
      if (!idx) return reply(404, control_error("no task \"" + parts[2] + "\""));
      const auto& spec = world_.task(*idx);
      auto describe = [&] {
        return json::object{{"task_id", spec.task_id},
                            {"kind", to_string(spec.kind)},
                            {"dataset_id", spec.dataset_id},
                            {"visible", world_.is_visible(*idx, now)},
                            {"document", world_.render(*idx, now)}};
      };
      if (m == "GET") return reply(200, describe());
      if (m == "PATCH") {
        json::value body;
        if (auto e = parse_body(body)) return *e;
        if (!body.is_object())
          return reply(400, control_error("expected a JSON merge patch (an object)"));
        world_.patch_task(*idx, body.get_object(), flag(q, "freeze"), now);
        return reply(200, describe());
      }
      if (m == "DELETE") {
        world_.delete_task(*idx, now);
        return reply(200, json::object{{"task_id", spec.task_id}, {"deleted", true}});
      }
    }
    if (seg(1) == "datasets" && n == 2 && m == "POST") {
      json::value body;
      if (auto e = parse_body(body)) return *e;
      auto d = read_dataset(body, "");
      if (!d) return reply(400, control_error(d.error().to_string()));
      const auto id = d->dataset_id;
      if (auto e = world_.create_dataset(std::move(*d), now))
        return reply(400, control_error(e->error_code + " " + e->error_msg));
      return reply(201, json::object{{"dataset_id", id}});
    }
    if (seg(1) == "datasets" && n == 4 && m == "POST" &&
        (seg(3) == "auto-tasks" || seg(3) == "workforce-tasks")) {
      json::value body;
      if (auto e = parse_body(body)) return *e;
      const auto kind = seg(3) == "auto-tasks" ? task_kind::auto_labeling : task_kind::workforce;
      // The task id is optional here: generate one when absent.
      if (body.is_object() && !body.get_object().contains("task_id"))
        body.as_object()["task_id"] = world_.new_id();
      auto t = read_task(body, kind, parts[2], "");
      if (!t) return reply(400, control_error(t.error().to_string()));
      auto created = world_.create_task(std::move(*t), now);
      if (const auto* e = std::get_if<api_failure>(&created))
        return reply(400, control_error(e->error_code + " " + e->error_msg));
      return reply(201, json::object{{"task_id", std::get<std::string>(created)}});
    }
    if (n == 3 && seg(1) == "tokens" && seg(2) == "expire" && m == "POST") {
      tokens_.expire_all(now);
      return reply(200, json::object{{"expired", tokens_.size()}});
    }
    if (n == 2 && seg(1) == "lockouts" && m == "DELETE") {
      verifier_.reset_lockouts();
      return reply(200, json::object{{"cleared", true}});
    }
    return reply(
        404, control_error("no control endpoint " + std::string(m) + " " + std::string(r.path()) +
                           " (see the README's labelwatch-sim section)"));
  }();
  resp.headers.emplace_back("X-Request-Id", new_request_id());
  return resp;
}

}  // namespace labelwatch::sim
