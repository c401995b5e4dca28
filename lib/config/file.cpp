// The configuration's file-system edge: reading the TOML file and checking the files it
// names. Everything else about configuration is pure (reader.cpp).
#include "config/check.hpp"
#include "config/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace labelwatch::config {
namespace {

// A configuration is a few kilobytes; anything this large is the wrong file.
constexpr std::size_t k_max_config_bytes = 1024 * 1024;

std::string errno_text(int e) { return std::error_code{e, std::generic_category()}.message(); }

class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_{fd} {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string mode_text(mode_t mode) {
  std::string out = "0";
  for (int shift = 6; shift >= 0; shift -= 3)
    out += static_cast<char>('0' + ((mode >> shift) & 7));
  return out;
}

// "/run/credentials/<unit>" for a path systemd's LoadCredential= provides.
std::string credentials_dir(const std::string& path) {
  constexpr std::string_view prefix = "/run/credentials/";
  if (!path.starts_with(prefix)) return {};
  const auto slash = path.find('/', prefix.size());
  if (slash == std::string::npos || slash == prefix.size()) return {};
  return path.substr(0, slash);
}

// Directories that systemd creates when the service starts (StateDirectory=,
// LogsDirectory=, CacheDirectory=, RuntimeDirectory=).
bool systemd_managed(const std::string& dir) {
  for (std::string_view root : {"/var/lib/", "/var/log/", "/var/cache/", "/run/"})
    if (dir.starts_with(root)) return true;
  return false;
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class checker {
 public:
  checker(const daemon_config& cfg, const env_lookup& env) : cfg_{cfg}, env_{env} {}

  file_check_report run() {
    file("cloud.ca_file", cfg_.cloud.ca_file, false);
    const auto& a = cfg_.auth;
    if (a.method == auth_method::aksk) {
      file("auth.access_key_file", a.access_key_file, true);
      file("auth.secret_key_file", a.secret_key_file, true);
      if (a.access_key_file.empty() && (!env_set("HUAWEICLOUD_SDK_AK") || !env_set("HUAWEICLOUD_SDK_SK")))
        add(false, "auth",
            "access_key_file and secret_key_file are not set, and HUAWEICLOUD_SDK_AK and "
            "HUAWEICLOUD_SDK_SK are not both set in this environment; labelwatchd needs one "
            "or the other when it starts");
    } else if (a.method == auth_method::token) {
      file("auth.password_file", a.password_file, true);
      if (a.password_file.empty() && !env_set("HUAWEICLOUD_SDK_PASSWORD"))
        add(false, "auth",
            "password_file is not set and HUAWEICLOUD_SDK_PASSWORD is not set in this "
            "environment; labelwatchd needs one or the other when it starts");
    }
    file("server.tls_cert_file", cfg_.server.tls_cert_file, false);
    file("server.tls_key_file", cfg_.server.tls_key_file, true);
    file("server.basic_auth_password_file", cfg_.server.basic_auth_password_file, true);
    file("events.webhook_secret_file", cfg_.events.webhook_secret_file, true);
    file("events.webhook_ca_file", cfg_.events.webhook_ca_file, false);
    writable("state.path", cfg_.state.path);
    if (cfg_.events.log != "stdout" && cfg_.events.log != "journal")
      writable("events.log", cfg_.events.log);
    const auto by_line = [](const config_error& x, const config_error& y) { return x.line < y.line; };
    std::stable_sort(report_.errors.begin(), report_.errors.end(), by_line);
    std::stable_sort(report_.notes.begin(), report_.notes.end(), by_line);
    return std::move(report_);
  }

 private:
  std::size_t line(std::string_view key) const {
    // A key that was not written takes its table's line.
    for (std::string_view k = key;;) {
      if (const auto it = cfg_.key_lines.find(k); it != cfg_.key_lines.end()) return it->second;
      const auto dot = k.rfind('.');
      if (dot == std::string_view::npos) return 0;
      k = k.substr(0, dot);
    }
  }

  void add(bool error, std::string_view key, std::string message) {
    config_error e{cfg_.source, std::string{key}, line(key), std::move(message)};
    (error ? report_.errors : report_.notes).push_back(std::move(e));
  }

  bool env_set(const char* name) const {
    const char* v = env_ ? env_(name) : std::getenv(name);
    return v != nullptr && *v != '\0';
  }

  void file(std::string_view key, const std::string& path, bool secret) {
    if (path.empty()) return;
    const std::string creds = credentials_dir(path);
    struct stat st {};
    if (!creds.empty() && ::stat(creds.c_str(), &st) != 0) {
      add(false, key,
          creds + " does not exist here: systemd creates it from LoadCredential= when the "
                  "service starts, so " + path + " is checked only then");
      return;
    }
    if (::stat(path.c_str(), &st) != 0) {
      add(true, key, "cannot use " + path + ": " + errno_text(errno));
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      add(true, key, path + " is not a regular file");
      return;
    }
    if (::access(path.c_str(), R_OK) != 0) {
      add(true, key, path + " is not readable by this user: " + errno_text(errno));
      return;
    }
    if (secret && creds.empty() && (st.st_mode & S_IROTH) != 0)
      add(false, key,
          path + " holds a secret but every user can read it (mode " +
              mode_text(st.st_mode & 0777) + "); use mode 0600 or systemd LoadCredential=");
  }

  // A file the daemon creates or appends to: its directory must be writable.
  void writable(std::string_view key, const std::string& path) {
    const std::string dir = parent_dir(path);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      const int e = errno;
      if (e == ENOENT && systemd_managed(dir))
        add(false, key,
            "directory " + dir + " does not exist yet; labelwatchd does not create it (under "
                                 "systemd, StateDirectory=/LogsDirectory= create it at start)");
      else
        add(true, key, "cannot use directory " + dir + ": " + errno_text(e));
      return;
    }
    if (!S_ISDIR(st.st_mode)) {
      add(true, key, dir + " is not a directory");
      return;
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      add(true, key, "directory " + dir + " is not writable by this user: " + errno_text(errno));
      return;
    }
    if (::stat(path.c_str(), &st) != 0) return;  // created on first start
    if (!S_ISREG(st.st_mode)) {
      add(true, key, path + " exists and is not a regular file");
      return;
    }
    if (::access(path.c_str(), R_OK | W_OK) != 0)
      add(true, key, path + " is not readable and writable by this user: " + errno_text(errno));
  }

  const daemon_config& cfg_;
  const env_lookup& env_;
  file_check_report report_;
};

}  // namespace

config_result load_config_file(const std::string& path) {
  const auto fail = [&](std::string message) {
    return config_result{std::vector<config_error>{config_error{path, {}, 0, std::move(message)}}};
  };
  const fd_guard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.get() < 0) return fail("cannot read the configuration: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail("cannot read the configuration: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return fail("is a directory; expected a TOML file");
  // Not only regular files: `--check-config /dev/stdin` is handy in pipelines.
  std::string text;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot read the configuration: " + errno_text(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > k_max_config_bytes)
      return fail("is larger than 1 MiB; this is not a labelwatch configuration file");
  }
  return parse_config(text, path);
}

file_check_report check_referenced_files(const daemon_config& cfg, const env_lookup& env) {
  return checker{cfg, env}.run();
}

}  // namespace labelwatch::config
