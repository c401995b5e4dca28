#include "observe/events.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace labelwatch;
using namespace labelwatch::observe;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

event task_event(int i) {
  auto e = make_task_event(from_unix_ms(1606184400278 + i), event_level::warning, "task_stalled",
                           task_key{task_kind::workforce, "ds1", "t1"},
                           "name with \"quotes\" and\nnewline");
  e.fields["i"] = i;
  return e;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "lw-events-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path = tmpl;
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void publish_to(event_sink& s, const event& e) {
  s.deliver(e, e.to_json_line());
}

}  // namespace

TEST(file_sink, writes_one_complete_json_object_per_line) {
  temp_dir d;
  const auto path = d.path / "events.jsonl";
  auto sink = file_sink::open(path.string());
  ASSERT_TRUE(sink) << sink.error().message;
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE((*sink)->deliver(task_event(i), task_event(i).to_json_line()));

  const auto text = read_file(path);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto v = boost::json::parse(lines[static_cast<std::size_t>(i)]);
    EXPECT_EQ(v.at("event").as_string(), "task_stalled");
    EXPECT_EQ(v.at("i").as_int64(), i);
    EXPECT_EQ(v.at("task_name").as_string(), "name with \"quotes\" and\nnewline");
    EXPECT_EQ(lines[static_cast<std::size_t>(i)], task_event(i).to_json_line());
  }
  EXPECT_EQ((*sink)->failures(), 0u);
}

TEST(file_sink, appends_to_an_existing_file) {
  temp_dir d;
  const auto path = d.path / "events.jsonl";
  { std::ofstream(path) << "{\"earlier\":1}\n"; }
  auto sink = file_sink::open(path.string());
  ASSERT_TRUE(sink);
  publish_to(**sink, task_event(1));
  EXPECT_EQ(read_lines(path).size(), 2u);
  EXPECT_EQ(read_lines(path)[0], "{\"earlier\":1}");
}

TEST(file_sink, reopen_follows_log_rotation) {
  temp_dir d;
  const auto path = d.path / "events.jsonl";
  auto sink = file_sink::open(path.string());
  ASSERT_TRUE(sink);
  publish_to(**sink, task_event(1));
  fs::rename(path, d.path / "events.jsonl.1");
  publish_to(**sink, task_event(2));  // still the old (renamed) file
  ASSERT_TRUE((*sink)->reopen());
  publish_to(**sink, task_event(3));
  EXPECT_EQ(read_lines(d.path / "events.jsonl.1").size(), 2u);
  const auto fresh = read_lines(path);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(boost::json::parse(fresh[0]).at("i").as_int64(), 3);
}

TEST(file_sink, reopen_failure_keeps_the_old_file) {
  temp_dir d;
  const auto dir = d.path / "sub";
  fs::create_directory(dir);
  auto sink = file_sink::open((dir / "events.jsonl").string());
  ASSERT_TRUE(sink);
  fs::rename(dir, d.path / "moved");
  auto r = (*sink)->reopen();
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr((dir / "events.jsonl").string()));
  EXPECT_TRUE((*sink)->deliver(task_event(1), task_event(1).to_json_line()));
  EXPECT_EQ(read_lines(d.path / "moved" / "events.jsonl").size(), 1u);
}

TEST(file_sink, open_failure_names_the_path_and_the_reason) {
  auto sink = file_sink::open("/nonexistent-dir-lw/events.jsonl");
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().message,
            "event log /nonexistent-dir-lw/events.jsonl: No such file or directory");
  EXPECT_THROW((void)sink.value(), std::runtime_error);
}

TEST(file_sink, full_disk_is_counted_not_fatal) {
  // /dev/full answers every write with ENOSPC.
  auto sink = file_sink::open("/dev/full");
  ASSERT_TRUE(sink) << sink.error().message;
  EXPECT_FALSE((*sink)->deliver(task_event(1), task_event(1).to_json_line()));
  EXPECT_FALSE((*sink)->deliver(task_event(2), task_event(2).to_json_line()));
  EXPECT_EQ((*sink)->failures(), 2u);
}

TEST(stream_sink, writes_whole_lines_to_a_pipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  stream_sink sink(fds[1]);
  EXPECT_EQ(sink.name(), "stdout");
  EXPECT_TRUE(sink.deliver(task_event(1), task_event(1).to_json_line()));
  EXPECT_TRUE(sink.deliver(task_event(2), task_event(2).to_json_line()));
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(got, task_event(1).to_json_line() + "\n" + task_event(2).to_json_line() + "\n");
}

TEST(stream_sink, stalled_reader_costs_a_bounded_wait_and_a_counted_drop) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_GE(::fcntl(fds[1], F_SETPIPE_SZ, 4096), 0);
  // Fill the pipe completely without blocking.
  const int flags = ::fcntl(fds[1], F_GETFL);
  ::fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
  std::string filler(4096, 'x');
  filler.back() = '\n';
  ASSERT_EQ(::write(fds[1], filler.data(), filler.size()), 4096);
  ::fcntl(fds[1], F_SETFL, flags);  // the sink gets a blocking descriptor, like stdout

  stream_sink sink(fds[1], std::chrono::milliseconds{20});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(sink.deliver(task_event(1), task_event(1).to_json_line()));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(sink.failures(), 1u);

  // The reader catches up: the next event goes through whole.
  std::string drained(4096, '\0');
  ASSERT_EQ(::read(fds[0], drained.data(), drained.size()), 4096);
  EXPECT_TRUE(sink.deliver(task_event(2), task_event(2).to_json_line()));
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(got, task_event(2).to_json_line() + "\n");
}

TEST(journal, priority_follows_syslog_levels) {
  EXPECT_EQ(journal_priority(event_level::debug), 7);
  EXPECT_EQ(journal_priority(event_level::info), 6);
  EXPECT_EQ(journal_priority(event_level::warning), 4);
  EXPECT_EQ(journal_priority(event_level::error), 3);
}

TEST(journal, fields_of_a_task_event) {
  const auto e = task_event(7);
  const auto line = e.to_json_line();
  EXPECT_THAT(
      journal_fields(e, line, "labelwatchd"),
      ElementsAre("MESSAGE=" + line, "PRIORITY=4", "SYSLOG_IDENTIFIER=labelwatchd",
                  "EVENT=task_stalled", "TASK_KIND=workforce", "DATASET_ID=ds1", "TASK_ID=t1"));
}

TEST(journal, fields_of_a_non_task_event) {
  event e;
  e.name = "config_reloaded";
  e.level = event_level::info;
  EXPECT_THAT(
      journal_fields(e, "{}", "x"),
      ElementsAre("MESSAGE={}", "PRIORITY=6", "SYSLOG_IDENTIFIER=x", "EVENT=config_reloaded"));
}

TEST(journal, sending_without_journald_is_silent) {
  // libsystemd drops datagrams silently when no journal socket exists (ENOENT), so a
  // daemon configured for the journal keeps running outside systemd.
  journal_sink sink("labelwatch-unit-test");
  EXPECT_NO_THROW(sink.deliver(task_event(1), task_event(1).to_json_line()));
  if (!fs::exists("/run/systemd/journal/socket")) {
    EXPECT_EQ(sink.failures(), 0u);
  }
}

TEST(event_ring, keeps_the_last_n_newest_first) {
  event_ring ring(3);
  for (int i = 1; i <= 5; ++i) publish_to(ring, task_event(i));
  EXPECT_EQ(ring.size(), 3u);
  const auto all = ring.latest(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]->seq, 5u);
  EXPECT_EQ(all[1]->seq, 4u);
  EXPECT_EQ(all[2]->seq, 3u);
  EXPECT_EQ(all[0]->json_line, task_event(5).to_json_line());
  EXPECT_EQ(all[2]->ev.fields.at("i").as_int64(), 3);
  const auto one = ring.latest(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]->seq, 5u);
  EXPECT_TRUE(ring.latest(0).empty());
}

namespace {
struct throwing_sink final : event_sink {
  std::string_view name() const noexcept override { return "broken"; }
  bool deliver(const event&, std::string_view) override { throw std::logic_error("bug"); }
};
struct dropping_sink final : event_sink {
  std::string_view name() const noexcept override { return "dropper"; }
  bool deliver(const event&, std::string_view) override {
    ++failures_;
    return false;
  }
};
}  // namespace

TEST(event_fanout, delivers_to_every_sink_despite_failures) {
  event_fanout fan;
  auto ring_a = std::make_shared<event_ring>(10);
  auto ring_b = std::make_shared<event_ring>(10);
  fan.add(ring_a);
  fan.add(std::make_shared<throwing_sink>());
  fan.add(std::make_shared<dropping_sink>());
  fan.add(ring_b);
  std::vector<std::string> dropped;
  fan.on_drop([&](std::string_view s) { dropped.emplace_back(s); });
  fan.publish(task_event(1));
  EXPECT_EQ(ring_a->size(), 1u);
  EXPECT_EQ(ring_b->size(), 1u);
  EXPECT_EQ(ring_b->latest(1)[0]->json_line, task_event(1).to_json_line());
  EXPECT_THAT(dropped, ElementsAre("broken", "dropper"));
}

TEST(make_log_sink, picks_the_sink_the_config_names) {
  temp_dir d;
  config::events_config c;
  c.log = "stdout";
  EXPECT_EQ((*make_log_sink(c))->name(), "stdout");
  c.log = "";
  EXPECT_EQ((*make_log_sink(c))->name(), "stdout");
  c.log = "journal";
  EXPECT_EQ((*make_log_sink(c))->name(), "journal");
  c.log = (d.path / "e.jsonl").string();
  EXPECT_EQ((*make_log_sink(c))->name(), "file");
  EXPECT_TRUE(fs::exists(d.path / "e.jsonl"));
  c.log = (d.path / "missing" / "e.jsonl").string();
  auto bad = make_log_sink(c);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("missing/e.jsonl"));
}
