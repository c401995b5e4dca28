// Reading credentials from files and the environment (see credentials.hpp).
#include "auth/credentials.hpp"

#include <sys/stat.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace labelwatch::auth {
namespace {

constexpr std::size_t k_max_credential_size = 64 * 1024;

template <class T>
credential_result<T> fail(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Reads a whole (small) file. The message names the path and the OS reason only.
credential_result<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return fail<std::string>("cannot read " + std::string(what) + " file " + path + ": " +
                             (err != 0 ? std::strerror(err) : "cannot open"));
  }
  std::string content;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    content.append(buf, static_cast<std::size_t>(in.gcount()));
    if (content.size() > k_max_credential_size) {
      secret wipe(std::move(content));  // the partial content is wiped on the way out
      return fail<std::string>(std::string(what) + " file " + path + " is larger than 64 KiB");
    }
  }
  if (in.bad()) return fail<std::string>("cannot read " + std::string(what) + " file " + path);
  return {boost::system::in_place_value, std::move(content)};
}

// One value by the documented resolution order.
credential_result<secret> load_one(const std::string& configured_file, std::string_view env_name,
                                   std::string_view default_name, std::string_view what,
                                   std::string_view config_key, bool no_whitespace,
                                   const env_lookup& env) {
  if (!configured_file.empty()) {
    const auto path = resolve_credential_path(configured_file, env);
    auto content = read_file(path, what);
    if (!content) return fail<secret>(content.error());
    return parse_credential(std::move(*content), std::string(what) + " file " + path,
                            no_whitespace);
  }
  if (auto value = env(env_name); value && !value->empty())
    return parse_credential(
        std::move(*value),
        std::string(what) + " from environment variable " + std::string(env_name), no_whitespace);
  if (auto dir = env(k_env_credentials_directory); dir && !dir->empty()) {
    const auto path = *dir + "/" + std::string(default_name);
    if (file_exists(path)) {
      auto content = read_file(path, what);
      if (!content) return fail<secret>(content.error());
      return parse_credential(std::move(*content), std::string(what) + " file " + path,
                              no_whitespace);
    }
  }
  return fail<secret>("no " + std::string(what) + ": set [auth] " + std::string(config_key) +
                      ", or the environment variable " + std::string(env_name) +
                      ", or provide the systemd credential \"" + std::string(default_name) +
                      "\" (LoadCredential=)");
}

}  // namespace

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string n(name);
    const char* v = std::getenv(n.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

credential_result<secret> parse_credential(std::string content, std::string_view source,
                                           bool no_whitespace) {
  secret holder(std::move(content));  // wiped on every path out
  std::string_view v = holder.reveal();
  if (v.ends_with('\n')) v.remove_suffix(1);
  if (v.ends_with('\r')) v.remove_suffix(1);
  if (v.empty()) return fail<secret>(std::string(source) + " is empty");
  for (const char c : v) {
    if (c == '\n' || c == '\r')
      return fail<secret>(std::string(source) + " holds more than one line");
    if (c == '\0') return fail<secret>(std::string(source) + " contains a NUL byte");
    if (no_whitespace && (c == ' ' || c == '\t'))
      return fail<secret>(std::string(source) + " contains whitespace");
  }
  return secret(std::string(v));
}

std::string resolve_credential_path(std::string_view configured, const env_lookup& env) {
  std::string path(configured);
  if (path.empty() || path.front() == '/') return path;
  if (auto dir = env(k_env_credentials_directory); dir && !dir->empty()) return *dir + "/" + path;
  return path;
}

credential_result<aksk_credentials> load_aksk(const config::auth_config& auth,
                                              const env_lookup& env) {
  auto ak = load_one(auth.access_key_file, k_env_access_key, "ak", "access key", "access_key_file",
                     true, env);
  if (!ak) return fail<aksk_credentials>(ak.error());
  auto sk = load_one(auth.secret_key_file, k_env_secret_key, "sk", "secret key", "secret_key_file",
                     true, env);
  if (!sk) return fail<aksk_credentials>(sk.error());
  return aksk_credentials{std::move(*ak), std::move(*sk)};
}

credential_result<secret> load_password(const config::auth_config& auth, const env_lookup& env) {
  return load_one(auth.password_file, k_env_password, "password", "IAM password", "password_file",
                  false, env);
}

credential_result<std::optional<secret>> load_webhook_secret(const config::events_config& events,
                                                             const env_lookup& env) {
  using out = credential_result<std::optional<secret>>;
  constexpr std::string_view what = "webhook secret";
  const auto from = [](credential_result<secret> r) -> out {
    if (!r) return {boost::system::in_place_error, r.error()};
    return std::optional<secret>(std::move(*r));
  };
  if (!events.webhook_secret_file.empty()) {
    const auto path = resolve_credential_path(events.webhook_secret_file, env);
    auto content = read_file(path, what);
    if (!content) return {boost::system::in_place_error, content.error()};
    return from(parse_credential(std::move(*content), "webhook secret file " + path, false));
  }
  if (auto value = env(k_env_webhook_secret); value && !value->empty())
    return from(parse_credential(std::move(*value),
                                 "webhook secret from environment variable " +
                                     std::string(k_env_webhook_secret),
                                 false));
  if (auto dir = env(k_env_credentials_directory); dir && !dir->empty()) {
    const auto path = *dir + "/webhook-secret";
    if (file_exists(path)) {
      auto content = read_file(path, what);
      if (!content) return {boost::system::in_place_error, content.error()};
      return from(parse_credential(std::move(*content), "webhook secret file " + path, false));
    }
  }
  return std::optional<secret>{};
}

}  // namespace labelwatch::auth
