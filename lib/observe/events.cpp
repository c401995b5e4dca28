// Event sinks: stdout, file, journal, ring, fan-out.
#include "observe/events.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace labelwatch::observe {
namespace {

using steady = std::chrono::steady_clock;

std::string os_error(int err) {
  return std::strerror(err);
}

// Waits until `fd` accepts a write or `deadline` passes. Regular files and terminals
// are always ready; this only ever waits on a pipe or socket whose reader stalled.
bool wait_writable(int fd, steady::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    pollfd p{fd, POLLOUT, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (rc > 0) return (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let write() report the real problem
  }
}

// Writes as much of `data` as the deadline allows, in pieces of at most PIPE_BUF after a
// readiness check, so a blocking pipe never holds us past the deadline. Returns the
// bytes written; sets `err` on a write error.
std::size_t write_bounded(int fd, std::string_view data, steady::time_point deadline, int& err) {
  std::size_t done = 0;
  err = 0;
  while (done < data.size()) {
    if (!wait_writable(fd, deadline)) break;
    const std::size_t n = std::min<std::size_t>(data.size() - done, PIPE_BUF);
    const ssize_t w = ::write(fd, data.data() + done, n);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (steady::now() >= deadline) break;
    } else {
      err = w < 0 ? errno : EIO;
      break;
    }
  }
  return done;
}

// One write(2) for the whole line on a regular file; retries only short writes.
std::size_t write_file(int fd, std::string_view data, int& err) {
  std::size_t done = 0;
  err = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      err = w < 0 ? errno : EIO;
      break;
    }
  }
  return done;
}

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

}  // namespace

// ---- stdout -----------------------------------------------------------------------

stream_sink::stream_sink(int fd, std::chrono::milliseconds write_timeout) noexcept
    : fd_(fd), write_timeout_(write_timeout) {}

bool stream_sink::deliver(const event&, std::string_view json_line) {
  const auto deadline = steady::now() + write_timeout_;
  int err = 0;
  // The rest of a line a stalled reader left half-written goes first, so every line
  // the reader sees stays whole.
  if (!pending_.empty()) {
    const auto n = write_bounded(fd_, pending_, deadline, err);
    pending_.erase(0, n);
  }
  bool ok = pending_.empty() && err == 0;
  if (ok) {
    buf_.assign(json_line);
    buf_.push_back('\n');
    const auto n = write_bounded(fd_, buf_, deadline, err);
    if (n > 0 && n < buf_.size() && err == 0) pending_.assign(buf_, n);
    ok = n > 0 && err == 0;
  }
  if (!ok) {
    ++failures_;
    if (!failing_) {
      spdlog::warn("event output (stdout) {}; events are being dropped",
                   err != 0 ? os_error(err) : std::string("is not accepting writes"));
    }
  } else if (failing_) {
    spdlog::info("event output (stdout) is accepting writes again after {} dropped events",
                 failures_);
  }
  failing_ = !ok;
  return ok;
}

// ---- file -------------------------------------------------------------------------

io_result<std::unique_ptr<file_sink>> file_sink::open(std::string path) {
  const int fd = open_append(path);
  if (fd < 0) return io_error{"event log " + path + ": " + os_error(errno)};
  return std::unique_ptr<file_sink>(new file_sink(std::move(path), fd));
}

file_sink::~file_sink() {
  if (fd_ >= 0) ::close(fd_);
}

bool file_sink::deliver(const event&, std::string_view json_line) {
  buf_.clear();
  // After a short write (disk full) the file ends in a fragment: end it, so this
  // line and the following ones stay whole and parseable.
  if (broken_line_) buf_.push_back('\n');
  buf_.append(json_line);
  buf_.push_back('\n');
  int err = 0;
  const auto n = write_file(fd_, buf_, err);
  const bool ok = n == buf_.size();
  if (!ok) {
    ++failures_;
    // The file now ends mid-line unless nothing (or everything up to a newline) landed.
    if (n > 0) broken_line_ = buf_[n - 1] != '\n';
    if (!failing_) {
      spdlog::warn("event log {}: {}; events are being dropped", path_,
                   os_error(err != 0 ? err : EIO));
    }
  } else {
    broken_line_ = false;
    if (failing_) {
      spdlog::info("event log {}: writing again after {} dropped events", path_, failures_);
    }
  }
  failing_ = !ok;
  return ok;
}

io_result<void> file_sink::reopen() {
  const int fd = open_append(path_);
  if (fd < 0) return io_error{"event log " + path_ + ": " + os_error(errno)};
  ::close(fd_);
  fd_ = fd;
  broken_line_ = false;
  return {};
}

// ---- journal ----------------------------------------------------------------------

int journal_priority(event_level level) noexcept {
  switch (level) {
    case event_level::debug:
      return 7;
    case event_level::info:
      return 6;
    case event_level::warning:
      return 4;
    case event_level::error:
      break;
  }
  return 3;
}

std::vector<std::string> journal_fields(const event& e, std::string_view json_line,
                                        std::string_view identifier) {
  std::vector<std::string> f;
  f.reserve(8);
  f.push_back("MESSAGE=" + std::string(json_line));
  f.push_back("PRIORITY=" + std::to_string(journal_priority(e.level)));
  f.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
  f.push_back("EVENT=" + e.name);
  if (e.task) {
    f.push_back("TASK_KIND=" + std::string(to_string(e.task->kind)));
    f.push_back("DATASET_ID=" + e.task->dataset_id);
    f.push_back("TASK_ID=" + e.task->task_id);
  }
  return f;
}

journal_sink::journal_sink(std::string identifier) : identifier_(std::move(identifier)) {}

bool journal_sink::deliver(const event& e, std::string_view json_line) {
  const auto fields = journal_fields(e, json_line, identifier_);
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& f : fields) {
    // sd_journal_sendv only reads the buffers.
    iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
  }
  const int rc = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
  const bool ok = rc >= 0;
  if (!ok) {
    ++failures_;
    if (!failing_) spdlog::warn("journal: {}; events are being dropped", os_error(-rc));
  } else if (failing_) {
    spdlog::info("journal: accepting events again after {} dropped events", failures_);
  }
  failing_ = !ok;
  return ok;
}

// ---- ring -------------------------------------------------------------------------

event_ring::event_ring(std::size_t capacity) : capacity_(capacity) {}

bool event_ring::deliver(const event& e, std::string_view json_line) {
  if (capacity_ == 0) return true;
  if (entries_.size() == capacity_) entries_.pop_front();
  entries_.push_back(entry{next_seq_++, e, std::string(json_line)});
  return true;
}

std::vector<const event_ring::entry*> event_ring::latest(std::size_t n) const {
  std::vector<const entry*> out;
  n = std::min(n, entries_.size());
  out.reserve(n);
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < n; ++it)
    out.push_back(&*it);
  return out;
}

// ---- fan-out ----------------------------------------------------------------------

void event_fanout::add(std::shared_ptr<event_sink> sink) {
  if (sink) sinks_.push_back(std::move(sink));
}

void event_fanout::publish(const event& e) {
  const std::string line = e.to_json_line();
  for (const auto& sink : sinks_) {
    bool ok = false;
    try {
      ok = sink->deliver(e, line);
    } catch (const std::exception& ex) {
      // A sink bug must not cost the other sinks the event, nor the caller its loop.
      spdlog::error("event sink {}: {}", sink->name(), ex.what());
    }
    if (!ok && on_drop_) on_drop_(sink->name());
  }
}

io_result<void> event_fanout::reopen_all() {
  io_result<void> first = {};
  for (const auto& sink : sinks_) {
    auto r = sink->reopen();
    if (!r && first) first = r;
  }
  return first;
}

io_result<std::shared_ptr<event_sink>> make_log_sink(const config::events_config& cfg) {
  if (cfg.log.empty() || cfg.log == "stdout")
    return std::shared_ptr<event_sink>(std::make_shared<stream_sink>());
  if (cfg.log == "journal") return std::shared_ptr<event_sink>(std::make_shared<journal_sink>());
  auto f = file_sink::open(cfg.log);
  if (!f) return f.error();
  return std::shared_ptr<event_sink>(std::move(*f));
}

}  // namespace labelwatch::observe
