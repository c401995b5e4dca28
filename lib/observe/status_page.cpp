// Renders the status page. The stylesheet is a constant so its hash can pin it in the
// Content-Security-Policy; widths are drawn with SVG attributes, never inline styles,
// which that policy would block.
#include "observe/status_page.hpp"

#include "core/crypto.hpp"

#include <openssl/evp.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace labelwatch::observe {
namespace {

constexpr std::string_view k_css = R"css(
:root{--bg:#f7f7f5;--fg:#1f2328;--muted:#656d76;--card:#fff;--line:#d8dee4;--accent:#3b6ea5;
--ok:#2f7d4f;--warn:#9a6700;--bad:#b42318;--idle:#8c959f;--bar:#e6e9ed}
@media (prefers-color-scheme:dark){:root{--bg:#16191d;--fg:#e6edf3;--muted:#9198a1;--card:#1f2328;
--line:#30363d;--accent:#6ca0dc;--ok:#4cb07a;--warn:#d4a72c;--bad:#f47067;--idle:#768390;--bar:#2d333b}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1.5rem;padding:1rem 1.5rem;border-bottom:1px solid var(--line);background:var(--card)}
header h1{font-size:1.2rem;margin:0;letter-spacing:.02em}
.meta,.sub{color:var(--muted)}
.sub{font-size:12px}
main{padding:1rem 1.5rem;max-width:1400px}
#health{padding:.6rem 1rem;border-radius:6px;margin:0 0 1rem;border:1px solid var(--line);background:var(--card)}
#health[data-ready=false]{border-color:var(--bad);color:var(--bad)}
.summary{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.summary li{background:var(--card);border:1px solid var(--line);border-radius:999px;padding:.15rem .75rem}
.summary .n{font-weight:600}
section.dataset{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0 0 1.25rem;overflow-x:auto}
section.dataset h2{font-size:1rem;margin:0;padding:.7rem 1rem;border-bottom:1px solid var(--line)}
h2 .sub{font-weight:400;margin-left:.5rem}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.55rem 1rem;border-bottom:1px solid var(--line)}
th{font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
tr:last-child td{border-bottom:0}
tr.task{border-left:4px solid transparent}
tr.task.is-stalled{border-left-color:var(--warn);background:color-mix(in srgb,var(--warn) 7%,transparent)}
tr.task.is-failed{border-left-color:var(--bad);background:color-mix(in srgb,var(--bad) 7%,transparent)}
.task-name{font-weight:600;word-break:break-word}
.badge{display:inline-block;border-radius:4px;padding:0 .45rem;font-size:12px;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.st-running,.st-queuing,.st-initialized,.st-starting,.st-accepting,.st-sampling,.st-syncing,.st-stopping{color:var(--accent)}
.st-succeeded,.st-accepted{color:var(--ok)}
.st-failed,.st-rejected{color:var(--bad)}
.st-stopped,.st-created,.st-unknown{color:var(--idle)}
.badge.stalled{color:var(--warn)}
progress{width:9rem;height:.6rem;vertical-align:middle;appearance:none;border:0;border-radius:3px;background:var(--bar)}
progress::-webkit-progress-bar{background:var(--bar);border-radius:3px}
progress::-webkit-progress-value{background:var(--accent);border-radius:3px}
progress::-moz-progress-bar{background:var(--accent);border-radius:3px}
.is-failed progress::-webkit-progress-value{background:var(--bad)}
.progress-value{margin-left:.5rem;font-variant-numeric:tabular-nums}
.breakdown{display:block;width:14rem;height:.6rem;margin:.25rem 0;border-radius:3px;background:var(--bar)}
.seg-unannotated{fill:#8c959f}.seg-unreviewed{fill:#d4a72c}.seg-uncheck{fill:#bf8700}.seg-sampled{fill:#8250df}
.seg-rejected{fill:#cf222e}.seg-accepted{fill:#2f7d4f}.seg-auto_annotation{fill:#3b6ea5}
dl.counts{display:grid;grid-template-columns:auto auto;gap:0 .75rem;margin:0;font-size:12px}
dl.counts dt{color:var(--muted)}dl.counts dd{margin:0;font-variant-numeric:tabular-nums;text-align:right}
.err{color:var(--bad);font-size:12px;word-break:break-word;margin-top:.2rem}
.empty{padding:1rem;color:var(--muted)}
#events .lvl-warning{color:var(--warn)}#events .lvl-error{color:var(--bad)}
#events td.fields{font-size:12px;color:var(--muted);word-break:break-word}
footer{padding:1rem 1.5rem;color:var(--muted);font-size:12px}
)css";

std::string base64(const std::uint8_t* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string fmt_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// "10%", "12.5%"; never rounds a task that is not done up to 100%.
std::string percent(double ratio) {
  double p = std::floor(ratio * 1000.0 + 1e-9) / 10.0;
  return fmt_fixed(p, 1) + "%";
}

// Ratio for a data attribute: plain decimal, no exponent.
std::string ratio_attr(double r) {
  return fmt_fixed(r, 6);
}

std::string id_fragment(std::string_view s) {
  // Ids stay readable and attribute-safe: anything outside [A-Za-z0-9_-] becomes '_'.
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string time_of_day(sys_time t) {
  const auto s = format_rfc3339_ms(t);  // 2020-11-24T02:20:00.278Z
  return s.size() >= 19 ? s.substr(11, 8) : s;
}

struct writer {
  std::string out;
  writer& raw(std::string_view s) {
    out.append(s);
    return *this;
  }
  writer& text(std::string_view s) {
    out.append(html_escape(s));
    return *this;
  }
  writer& num(std::int64_t v) {
    out.append(std::to_string(v));
    return *this;
  }
};

bool problem(const task_view& t) {
  return t.failed() || t.stalled;
}

void render_counts(writer& w, const std::vector<std::pair<std::string, std::int64_t>>& counts,
                   std::string_view cls) {
  if (counts.empty()) return;
  w.raw("<dl class=\"counts ").raw(cls).raw("\">");
  for (const auto& [state, n] : counts) {
    w.raw("<dt>")
        .text(state)
        .raw("</dt><dd data-state=\"")
        .text(state)
        .raw("\">")
        .num(n)
        .raw("</dd>");
  }
  w.raw("</dl>");
}

// A stacked bar of the workforce sample states (total and deleted are not segments).
void render_breakdown(writer& w, const task_view& t) {
  std::int64_t sum = 0;
  for (const auto& [state, n] : t.samples)
    if (state != "total" && state != "deleted" && n > 0) sum += n;
  if (sum <= 0) return;
  w.raw(
      "<svg class=\"breakdown\" viewBox=\"0 0 1000 10\" preserveAspectRatio=\"none\" "
      "role=\"img\" aria-label=\"sample breakdown\">");
  std::int64_t x = 0;
  for (const auto& [state, n] : t.samples) {
    if (state == "total" || state == "deleted" || n <= 0) continue;
    const std::int64_t width = n * 1000 / sum;
    w.raw("<rect class=\"seg-")
        .text(id_fragment(state))
        .raw("\" x=\"")
        .num(x)
        .raw("\" y=\"0\" width=\"")
        .num(std::max<std::int64_t>(width, 1))
        .raw("\" height=\"10\"><title>")
        .text(state)
        .raw(": ")
        .num(n)
        .raw("</title></rect>");
    x += width;
  }
  w.raw("</svg>");
}

void render_task(writer& w, const task_view& t, sys_time now) {
  const auto kind = to_string(t.kind);
  const auto status = t.status();
  w.raw("<tr class=\"task");
  if (t.stalled) w.raw(" is-stalled");
  if (t.failed()) w.raw(" is-failed");
  w.raw("\" id=\"task-")
      .raw(kind)
      .raw("-")
      .text(id_fragment(t.dataset_id))
      .raw("-")
      .text(id_fragment(t.task_id))
      .raw("\" data-kind=\"")
      .raw(kind)
      .raw("\" data-dataset-id=\"")
      .text(t.dataset_id)
      .raw("\" data-task-id=\"")
      .text(t.task_id)
      .raw("\" data-status=\"")
      .text(status)
      .raw("\" data-status-code=\"")
      .num(t.status_code)
      .raw("\" data-progress=\"")
      .raw(t.progress_ratio ? ratio_attr(*t.progress_ratio) : "")
      .raw("\" data-stalled=\"")
      .raw(t.stalled ? "true" : "false")
      .raw("\" data-failed=\"")
      .raw(t.failed() ? "true" : "false")
      .raw("\">");

  // Task
  w.raw("<td><div class=\"task-name\">");
  if (t.task_name.empty()) {
    w.raw("<span class=\"sub\">(no name)</span>");
  } else {
    w.text(t.task_name);
  }
  w.raw("</div><div class=\"sub\">")
      .raw(t.kind == task_kind::auto_labeling ? "auto-labeling" : "team labeling")
      .raw(" &middot; <code class=\"task-id\">")
      .text(t.task_id)
      .raw("</code></div></td>");

  // Status
  w.raw("<td><span class=\"badge status st-")
      .text(id_fragment(status))
      .raw("\">")
      .text(status)
      .raw("</span>");
  if (t.stalled) w.raw(" <span class=\"badge stalled\">stalled</span>");
  if (t.status_since) {
    w.raw("<div class=\"sub\">for <span class=\"time-in-status\">")
        .text(format_age(std::chrono::duration_cast<milliseconds>(now - *t.status_since)))
        .raw("</span></div>");
  }
  if (!t.api_error_code.empty() || !t.api_error_msg.empty()) {
    w.raw("<div class=\"err api-error\">");
    if (!t.api_error_code.empty()) w.raw("<code>").text(t.api_error_code).raw("</code> ");
    w.text(t.api_error_msg).raw("</div>");
  }
  w.raw("</td>");

  // Progress
  w.raw("<td>");
  if (t.progress_ratio) {
    w.raw("<progress max=\"1\" value=\"")
        .raw(ratio_attr(*t.progress_ratio))
        .raw("\">")
        .raw(percent(*t.progress_ratio))
        .raw("</progress><span class=\"progress-value\">")
        .raw(percent(*t.progress_ratio))
        .raw("</span>");
  } else {
    w.raw("<span class=\"sub\">&ndash;</span>");
  }
  if (t.kind == task_kind::workforce) render_breakdown(w, t);
  w.raw("</td>");

  // Samples
  w.raw("<td>");
  render_counts(w, t.samples, "samples");
  w.raw("</td>");

  // Acceptance
  w.raw("<td>");
  if (t.kind == task_kind::workforce) {
    render_counts(w, t.acceptance, "acceptance");
    w.raw("<div class=\"sub\">");
    bool any = false;
    const auto sep = [&] {
      if (any) w.raw(" &middot; ");
      any = true;
    };
    if (t.acceptance_pass_rate) {
      sep();
      w.raw("pass <span class=\"acceptance-pass-rate\">")
          .raw(percent(*t.acceptance_pass_rate))
          .raw("</span>");
    } else if (t.pass_rate) {
      sep();
      w.raw("pass <span class=\"pass-rate\">").raw(percent(*t.pass_rate)).raw("</span>");
    }
    if (!t.acceptance_score.empty()) {
      sep();
      w.raw("score <span class=\"acceptance-score\">").text(t.acceptance_score).raw("</span>");
    }
    if (t.score) {
      sep();
      w.raw("avg score ").raw(fmt_fixed(*t.score, 2));
    }
    if (t.check_rate) {
      sep();
      w.raw("checked ").raw(percent(*t.check_rate));
    }
    if (!any && t.acceptance.empty()) w.raw("&ndash;");
    w.raw("</div>");
  }
  w.raw("</td>");

  // Last read
  w.raw("<td>");
  if (t.last_success) {
    w.raw("<span class=\"last-success\" title=\"")
        .raw(format_rfc3339_ms(*t.last_success))
        .raw("\">")
        .text(format_age(std::chrono::duration_cast<milliseconds>(now - *t.last_success)))
        .raw(" ago</span>");
  } else {
    w.raw("<span class=\"sub\">never</span>");
  }
  if (!t.last_error.empty()) {
    w.raw("<div class=\"err last-error\">");
    if (t.last_error_at) w.raw(time_of_day(*t.last_error_at)).raw(" ");
    w.text(t.last_error).raw("</div>");
  }
  w.raw("</td></tr>");
}

void render_event(writer& w, const event& e) {
  const auto level = to_string(e.level);
  w.raw("<tr class=\"event\" data-event=\"")
      .text(e.name)
      .raw("\" data-level=\"")
      .raw(level)
      .raw("\"><td title=\"")
      .raw(format_rfc3339_ms(e.ts))
      .raw("\">")
      .raw(time_of_day(e.ts))
      .raw("</td><td class=\"lvl-")
      .raw(level)
      .raw("\">")
      .raw(level)
      .raw("</td><td><code>")
      .text(e.name)
      .raw("</code></td><td>");
  if (e.task) {
    w.raw("<span class=\"task-name\">")
        .text(e.task_name.empty() ? e.task->task_id : e.task_name)
        .raw("</span> <span class=\"sub\">")
        .raw(to_string(e.task->kind))
        .raw(" &middot; ")
        .text(e.task->dataset_id)
        .raw("</span>");
  }
  w.raw("</td><td class=\"fields\">");
  bool first = true;
  for (const auto& kv : e.fields) {
    if (!first) w.raw(" &middot; ");
    first = false;
    w.text(kv.key()).raw("=");
    const auto& v = kv.value();
    if (v.is_string()) {
      w.text(v.get_string());
    } else if (v.is_double()) {
      // Boost.JSON writes 70.0 as "7E1"; people read "70".
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", v.get_double());
      w.raw(buf);
    } else {
      w.text(boost::json::serialize(v));
    }
  }
  w.raw("</td></tr>");
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

const std::string& status_page_csp() {
  static const std::string csp = [] {
    const auto digest = sha256(k_css);
    return "default-src 'none'; style-src 'sha256-" + base64(digest.data(), digest.size()) +
           "'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  }();
  return csp;
}

std::string render_status_page(const status_page_input& in) {
  const auto now = in.health.now;
  writer w;
  w.out.reserve(4096 + in.tasks.size() * 1500 + in.events.size() * 300);

  w.raw(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
  if (in.refresh.count() > 0)
    w.raw("<meta http-equiv=\"refresh\" content=\"").num(in.refresh.count()).raw("\">");
  w.raw("<title>labelwatch</title><style>").raw(k_css).raw("</style></head><body>");

  // Header
  std::size_t stalled = 0, failed = 0, active = 0;
  for (const auto& t : in.tasks) {
    if (t.stalled) ++stalled;
    if (t.failed()) ++failed;
    if (status_class_of(t.kind, t.status_code) == status_class::active) ++active;
  }
  w.raw("<header><h1>labelwatch</h1><span class=\"meta\">");
  if (!in.health.version.empty()) w.raw("version ").text(in.health.version).raw(" &middot; ");
  w.raw("updated <time id=\"updated\" datetime=\"")
      .raw(format_rfc3339_ms(now))
      .raw("\">")
      .raw(format_rfc3339_ms(now))
      .raw("</time>");
  if (in.health.started) {
    w.raw(" &middot; up ")
        .text(format_age(std::chrono::duration_cast<milliseconds>(now - *in.health.started)));
  }
  w.raw("</span></header><main>");

  const auto ready = evaluate_readiness(in.health);
  w.raw("<p id=\"health\" data-ready=\"")
      .raw(ready.ok ? "true" : "false")
      .raw("\">")
      .text(ready.ok ? "Ready: watching " + std::to_string(in.tasks.size()) + " tasks."
                     : ready.reason)
      .raw("</p>");

  w.raw(
       "<ul class=\"summary\" id=\"summary\">"
       "<li><span class=\"n\" id=\"count-tasks\">")
      .num(static_cast<std::int64_t>(in.tasks.size()))
      .raw("</span> tasks</li><li><span class=\"n\" id=\"count-active\">")
      .num(static_cast<std::int64_t>(active))
      .raw("</span> active</li><li><span class=\"n\" id=\"count-stalled\">")
      .num(static_cast<std::int64_t>(stalled))
      .raw("</span> stalled</li><li><span class=\"n\" id=\"count-failed\">")
      .num(static_cast<std::int64_t>(failed))
      .raw("</span> failed</li></ul>");

  // Tasks by dataset; inside a dataset problems first, then by kind and name.
  std::map<std::string_view, std::vector<const task_view*>> by_dataset;
  for (const auto& t : in.tasks) by_dataset[t.dataset_id].push_back(&t);
  if (by_dataset.empty()) w.raw("<p class=\"empty\">No tasks are watched yet.</p>");
  for (auto& [dataset, tasks] : by_dataset) {
    std::stable_sort(tasks.begin(), tasks.end(), [](const task_view* a, const task_view* b) {
      if (problem(*a) != problem(*b)) return problem(*a);
      if (a->kind != b->kind) return a->kind < b->kind;
      if (a->task_name != b->task_name) return a->task_name < b->task_name;
      return a->task_id < b->task_id;
    });
    w.raw("<section class=\"dataset\" id=\"dataset-")
        .text(id_fragment(dataset))
        .raw("\" data-dataset-id=\"")
        .text(dataset)
        .raw("\"><h2>Dataset <code>")
        .text(dataset)
        .raw("</code><span class=\"sub\">")
        .num(static_cast<std::int64_t>(tasks.size()))
        .raw(tasks.size() == 1 ? " task" : " tasks")
        .raw(
            "</span></h2>"
            "<table class=\"tasks\"><thead><tr><th>Task</th><th>Status</th><th>Progress</th>"
            "<th>Samples</th><th>Acceptance</th><th>Last read</th></tr></thead><tbody>");
    for (const auto* t : tasks) render_task(w, *t, now);
    w.raw("</tbody></table></section>");
  }

  // Events
  w.raw(
      "<section class=\"dataset\" id=\"recent-events\"><h2>Latest events<span class=\"sub\">"
      "newest first</span></h2>");
  if (in.events.empty()) {
    w.raw("<p class=\"empty\">No events yet.</p>");
  }
  w.raw("<table id=\"events\"><tbody>");
  for (const auto* e : in.events) render_event(w, *e);
  w.raw(
      "</tbody></table></section></main><footer>Metrics: <a href=\"/metrics\">/metrics</a>"
      " &middot; JSON: <a href=\"/api/v1/tasks\">/api/v1/tasks</a>, "
      "<a href=\"/api/v1/events\">/api/v1/events</a>");
  if (in.refresh.count() > 0) w.raw(" &middot; refreshes every ").num(in.refresh.count()).raw("s");
  w.raw("</footer></body></html>\n");
  return std::move(w.out);
}

}  // namespace labelwatch::observe
