// The file edge: load_config_file and check_referenced_files against a real temporary
// directory.
#include "config/check.hpp"
#include "config/reader.hpp"
#include "config_test_util.hpp"
#include "../unprivileged.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

using namespace labelwatch::config;
using namespace labelwatch::config::testing;
namespace fs = std::filesystem;

namespace {

class temp_dir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "labelwatch-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, std::string_view text, fs::perms mode = fs::perms::owner_read |
                                                                                   fs::perms::owner_write) {
    const auto p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream{p, std::ios::binary} << text;
    fs::permissions(p, mode);
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Parses `toml` (which must be valid) and checks its files with `env`.
  file_check_report check(const std::string& toml, std::map<std::string, std::string> env = {}) {
    auto cfg = parse_config(toml, "c.toml");
    EXPECT_TRUE(cfg) << (cfg ? "" : dump(cfg.error()));
    if (!cfg) return {};
    env_ = std::move(env);
    return check_referenced_files(*cfg, [this](const char* name) -> const char* {
      const auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }

  // A config whose state directory is the temp dir and whose secrets come from `env`.
  std::string base(std::string_view more = "") const {
    return with_cloud("[state]\npath = \"" + path("state.db") + "\"\n" + std::string{more});
  }

  // check() with aksk_env as a user without privileges (as root: in a child that dropped
  // them, see unprivileged.hpp); the errors' messages, one per line.
  std::string unprivileged_errors(const std::string& toml) {
    return labelwatch::testing::as_unprivileged([&] {
      std::string out;
      for (const auto& e : check(toml, aksk_env).errors) out += e.message + "\n";
      return out;
    });
  }

  std::map<std::string, std::string> aksk_env{{"HUAWEICLOUD_SDK_AK", "ak"}, {"HUAWEICLOUD_SDK_SK", "sk"}};
  fs::path dir_;
  std::map<std::string, std::string> env_;
};

using load = temp_dir;
using references = temp_dir;

}  // namespace

TEST_F(load, reads_and_parses_the_file) {
  const auto p = write("lw.toml", with_cloud("[poll]\nmax_rate = 3.5\n"));
  const auto r = load_config_file(p);
  ASSERT_TRUE(r) << dump(r.error());
  EXPECT_EQ(r->source, p);
  EXPECT_DOUBLE_EQ(r->poll.max_rate, 3.5);
}

TEST_F(load, errors_name_the_file) {
  const auto p = write("lw.toml", with_cloud("[poll]\nmax_rate = -1\n"));
  const auto r = load_config_file(p);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(r.error()[0].to_string(),
            p + ":5: poll.max_rate: must be a number greater than 0 and at most 10000 (requests per second), got -1");
}

TEST_F(load, missing_file) {
  const auto p = path("absent.toml");
  const auto r = load_config_file(p);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(r.error()[0].to_string(), p + ": cannot read the configuration: No such file or directory");
}

TEST_F(load, directory) {
  const auto r = load_config_file(dir_.string());
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(r.error()[0].message, "is a directory; expected a TOML file");
}

TEST_F(load, oversized_file) {
  const auto p = write("big.toml", std::string(1024 * 1024 + 1, '#'));
  const auto r = load_config_file(p);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(r.error()[0].message, "is larger than 1 MiB; this is not a labelwatch configuration file");
}

TEST_F(references, all_present_gives_nothing) {
  const auto ca = write("ca.pem", "x");
  const auto ak = write("ak", "x");
  const auto sk = write("sk", "x");
  const auto cert = write("cert.pem", "x");
  const auto key = write("key.pem", "x");
  const auto pw = write("pw", "x");
  const auto hook = write("hook", "x");
  const auto hook_ca = write("hook-ca.pem", "x");
  const auto report = check(with_cloud("ca_file = \"" + ca + "\"\n[auth]\naccess_key_file = \"" + ak +
                                       "\"\nsecret_key_file = \"" + sk + "\"\n[server]\ntls_cert_file = \"" + cert +
                                       "\"\ntls_key_file = \"" + key + "\"\nbasic_auth_user = \"u\"\n"
                                       "basic_auth_password_file = \"" + pw + "\"\n[state]\npath = \"" +
                                       path("state.db") + "\"\n[events]\nlog = \"" + path("events.jsonl") +
                                       "\"\nwebhook_url = \"https://h.example\"\nwebhook_secret_file = \"" + hook +
                                       "\"\nwebhook_ca_file = \"" + hook_ca + "\"\n"));
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  EXPECT_TRUE(report.notes.empty()) << dump(report.notes);
}

TEST_F(references, missing_file_is_an_error_at_its_line) {
  const auto report = check(base("[server]\ntls_cert_file = \"" + path("nope.pem") + "\"\ntls_key_file = \"" +
                                 write("key.pem", "k") + "\"\n"),
                            aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].to_string(),
            "c.toml:7: server.tls_cert_file: cannot use " + path("nope.pem") + ": No such file or directory");
  EXPECT_TRUE(report.notes.empty()) << dump(report.notes);
}

TEST_F(references, a_directory_is_not_a_file) {
  fs::create_directories(path("ca.d"));
  const auto report = check(with_cloud("ca_file = \"" + path("ca.d") + "\"\n[state]\npath = \"" +
                                       path("state.db") + "\"\n"),
                            aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].to_string(), "c.toml:4: cloud.ca_file: " + path("ca.d") + " is not a regular file");
}

TEST_F(references, unreadable_file) {
  labelwatch::testing::open_to_unprivileged(dir_);
  const auto ca = write("ca.pem", "x", fs::perms::none);
  const auto errors =
      unprivileged_errors(with_cloud("ca_file = \"" + ca + "\"\n[state]\npath = \"" + path("state.db") + "\"\n"));
  EXPECT_EQ(errors, ca + " is not readable by this user: Permission denied\n");
}

TEST_F(references, world_readable_secret_is_a_note) {
  const auto ak = write("ak", "x", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto sk = write("sk", "x");
  const auto report = check(base("[auth]\naccess_key_file = \"" + ak + "\"\nsecret_key_file = \"" + sk + "\"\n"));
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  ASSERT_EQ(report.notes.size(), 1u) << dump(report.notes);
  EXPECT_EQ(report.notes[0].to_string(), "c.toml:7: auth.access_key_file: " + ak +
                                             " holds a secret but every user can read it (mode 0444); use "
                                             "mode 0600 or systemd LoadCredential=");
}

TEST_F(references, systemd_credentials_outside_the_service_are_a_note) {
  const std::string ak = "/run/credentials/labelwatch-test-absent.service/ak";
  const auto report = check(base("[auth]\naccess_key_file = \"" + ak + "\"\nsecret_key_file = \"" +
                                 write("sk", "x") + "\"\n"));
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  ASSERT_EQ(report.notes.size(), 1u) << dump(report.notes);
  EXPECT_EQ(report.notes[0].key, "auth.access_key_file");
  EXPECT_EQ(report.notes[0].message,
            "/run/credentials/labelwatch-test-absent.service does not exist here: systemd creates it from "
            "LoadCredential= when the service starts, so " + ak + " is checked only then");
}

TEST_F(references, secrets_from_the_environment) {
  // aksk without files: the environment must have both.
  auto report = check(base(), {{"HUAWEICLOUD_SDK_AK", "x"}});
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  ASSERT_EQ(report.notes.size(), 1u) << dump(report.notes);
  EXPECT_EQ(report.notes[0].key, "auth");
  EXPECT_EQ(report.notes[0].line, 0u);  // no [auth] table written
  EXPECT_EQ(report.notes[0].message,
            "access_key_file and secret_key_file are not set, and HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are "
            "not both set in this environment; labelwatchd needs one or the other when it starts");
  report = check(base(), aksk_env);
  EXPECT_TRUE(report.notes.empty()) << dump(report.notes);
  // token without password_file.
  const std::string token = "[auth]\nmethod = \"token\"\niam_endpoint = \"https://iam.example.com\"\n"
                            "domain_name = \"d\"\nuser_name = \"u\"\n";
  report = check(base(token), {{"HUAWEICLOUD_SDK_PASSWORD", ""}});
  ASSERT_EQ(report.notes.size(), 1u) << dump(report.notes);
  EXPECT_EQ(report.notes[0].to_string(),
            "c.toml:6: auth: password_file is not set and HUAWEICLOUD_SDK_PASSWORD is not set in this environment; "
            "labelwatchd needs one or the other when it starts");
  report = check(base(token), {{"HUAWEICLOUD_SDK_PASSWORD", "pw"}});
  EXPECT_TRUE(report.notes.empty()) << dump(report.notes);
  // none: nothing to check.
  report = check(base("[auth]\nmethod = \"none\"\npassword_file = \"/nonexistent/pw\"\n"));
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  EXPECT_TRUE(report.notes.empty()) << dump(report.notes);
}

TEST_F(references, state_directory_must_exist_and_be_writable) {
  auto report = check(with_cloud("[state]\npath = \"" + path("missing/state.db") + "\"\n"), aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].to_string(),
            "c.toml:5: state.path: cannot use directory " + path("missing") + ": No such file or directory");

  fs::create_directories(path("db-is-dir.db"));
  report = check(with_cloud("[state]\npath = \"" + path("db-is-dir.db") + "\"\n"), aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].message, path("db-is-dir.db") + " exists and is not a regular file");

  write("file", "x");
  report = check(with_cloud("[state]\npath = \"" + path("file/state.db") + "\"\n"), aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].message, path("file") + " is not a directory");

  labelwatch::testing::open_to_unprivileged(dir_);
  fs::create_directories(path("ro"));
  fs::permissions(path("ro"), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(unprivileged_errors(with_cloud("[state]\npath = \"" + path("ro/state.db") + "\"\n")),
            "directory " + path("ro") + " is not writable by this user: Permission denied\n");
}

TEST_F(references, a_directory_systemd_creates_is_a_note) {
  const auto report = check(with_cloud("[state]\npath = \"/var/lib/labelwatch-test-absent/state.db\"\n"), aksk_env);
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
  ASSERT_EQ(report.notes.size(), 1u) << dump(report.notes);
  EXPECT_EQ(report.notes[0].to_string(),
            "c.toml:5: state.path: directory /var/lib/labelwatch-test-absent does not exist yet; labelwatchd "
            "does not create it (under systemd, StateDirectory=/LogsDirectory= create it at start)");
}

TEST_F(references, event_log_file_directory) {
  const auto report = check(base("[events]\nlog = \"" + path("logs/events.jsonl") + "\"\n"), aksk_env);
  ASSERT_EQ(report.errors.size(), 1u) << dump(report.errors);
  EXPECT_EQ(report.errors[0].to_string(),
            "c.toml:7: events.log: cannot use directory " + path("logs") + ": No such file or directory");
}

TEST_F(references, only_the_configured_methods_files_are_checked) {
  // password_file belongs to method = "token"; with aksk it is not looked at.
  const auto report = check(base("[auth]\npassword_file = \"/nonexistent/pw\"\n"), aksk_env);
  EXPECT_TRUE(report.errors.empty()) << dump(report.errors);
}
