#include "app/cli_output.hpp"

#include "modelarts/decode.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace labelwatch::app;
using namespace labelwatch::modelarts;

TEST(cli_output, auto_task_json_is_normalised) {
  auto_task t;
  t.task_id = "XGrRZuCV1qmMxnsmD5u";
  t.status_code = 1;
  t.progress = 10.0;
  t.create_time = parse_plain_datetime("2020-11-23 11:08:20");
  t.create_time_raw = "2020-11-23 11:08:20";
  t.code = "ModelArts.4902";
  const auto v = to_json(t);
  EXPECT_EQ(v.at("status").as_string(), "running");
  EXPECT_EQ(v.at("status_code").as_int64(), 1);
  EXPECT_EQ(v.at("create_time").as_string(), "2020-11-23T11:08:20.000Z");
  EXPECT_FALSE(v.as_object().contains("task_name"));  // absent stays absent
  const auto text = pretty_json(v);
  EXPECT_NE(text.find("\"progress\": 10.0"), std::string::npos) << text;  // not 1E1
  EXPECT_EQ(boost::json::parse(text), v);
}

TEST(cli_output, unknown_status_keeps_the_raw_code) {
  workforce_task t;
  t.task_id = "t";
  t.status_code = 42;
  const auto v = to_json(t);
  EXPECT_EQ(v.at("status").as_string(), "unknown");
  EXPECT_EQ(v.at("status_code").as_int64(), 42);
}

TEST(cli_output, a_sample_never_shows_its_presigned_source) {
  sample s;
  s.sample_id = "s1";
  s.source = "https://bucket.obs.example/x.jpg?AccessKeyId=AK&Signature=abc";
  const auto v = to_json(s);
  EXPECT_FALSE(v.as_object().contains("source"));
  EXPECT_EQ(pretty_json(v).find("Signature"), std::string::npos);
  EXPECT_EQ(key_value_table(v).find("Signature"), std::string::npos);
}

TEST(cli_output, tables_align_columns) {
  const auto t = render_table({"id", "name"}, {{"a", "first"}, {"longer-id", "x"}});
  EXPECT_EQ(t,
            "ID         NAME\n"
            "a          first\n"
            "longer-id  x\n");
  // Control characters from the server cannot break the layout.
  EXPECT_EQ(render_table({"n"}, {{"a\nb\tc"}}), "N\na b c\n");
}

TEST(cli_output, task_tables) {
  auto_task t;
  t.task_id = "abc";
  t.task_name = "flowers";
  t.status_code = 3;
  t.progress = 100.0;
  t.total_sample_count = 49;
  t.annotated_sample_count = 49;
  const auto out = table_of(std::vector<auto_task>{t});
  EXPECT_NE(out.find("TASK_ID"), std::string::npos);
  EXPECT_NE(out.find("succeeded"), std::string::npos);
  EXPECT_NE(out.find("100.0%"), std::string::npos);
  EXPECT_NE(out.find("49/49"), std::string::npos);
}

TEST(cli_output, key_value_table_flattens_nested_members) {
  const auto v = boost::json::parse(R"({"a":1,"b":{"c":"x"},"d":[{"e":2.5}],"f":[]})");
  EXPECT_EQ(key_value_table(v),
            "a       1\n"
            "b.c     x\n"
            "d[0].e  2.5\n"
            "f       []\n");
}
