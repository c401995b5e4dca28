#include "modelarts/api_url.hpp"

#include "auth/signer.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::modelarts;

namespace {
const std::string pid = "0123456789abcdef0123456789abcdef";
}

TEST(api_url, operation_paths) {
  api_url u("", pid);
  EXPECT_EQ(u.auto_task("WxCREuCkBSAlQr9xrde", "XGrRZuCV1qmMxnsmD5u")->target(),
            "/v2/" + pid + "/datasets/WxCREuCkBSAlQr9xrde/tasks/XGrRZuCV1qmMxnsmD5u");
  EXPECT_EQ(u.auto_task_list("ds", {{"limit", "100"}, {"offset", "0"}})->target(),
            "/v2/" + pid + "/datasets/ds/tasks?limit=100&offset=0");
  EXPECT_EQ(
      u.workforce_task("ds", "wt", {{"sample_stats", "true"}, {"workforce_stats", "true"}})
          ->target(),
      "/v2/" + pid + "/datasets/ds/workforce-tasks/wt?sample_stats=true&workforce_stats=true");
  EXPECT_EQ(u.workforce_task_list("ds", {{"limit", "1000"}, {"offset", "2"}})->target(),
            "/v2/" + pid + "/datasets/ds/workforce-tasks?limit=1000&offset=2");
  EXPECT_EQ(u.sample("ds", "s1")->target(),
            "/v2/" + pid + "/datasets/ds/auto-annotations/samples/s1");
  EXPECT_EQ(u.sample_list("ds", {{"limit", "10"}})->target(),
            "/v2/" + pid + "/datasets/ds/auto-annotations/samples?limit=10");
  EXPECT_EQ(u.dataset_list({{"limit", "100"}, {"offset", "0"}})->target(),
            "/v2/" + pid + "/datasets?limit=100&offset=0");
  EXPECT_EQ(u.acceptance_status("ds", "wt", "en-us")->target(),
            "/v2/" + pid + "/datasets/ds/workforce-tasks/wt/acceptance/status?locale=en-us");
}

TEST(api_url, ids_are_single_strictly_encoded_segments) {
  api_url u("", "p");
  const auto t = u.auto_task("a/b", "../x y?#%:@");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v2/p/datasets/a%2Fb/tasks/..%2Fx%20y%3F%23%25%3A%40");
  EXPECT_EQ(t->query, "");
  // The signer's canonical URI of the wire path is the same path plus '/'.
  EXPECT_EQ(labelwatch::auth::canonical_uri(t->path), t->path + "/");
  const auto unicode = u.sample("ds", "\xe4\xb8\x80");
  EXPECT_EQ(unicode->path, "/v2/p/datasets/ds/auto-annotations/samples/%E4%B8%80");
}

TEST(api_url, query_values_are_encoded_and_agree_with_the_signer) {
  api_url u("", "p");
  const auto t = u.sample_list("ds", {{"label_name", "cat & dog"}, {"high_score", "0.9"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->query, "label_name=cat%20%26%20dog&high_score=0.9");
  EXPECT_EQ(labelwatch::auth::canonical_query(t->query),
            "high_score=0.9&label_name=cat%20%26%20dog");
}

TEST(api_url, base_path_prefix) {
  api_url u("/gw/modelarts", "p");
  EXPECT_EQ(u.dataset_list({})->target(), "/gw/modelarts/v2/p/datasets");
  EXPECT_EQ(iam_token_target("").target(), "/v3/auth/tokens?nocatalog=true");
  EXPECT_EQ(iam_token_target("/iam").path, "/iam/v3/auth/tokens");
}

TEST(api_url, empty_ids_are_named) {
  api_url u("", "p");
  EXPECT_EQ(u.auto_task("", "t").error(), "dataset_id is empty");
  EXPECT_EQ(u.auto_task("d", "").error(), "task_id is empty");
  EXPECT_EQ(u.sample("d", "").error(), "sample_id is empty");
  api_url no_project("", "");
  EXPECT_EQ(no_project.dataset_list({}).error(), "project_id is empty");
}
