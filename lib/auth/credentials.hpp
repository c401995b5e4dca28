// Where the AK/SK pair and the IAM password come from, read once at start-up (and on
// reload) at the I/O edge. Nothing read here is ever logged or put in a message: errors
// name the file or variable and the problem, never the content.
//
// Resolution, for each value (AK, SK, password), first match wins:
//   1. the file configured in [auth] (access_key_file, secret_key_file, password_file).
//      A relative path is resolved against $CREDENTIALS_DIRECTORY when that is set
//      (systemd LoadCredential=), else against the working directory. A configured file
//      that cannot be read is an error; there is no fallback past an explicit setting.
//   2. the environment: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PASSWORD.
//   3. $CREDENTIALS_DIRECTORY/ak, /sk, /password when that directory is set and the file
//      exists (LoadCredential=ak:/etc/labelwatch/ak needs no [auth] setting at all).
// File content: one trailing newline ("\n" or "\r\n") is removed; nothing else is
// trimmed. An empty value, a line break or NUL inside, or a file over 64 KiB is an
// error. AK and SK must in addition be free of whitespace.
#pragma once

#include "auth/secret.hpp"
#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace labelwatch::auth {

inline constexpr std::string_view k_env_access_key = "HUAWEICLOUD_SDK_AK";
inline constexpr std::string_view k_env_secret_key = "HUAWEICLOUD_SDK_SK";
inline constexpr std::string_view k_env_password = "HUAWEICLOUD_SDK_PASSWORD";
inline constexpr std::string_view k_env_credentials_directory = "CREDENTIALS_DIRECTORY";
inline constexpr std::string_view k_env_webhook_secret = "LABELWATCH_WEBHOOK_SECRET";

struct aksk_credentials {
  secret access_key;
  secret secret_key;
};

// Looks up an environment variable; nullopt when unset. Tests pass their own.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
env_lookup process_environment();

template <class T>
using credential_result = boost::system::result<T, std::string>;

// Both keys of the AK/SK pair, by the resolution order above.
credential_result<aksk_credentials> load_aksk(const config::auth_config& auth,
                                              const env_lookup& env = process_environment());

// The IAM password for [auth] method = "token".
credential_result<secret> load_password(const config::auth_config& auth,
                                        const env_lookup& env = process_environment());

// The key that signs webhook requests: [events] webhook_secret_file, else the
// environment variable LABELWATCH_WEBHOOK_SECRET, else $CREDENTIALS_DIRECTORY/webhook-secret
// when that file exists. nullopt when none of them is set: the webhook posts unsigned.
// Same file rules as above (one trailing newline dropped; empty, multi-line or NUL is an
// error); errors name the file or variable, never the content.
credential_result<std::optional<secret>> load_webhook_secret(
    const config::events_config& events, const env_lookup& env = process_environment());

// ---- the pieces, exposed for tests ---------------------------------------------------

// Turns raw content into the value: removes one trailing newline, then rejects empty
// values, line breaks and NUL (and whitespace when `no_whitespace`). `source` names the
// origin for the message ("file /run/credentials/x/sk").
credential_result<secret> parse_credential(std::string content, std::string_view source,
                                           bool no_whitespace);

// Absolute paths as they are; relative ones under $CREDENTIALS_DIRECTORY when set.
std::string resolve_credential_path(std::string_view configured, const env_lookup& env);

}  // namespace labelwatch::auth
