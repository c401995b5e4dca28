#include "observe/status_page.hpp"

#include "core/crypto.hpp"
#include "fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

using namespace labelwatch;
using namespace labelwatch::observe;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fx = observe::fixtures;

namespace {

const sys_time k_now = from_unix_ms(1606188000000);

status_page_input base_input() {
  status_page_input in;
  in.health.now = k_now;
  in.health.last_loop_turn = k_now;
  in.health.config_loaded = in.health.auth_ok = in.health.first_poll_done = true;
  in.health.version = "0.1.0";
  return in;
}

// The <tr> of a task, by element id.
std::string row(const std::string& html, const std::string& id) {
  const auto start = html.find("id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  const auto open = html.rfind("<tr", start);
  const auto close = html.find("</tr>", start);
  return html.substr(open, close - open);
}

}  // namespace

TEST(html_escape, escapes_the_five) {
  EXPECT_EQ(html_escape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(status_page, user_strings_are_escaped_everywhere) {
  auto in = base_input();
  auto t = make_task_view(task_key{task_kind::auto_labeling, "ds\"'&<x>", "id<script>"},
                          fx::seed_auto_task());
  t.task_name = "<script>alert(1)</script>";
  t.status_code = 2;
  t.api_error_code = "<b>code</b>";
  t.api_error_msg = "boom \"'& <img src=x onerror=alert(2)>";
  t.last_error = "<iframe>";
  t.last_error_at = k_now;
  in.tasks.push_back(t);
  auto e = make_task_event(k_now, event_level::error, "task_status_changed",
                           task_key{task_kind::auto_labeling, "ds\"'&<x>", "id<script>"},
                           "<script>alert(3)</script>");
  e.fields["error_msg"] = "<svg onload=alert(4)>";
  e.fields["<k>"] = 1;
  in.events.push_back(&e);
  const auto html = render_status_page(in);

  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<iframe")));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("<svg onload")));
  EXPECT_THAT(html, Not(HasSubstr("<x>")));
  EXPECT_THAT(html, Not(HasSubstr("<k>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(3)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("boom &quot;&#39;&amp; &lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_THAT(html, HasSubstr("data-dataset-id=\"ds&quot;&#39;&amp;&lt;x&gt;\""));
  EXPECT_THAT(html, HasSubstr("data-task-id=\"id&lt;script&gt;\""));
  // Element ids stay attribute-safe.
  EXPECT_THAT(html, HasSubstr("id=\"task-auto-ds____x_-id_script_\""));
}

TEST(status_page, tasks_are_grouped_by_dataset_in_order) {
  auto in = base_input();
  in.tasks.push_back(make_task_view(fx::auto_key("zeta", "a1"), fx::seed_auto_task()));
  in.tasks.push_back(make_task_view(fx::workforce_key("alpha", "w1"), fx::seed_workforce_task()));
  in.tasks.push_back(make_task_view(fx::auto_key("alpha", "a2"), fx::seed_auto_task()));
  const auto html = render_status_page(in);
  const auto alpha = html.find("data-dataset-id=\"alpha\"");
  const auto zeta = html.find("data-dataset-id=\"zeta\"");
  ASSERT_NE(alpha, std::string::npos);
  ASSERT_NE(zeta, std::string::npos);
  EXPECT_LT(alpha, zeta);
  const auto a2 = html.find("id=\"task-auto-alpha-a2\"");
  const auto w1 = html.find("id=\"task-workforce-alpha-w1\"");
  const auto a1 = html.find("id=\"task-auto-zeta-a1\"");
  EXPECT_LT(alpha, a2);
  EXPECT_LT(a2, zeta);
  EXPECT_LT(w1, zeta);
  EXPECT_GT(a1, zeta);
  EXPECT_THAT(html, HasSubstr("<span class=\"n\" id=\"count-tasks\">3</span>"));
}

TEST(status_page, stalled_and_failed_are_highlighted_and_first) {
  auto in = base_input();
  auto ok = make_task_view(fx::auto_key("ds", "aaa-ok"), fx::seed_auto_task());
  ok.task_name = "a-fine";
  auto failed = make_task_view(fx::auto_key("ds", "zzz-failed"), fx::seed_auto_task());
  failed.task_name = "z-failed";
  failed.status_code = 2;
  auto stalled = make_task_view(fx::workforce_key("ds", "stalled"), fx::seed_workforce_task());
  stalled.stalled = true;
  in.tasks = {ok, failed, stalled};
  const auto html = render_status_page(in);

  const auto f = row(html, "task-auto-ds-zzz-failed");
  EXPECT_THAT(f, HasSubstr("class=\"task is-failed\""));
  EXPECT_THAT(f, HasSubstr("data-failed=\"true\""));
  EXPECT_THAT(f, HasSubstr("data-status=\"failed\""));
  const auto s = row(html, "task-workforce-ds-stalled");
  EXPECT_THAT(s, HasSubstr("class=\"task is-stalled\""));
  EXPECT_THAT(s, HasSubstr("data-stalled=\"true\""));
  EXPECT_THAT(s, HasSubstr("<span class=\"badge stalled\">stalled</span>"));
  const auto o = row(html, "task-auto-ds-aaa-ok");
  EXPECT_THAT(o, HasSubstr("class=\"task\""));
  EXPECT_THAT(o, HasSubstr("data-stalled=\"false\""));
  EXPECT_THAT(o, HasSubstr("data-failed=\"false\""));
  // Problems come first within the dataset.
  EXPECT_LT(html.find("task-auto-ds-zzz-failed"), html.find("task-auto-ds-aaa-ok"));
  EXPECT_LT(html.find("task-workforce-ds-stalled"), html.find("task-auto-ds-aaa-ok"));
  EXPECT_THAT(html, HasSubstr("<span class=\"n\" id=\"count-stalled\">1</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"n\" id=\"count-failed\">1</span>"));
}

TEST(status_page, status_progress_and_time_in_status) {
  auto in = base_input();
  auto t = make_task_view(fx::auto_key(), fx::seed_auto_task());
  t.status_since = k_now - 3h - 12min - 5s;
  t.last_success = k_now - 4s;
  in.tasks.push_back(t);
  const auto r = row(render_status_page(in), "task-auto-WxCREuCkBSAlQr9xrde-XGrRZuCV1qmMxnsmD5u");
  EXPECT_THAT(r, HasSubstr("data-status=\"running\""));
  EXPECT_THAT(r, HasSubstr("data-status-code=\"1\""));
  EXPECT_THAT(r, HasSubstr("data-progress=\"0.1\""));
  EXPECT_THAT(r, HasSubstr("<span class=\"badge status st-running\">running</span>"));
  EXPECT_THAT(r, HasSubstr("<progress max=\"1\" value=\"0.1\">10%</progress>"));
  EXPECT_THAT(r, HasSubstr("<span class=\"progress-value\">10%</span>"));
  EXPECT_THAT(r, HasSubstr("<span class=\"time-in-status\">3h 12m</span>"));
  EXPECT_THAT(r, HasSubstr(">4s ago</span>"));
  EXPECT_THAT(r, HasSubstr("<dd data-state=\"total\">49</dd>"));
  EXPECT_THAT(r, HasSubstr("<dd data-state=\"annotated\">30</dd>"));
}

TEST(status_page, progress_never_rounds_up_to_done) {
  auto in = base_input();
  auto t = make_task_view(fx::auto_key(), fx::seed_auto_task());
  t.progress_ratio = 0.99999;
  in.tasks.push_back(t);
  EXPECT_THAT(render_status_page(in), HasSubstr("<span class=\"progress-value\">99.9%</span>"));
}

TEST(status_page, team_task_breakdown_and_acceptance) {
  auto in = base_input();
  in.tasks.push_back(make_task_view(fx::workforce_key(), fx::accepting_workforce_task()));
  const auto r =
      row(render_status_page(in), "task-workforce-WxCREuCkBSAlQr9xrde-iYZx7gScPUozOXner9k");
  for (const char* s : {"total", "unannotated", "unreviewed", "uncheck", "sampled", "rejected",
                        "accepted", "auto_annotation"}) {
    EXPECT_THAT(r, HasSubstr(std::string("<dd data-state=\"") + s + "\">")) << s;
  }
  EXPECT_THAT(r, HasSubstr("<dd data-state=\"unannotated\">310</dd>"));
  EXPECT_THAT(r, HasSubstr("<dl class=\"counts acceptance\">"));
  EXPECT_THAT(r, HasSubstr("<dd data-state=\"checked\">50</dd>"));
  EXPECT_THAT(r, HasSubstr("<dd data-state=\"unchecked\">13</dd>"));
  EXPECT_THAT(r, HasSubstr("<span class=\"acceptance-pass-rate\">96%</span>"));
  EXPECT_THAT(r, HasSubstr("<span class=\"acceptance-score\">A</span>"));
  EXPECT_THAT(r, HasSubstr("<svg class=\"breakdown\""));
  EXPECT_THAT(r, HasSubstr("class=\"seg-unannotated\""));
  EXPECT_THAT(r, HasSubstr("class=\"seg-accepted\""));
}

TEST(status_page, refreshes_itself_and_loads_nothing) {
  auto in = base_input();
  auto html = render_status_page(in);
  EXPECT_THAT(html, HasSubstr("<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("style=\"")));  // the CSP would block inline styles
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, HasSubstr("No tasks are watched yet."));
  in.refresh = 0s;
  EXPECT_THAT(render_status_page(in), Not(HasSubstr("http-equiv=\"refresh\"")));
}

TEST(status_page, csp_pins_the_inline_stylesheet) {
  const auto html = render_status_page(base_input());
  const auto open = html.find("<style>") + 7;
  const auto close = html.find("</style>");
  const auto digest = sha256(std::string_view(html).substr(open, close - open));
  std::string b64(44, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest.data(), 32);
  EXPECT_THAT(status_page_csp(), HasSubstr("style-src 'sha256-" + b64 + "'"));
  EXPECT_THAT(status_page_csp(), HasSubstr("default-src 'none'"));
  EXPECT_EQ(html.find("<style>", close), std::string::npos) << "exactly one stylesheet";
}

TEST(status_page, health_banner) {
  auto in = base_input();
  in.health.auth_ok = false;
  in.health.auth_problem = "401 <APIG.0301>";
  const auto html = render_status_page(in);
  EXPECT_THAT(html, HasSubstr("<p id=\"health\" data-ready=\"false\">not ready: authentication not "
                              "working: 401 &lt;APIG.0301&gt;</p>"));
}

TEST(status_page, latest_events_newest_first) {
  auto in = base_input();
  auto e1 =
      make_task_event(k_now - 1min, event_level::warning, "task_stalled", fx::auto_key(), "cars");
  auto e2 =
      make_task_event(k_now, event_level::info, "task_status_changed", fx::auto_key(), "cars");
  e2.fields["from"] = "running";
  e2.fields["to"] = "succeeded";
  e2.fields["progress"] = 70.0;
  e2.fields["seconds_in_previous"] = 3600;
  in.events = {&e2, &e1};
  const auto html = render_status_page(in);
  const auto p2 = html.find("data-event=\"task_status_changed\" data-level=\"info\"");
  const auto p1 = html.find("data-event=\"task_stalled\" data-level=\"warning\"");
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p2, p1);
  EXPECT_THAT(html, HasSubstr("from=running &middot; to=succeeded &middot; progress=70 &middot; "
                              "seconds_in_previous=3600"));
}
