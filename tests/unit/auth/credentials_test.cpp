#include "auth/credentials.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using namespace labelwatch;
using namespace labelwatch::auth;

namespace {

constexpr const char* k_ak = "QTWAOYTTINDUT2QVKYUC";
constexpr const char* k_sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("lw-creds-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void expect_no_secret(const std::string& message) {
  EXPECT_EQ(message.find(k_ak), std::string::npos) << message;
  EXPECT_EQ(message.find(k_sk), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

}  // namespace

TEST(credentials, one_trailing_newline_is_removed_nothing_else) {
  EXPECT_EQ(parse_credential("abc\n", "x", true)->reveal(), "abc");
  EXPECT_EQ(parse_credential("abc\r\n", "x", true)->reveal(), "abc");
  EXPECT_EQ(parse_credential("abc", "x", true)->reveal(), "abc");
  EXPECT_EQ(parse_credential("pass word \n", "x", false)->reveal(), "pass word ");
}

TEST(credentials, malformed_content_is_named_by_source_not_content) {
  const std::string src = "secret key file /run/credentials/x/sk";
  for (const auto& [content, problem] : std::vector<std::pair<std::string, std::string>>{
           {"", " is empty"},
           {"\n", " is empty"},
           {std::string(k_sk) + "\n\n", " holds more than one line"},
           {std::string(k_sk) + "\nmore", " holds more than one line"},
           {std::string("ab\0cd", 5), " contains a NUL byte"},
           {std::string(k_sk) + " ", " contains whitespace"}}) {
    const auto r = parse_credential(content, src, true);
    ASSERT_FALSE(r) << content;
    EXPECT_EQ(r.error(), src + problem);
    expect_no_secret(r.error());
  }
  EXPECT_TRUE(parse_credential("with space", src, false));  // passwords may have spaces
}

TEST(credentials, configured_files_win) {
  temp_dir d;
  config::auth_config a;
  a.access_key_file = d.write("ak", std::string(k_ak) + "\n");
  a.secret_key_file = d.write("sk", std::string(k_sk) + "\n");
  const auto c =
      load_aksk(a, env_of({{"HUAWEICLOUD_SDK_AK", "ENVAK"}, {"HUAWEICLOUD_SDK_SK", "ENVSK"}}));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->access_key.reveal(), k_ak);
  EXPECT_EQ(c->secret_key.reveal(), k_sk);
}

TEST(credentials, a_configured_file_that_cannot_be_read_is_an_error_without_fallback) {
  temp_dir d;
  config::auth_config a;
  a.access_key_file = (d.path / "missing-ak").string();
  const auto c = load_aksk(a, env_of({{"HUAWEICLOUD_SDK_AK", k_ak}, {"HUAWEICLOUD_SDK_SK", k_sk}}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(),
            "cannot read access key file " + a.access_key_file + ": No such file or directory");
}

TEST(credentials, environment_then_credentials_directory) {
  config::auth_config a;
  auto c = load_aksk(a, env_of({{"HUAWEICLOUD_SDK_AK", k_ak}, {"HUAWEICLOUD_SDK_SK", k_sk}}));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->secret_key.reveal(), k_sk);

  temp_dir d;
  d.write("ak", std::string(k_ak) + "\n");
  d.write("sk", std::string(k_sk) + "\n");
  d.write("password", "hunter2\n");
  c = load_aksk(a, env_of({{"CREDENTIALS_DIRECTORY", d.path.string()}}));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->access_key.reveal(), k_ak);
  // The environment still wins over the directory; an empty variable counts as unset.
  c = load_aksk(a, env_of({{"CREDENTIALS_DIRECTORY", d.path.string()},
                           {"HUAWEICLOUD_SDK_AK", "ENVAK"},
                           {"HUAWEICLOUD_SDK_SK", ""}}));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->access_key.reveal(), "ENVAK");
  EXPECT_EQ(c->secret_key.reveal(), k_sk);
  const auto pw = load_password(a, env_of({{"CREDENTIALS_DIRECTORY", d.path.string()}}));
  ASSERT_TRUE(pw) << pw.error();
  EXPECT_EQ(pw->reveal(), "hunter2");
}

TEST(credentials, relative_paths_resolve_in_the_credentials_directory) {
  temp_dir d;
  d.write("my-ak", std::string(k_ak) + "\n");
  d.write("my-sk", std::string(k_sk) + "\n");
  config::auth_config a;
  a.access_key_file = "my-ak";
  a.secret_key_file = "my-sk";
  const auto c = load_aksk(a, env_of({{"CREDENTIALS_DIRECTORY", d.path.string()}}));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->access_key.reveal(), k_ak);
  EXPECT_EQ(resolve_credential_path("/abs/sk", env_of({{"CREDENTIALS_DIRECTORY", "/x"}})),
            "/abs/sk");
  EXPECT_EQ(resolve_credential_path("sk", env_of({})), "sk");
}

TEST(credentials, nothing_anywhere_says_where_to_put_it) {
  config::auth_config a;
  const auto c = load_aksk(a, env_of({}));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("[auth] access_key_file"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("HUAWEICLOUD_SDK_AK"), std::string::npos);
  EXPECT_NE(c.error().find("LoadCredential"), std::string::npos);
  const auto pw = load_password(a, env_of({}));
  ASSERT_FALSE(pw);
  EXPECT_NE(pw.error().find("HUAWEICLOUD_SDK_PASSWORD"), std::string::npos);
}

TEST(credentials, errors_from_the_environment_name_the_variable) {
  config::auth_config a;
  const auto c = load_aksk(
      a, env_of({{"HUAWEICLOUD_SDK_AK", k_ak}, {"HUAWEICLOUD_SDK_SK", std::string(k_sk) + " x"}}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(),
            "secret key from environment variable HUAWEICLOUD_SDK_SK contains whitespace");
  expect_no_secret(c.error());
}

TEST(credentials, oversized_files_are_refused) {
  temp_dir d;
  config::auth_config a;
  a.access_key_file = d.write("ak", std::string(70 * 1024, 'A'));
  a.secret_key_file = d.write("sk", k_sk);
  const auto c = load_aksk(a, env_of({}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), "access key file " + a.access_key_file + " is larger than 64 KiB");
}
