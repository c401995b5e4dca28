// Checks the files a configuration refers to, at the I/O edge (labelwatch, not core).
//
// Nothing is read: files are stat()ed and access()ed only, so no secret passes through
// here. Used by `labelwatchd --check-config` and at start-up.
#pragma once

#include "config/reader.hpp"

#include <functional>
#include <vector>

namespace labelwatch::config {

struct file_check_report {
  // The daemon cannot run like this: a file that is missing or unreadable, a state
  // directory it cannot write.
  std::vector<config_error> errors;
  // Worth knowing, not fatal: credentials that systemd provides only once the service
  // starts (/run/credentials/<unit>/...), a directory systemd creates at start
  // (StateDirectory=, LogsDirectory=), secrets falling back to environment variables
  // that are not set here, a secret file readable by every user.
  std::vector<config_error> notes;
};

// Environment lookup; returns nullptr when unset. Empty means std::getenv.
using env_lookup = std::function<const char*(const char*)>;

// Checks, for the keys that are set and relevant to the configured auth method:
//   regular readable files  cloud.ca_file, auth.access_key_file, auth.secret_key_file,
//                           auth.password_file, server.tls_cert_file, server.tls_key_file,
//                           server.basic_auth_password_file, events.webhook_secret_file
//   writable directory      state.path's directory (and the file, if it exists);
//                           events.log's directory when it is a file path
// and, when a secret has no file, that its environment variable is set (a note: the
// service may get its environment elsewhere). Each entry carries cfg.source, the key
// and its line from cfg.key_lines. Never throws for file-system errors.
file_check_report check_referenced_files(const daemon_config& cfg, const env_lookup& env = {});

}  // namespace labelwatch::config
