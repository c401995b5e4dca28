// Event sinks (DESIGN.md "Events", `[events] log`): where labelwatch::event values go once
// the core has produced them. One JSON object per line on stdout, in a file or in the
// systemd journal; an in-memory ring of recent events behind /api/v1/events and the
// status page; a fan-out that hands one event to every sink.
//
// Threading: sinks are driven from the event loop; none of them is thread-safe.
//
// Blocking: no sink may hold the loop for long.
// - stdout: one write(2) per line. If stdout is a pipe whose reader has stalled, the
//   sink waits at most `write_timeout` for room, then drops the line and counts it.
//   Terminals and regular files are always writable. The process must ignore SIGPIPE
//   (a closed reader then shows up as EPIPE, counted like any write error).
// - file: one write(2) per line on an O_APPEND descriptor (page cache; no fsync). A
//   failed write (ENOSPC, EIO, ...) drops the line and counts it; nothing throws.
// - journal: one sd_journal_sendv() datagram per event; journald's own rate limiting
//   applies. Without a journal socket libsystemd drops events silently; other send
//   errors count as failures.
// The webhook sink (HMAC-signed POST, retries, bounded queue) will be one more
// event_sink whose deliver() only enqueues; the fan-out needs no change for it.
#pragma once

#include "config/config.hpp"
#include "core/event.hpp"
#include "observe/io_error.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace labelwatch::observe {

class event_sink {
 public:
  virtual ~event_sink() = default;

  // Short stable name for diagnostics and the dropped-events counter: "stdout", "file",
  // "journal", "ring", "webhook".
  virtual std::string_view name() const noexcept = 0;

  // Delivers one event; `json_line` is e.to_json_line(), rendered once by the caller
  // (no trailing newline). Returns false if the event was dropped (already counted in
  // failures()). Never throws for I/O failures.
  virtual bool deliver(const event& e, std::string_view json_line) = 0;

  // Re-opens whatever the sink writes to (log rotation on SIGHUP). Returns an error
  // description and keeps the old target when the new one cannot be opened.
  virtual io_result<void> reopen() { return {}; }

  // Events dropped since start.
  std::uint64_t failures() const noexcept { return failures_; }

 protected:
  std::uint64_t failures_ = 0;
};

// JSON lines on a file descriptor that the sink does not own (stdout by default).
class stream_sink final : public event_sink {
 public:
  explicit stream_sink(int fd = 1,
                       std::chrono::milliseconds write_timeout = std::chrono::milliseconds{
                           50}) noexcept;
  std::string_view name() const noexcept override { return "stdout"; }
  bool deliver(const event& e, std::string_view json_line) override;

 private:
  int fd_;
  std::chrono::milliseconds write_timeout_;
  bool failing_ = false;
  std::string buf_;
  std::string pending_;  // the unwritten rest of a line a stalled reader interrupted
};

// JSON lines appended to a file (created 0640 if missing).
class file_sink final : public event_sink {
 public:
  // Opens `path` for appending. Fails with a message naming the path and the OS error.
  static io_result<std::unique_ptr<file_sink>> open(std::string path);
  ~file_sink() override;
  file_sink(const file_sink&) = delete;
  file_sink& operator=(const file_sink&) = delete;

  std::string_view name() const noexcept override { return "file"; }
  bool deliver(const event& e, std::string_view json_line) override;
  // Opens the path again (after logrotate moved the file) and swaps descriptors.
  io_result<void> reopen() override;
  const std::string& path() const noexcept { return path_; }

 private:
  file_sink(std::string path, int fd) noexcept : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  bool failing_ = false;
  bool broken_line_ = false;  // a short write left a fragment at the end of the file
  std::string buf_;
};

// The journal fields of an event, each "NAME=value": MESSAGE (the JSON line), PRIORITY
// (syslog level from the event level), EVENT, and for task events TASK_KIND, TASK_ID,
// DATASET_ID; plus SYSLOG_IDENTIFIER. Pure; what journal_sink sends.
std::vector<std::string> journal_fields(const event& e, std::string_view json_line,
                                        std::string_view identifier);
// syslog priority of an event level: debug 7, info 6, warning 4, error 3.
int journal_priority(event_level level) noexcept;

class journal_sink final : public event_sink {
 public:
  explicit journal_sink(std::string identifier = "labelwatchd");
  std::string_view name() const noexcept override { return "journal"; }
  bool deliver(const event& e, std::string_view json_line) override;

 private:
  std::string identifier_;
  bool failing_ = false;
};

// The last `capacity` events, oldest dropped first. Backs /api/v1/events and the status
// page.
class event_ring final : public event_sink {
 public:
  struct entry {
    std::uint64_t seq;  // 1, 2, ... in delivery order
    event ev;
    std::string json_line;
  };

  explicit event_ring(std::size_t capacity);
  std::string_view name() const noexcept override { return "ring"; }
  bool deliver(const event& e, std::string_view json_line) override;

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return entries_.size(); }
  // Up to `n` most recent events, newest first.
  std::vector<const entry*> latest(std::size_t n) const;

 private:
  std::size_t capacity_;
  std::uint64_t next_seq_ = 1;
  std::deque<entry> entries_;
};

// Delivers each event to every sink, rendering the JSON line once. A sink that throws
// or drops never keeps the event from the others.
class event_fanout {
 public:
  void add(std::shared_ptr<event_sink> sink);
  // Removes every sink (a reload that changes [events] log rebuilds the list).
  void clear() noexcept { sinks_.clear(); }
  const std::vector<std::shared_ptr<event_sink>>& sinks() const noexcept { return sinks_; }

  // Called with the sink's name for every dropped delivery (wire it to
  // metrics::count_event_dropped).
  void on_drop(std::function<void(std::string_view sink)> f) { on_drop_ = std::move(f); }

  void publish(const event& e);
  // reopen() on every sink; returns the first failure, after trying them all.
  io_result<void> reopen_all();

 private:
  std::vector<std::shared_ptr<event_sink>> sinks_;
  std::function<void(std::string_view)> on_drop_;
};

// The sink `[events] log` names: "stdout", "journal", or a file path (an empty value
// means stdout). Fails when the file cannot be opened.
io_result<std::shared_ptr<event_sink>> make_log_sink(const config::events_config& cfg);

}  // namespace labelwatch::observe
