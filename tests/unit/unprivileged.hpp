// Permission tests that still prove something when the suite runs as root (CI
// containers do): root bypasses file permissions, so "cannot read" or "cannot write"
// must be checked by a user without privileges. As root, the check runs in a forked
// child that first drops to uid/gid 65534 (nobody) with no supplementary groups.
#pragma once

#include <grp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

namespace labelwatch::testing {

inline constexpr uid_t k_unprivileged_uid = 65534;
inline constexpr gid_t k_unprivileged_gid = 65534;

inline bool running_as_root() {
  return ::geteuid() == 0;
}

// Runs `fn` without privileges and returns its result. Not root: in this process. Root:
// in a forked child that calls setgroups(0), setresgid and setresuid(65534) first; the
// result comes back through a pipe. Throws std::runtime_error when the child cannot
// drop privileges or dies without reporting. `fn` must not use gtest assertions (they
// would not reach the parent): return what the parent should check.
inline std::string as_unprivileged(const std::function<std::string()>& fn) {
  if (!running_as_root()) return fn();
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgroups(0, nullptr) != 0 ||
        ::setresgid(k_unprivileged_gid, k_unprivileged_gid, k_unprivileged_gid) != 0 ||
        ::setresuid(k_unprivileged_uid, k_unprivileged_uid, k_unprivileged_uid) != 0 ||
        ::geteuid() == 0) {
      out = std::string("\x01could not drop privileges: ") + std::strerror(errno);
    } else {
      try {
        out = fn();
      } catch (const std::exception& e) {
        out = std::string("\x01exception: ") + e.what();
      }
    }
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
      const auto n = ::write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(left == 0 ? 0 : 1);  // no atexit handlers, no leak check of the parent's heap
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the unprivileged child died (status " + std::to_string(status) + ")");
  if (!out.empty() && out[0] == '\x01') throw std::runtime_error(out.substr(1));
  return out;
}

// Lets the unprivileged user enter and write `dir` when running as root (mode 0777), so
// that only the permission under test differs. Does nothing otherwise.
inline void open_to_unprivileged(const std::filesystem::path& dir) {
  if (running_as_root()) std::filesystem::permissions(dir, std::filesystem::perms::all);
}

}  // namespace labelwatch::testing
