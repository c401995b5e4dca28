#include "sim_checks.hpp"
#include "core/json_text.hpp"

#include "sim/document.hpp"
#include "sim/service.hpp"
#include "sim/world.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace labelwatch::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "sim property violated: %s\n", what.c_str());
  std::abort();
}

void expect(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

// Equal JSON, numbers within a relative 1e-12: Boost.JSON 1.81 does not always parse
// a double to the nearest value, so a printed number may read back an ulp away.
bool close(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    const auto &oa = a.get_object(), &ob = b.get_object();
    if (oa.size() != ob.size()) return false;
    for (const auto& [k, v] : oa) {
      const auto* w = ob.if_contains(k);
      if (!w || !close(v, *w)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto &aa = a.get_array(), &ab = b.get_array();
    if (aa.size() != ab.size()) return false;
    for (std::size_t i = 0; i < aa.size(); ++i)
      if (!close(aa[i], ab[i])) return false;
    return true;
  }
  return a == b;
}

bool valid_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

const sys_time t0 = from_unix_ms(1'700'000'000'000);

// Keeps each input fast: big generated sample sets and huge task counts are legal but
// take seconds to simulate, which is not what the fuzzer should spend time on.
bool small_enough(const sim::scenario& s) {
  std::size_t samples = 0;
  for (const auto& d : s.datasets) {
    samples += d.samples.size();
    if (d.generator) samples += d.generator->count;
  }
  return samples <= 2000 && s.tasks.size() <= 200;
}

}  // namespace

void check_sim_scenario(std::string_view data) {
  auto a = sim::parse_scenario(data, "fuzz.json");
  auto b = sim::parse_scenario(data, "fuzz.json");
  expect(a.has_value() == b.has_value(), "parse_scenario is not deterministic");
  if (!a) {
    const auto text = a.error().to_string();
    expect(text == b.error().to_string(), "error messages differ between runs");
    expect(!a.error().message.empty(), "empty error message");
    expect(text.find('\n') == std::string::npos, "multi-line error: " + text);
    expect(text.size() < 4096, "unbounded error message");
    return;
  }
  const auto dumped = sim::scenario_to_json(*a);
  auto again = sim::parse_scenario(boost::json::serialize(dumped), "dump");
  if (!again) fail("the dump of a valid scenario does not read back: " + again.error().to_string());
  expect(close(sim::scenario_to_json(*again), dumped), "dump does not round-trip");
  if (!small_enough(*a)) return;
  sim::world w(std::move(*a), t0, 1);
  for (const auto dt : {0, 1'000, 90'000, 3'600'000}) {
    const auto now = t0 + std::chrono::milliseconds(dt);
    for (std::size_t i = 0; i < w.task_count(); ++i) {
      const auto doc = json_text(w.render(i, now));
      expect(valid_json(doc), "a rendered task is not valid JSON: " + doc.substr(0, 200));
    }
    for (std::size_t d = 0; d < w.dataset_count(); ++d)
      expect(valid_json(json_text(w.dataset_document(d, now))), "dataset document not JSON");
    expect(valid_json(json_text(w.datasets_view(now))), "view not JSON");
  }
}

void check_sim_requests(std::string_view data) {
  // The script: requests separated by lines "----"; in each, line 1 the method, line 2
  // the target, then "Name: value" header lines up to an empty line, then the body.
  // Skipped: inputs that ask for huge generated bodies or sample sets (legal, slow).
  if (data.find("oversized") != std::string_view::npos ||
      data.find("generate_samples") != std::string_view::npos)
    return;
  sim::service_options opt;
  opt.auth = sim::auth_mode::none;
  opt.iam_password = "pw";
  sim::service svc(sim::builtin_scenario("seeds").value(), opt, t0, 3);
  bool faults_armed = false;
  auto now = t0;
  std::size_t start = 0;
  while (start <= data.size()) {
    auto end = data.find("\n----\n", start);
    if (end == std::string_view::npos) end = data.size();
    const auto chunk = data.substr(start, end - start);
    start = end + 6;
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    std::string_view body;
    while (pos <= chunk.size()) {
      auto nl = chunk.find('\n', pos);
      if (nl == std::string_view::npos) nl = chunk.size();
      const auto line = chunk.substr(pos, nl - pos);
      pos = nl + 1;
      if (lines.size() >= 2 && line.empty()) {
        body = pos <= chunk.size() ? chunk.substr(pos) : std::string_view{};
        break;
      }
      lines.push_back(line);
    }
    sim::request_view r;
    r.method = lines.size() > 0 ? lines[0] : "GET";
    r.target = lines.size() > 1 ? lines[1] : "/";
    for (std::size_t i = 2; i < lines.size(); ++i) {
      const auto colon = lines[i].find(':');
      if (colon == std::string_view::npos) continue;
      r.headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 1));
    }
    r.body = body;
    r.from_loopback = true;
    if (r.path().starts_with("/_sim/faults") && r.method == "POST") faults_armed = true;
    if (r.path().starts_with("/_sim/datasets")) faults_armed = true;  // may add odd samples
    const auto resp = svc.handle(r, now);
    expect(resp.status == 0 || (resp.status >= 100 && resp.status <= 599),
           "status out of range: " + std::to_string(resp.status));
    expect(resp.header("X-Request-Id").has_value(), "answer without X-Request-Id");
    const bool api = !r.path().starts_with("/_sim");
    if (resp.action == sim::wire_action::respond && (resp.status >= 400 || !api))
      expect(valid_json(resp.body),
             "an error or control body is not JSON: " + resp.body.substr(0, 200));
    if (api && !faults_armed && resp.status >= 200 && resp.status < 300)
      expect(valid_json(resp.body), "a ModelArts body is not JSON: " + resp.body.substr(0, 200));
    now += std::chrono::seconds(1);
    if (end == data.size()) break;
  }
}

}  // namespace labelwatch::fuzz
