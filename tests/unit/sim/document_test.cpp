#include "sim/document.hpp"
#include "core/json_text.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace sim = labelwatch::sim;
namespace json = boost::json;

namespace {
json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}
}  // namespace

TEST(document, merge_patch_replaces_merges_and_deletes) {
  auto doc = obj(R"({"a":1,"b":{"x":1,"y":2},"c":[1,2],"d":"keep"})");
  sim::merge_patch(doc, obj(R"({"a":2,"b":{"y":null,"z":3},"c":[9],"e":{"n":1}})"));
  EXPECT_EQ(doc, obj(R"({"a":2,"b":{"x":1,"z":3},"c":[9],"d":"keep","e":{"n":1}})"));
}

TEST(document, merge_patch_merges_arrays_of_objects_of_equal_length) {
  auto doc = obj(R"({"w":[{"id":"a","n":1},{"id":"b","n":2}],"v":[{"id":"a"}]})");
  sim::merge_patch(doc, obj(R"({"w":[{"n":5},{"n":6}],"v":[{"id":"x"},{"id":"y"}]})"));
  EXPECT_EQ(doc, obj(R"({"w":[{"id":"a","n":5},{"id":"b","n":6}],"v":[{"id":"x"},{"id":"y"}]})"));
}

TEST(document, interpolate_moves_numbers_but_not_enumerations) {
  auto from = obj(R"({"status":1,"progress":0.0,"result":{"annotated_sample_count":0},
                      "action":0,"w":[{"n":10}],"text":"a","only_from":5})");
  const auto to = obj(R"({"status":3,"progress":100.0,"result":{"annotated_sample_count":49},
                          "action":5,"w":[{"n":0}],"text":"b","only_to":1})");
  sim::interpolate(from, to, 0.5);
  EXPECT_EQ(from.at("status").as_int64(), 1);
  EXPECT_EQ(from.at("action").as_int64(), 0);
  EXPECT_DOUBLE_EQ(from.at("progress").as_double(), 50.0);
  // Integers round towards the start: 24.5 -> 24, and 5 going down -> ceil.
  EXPECT_EQ(from.at("result").as_object().at("annotated_sample_count").as_int64(), 24);
  EXPECT_EQ(from.at("w").as_array()[0].as_object().at("n").as_int64(), 5);
  EXPECT_EQ(from.at("text").as_string(), "a");
  EXPECT_FALSE(from.contains("only_to"));
}

TEST(document, interpolate_reaches_target_only_at_one) {
  auto a = obj(R"({"n":0})");
  sim::interpolate(a, obj(R"({"n":3})"), 0.99);
  EXPECT_EQ(a.at("n").as_int64(), 2);
  auto b = obj(R"({"n":0})");
  sim::interpolate(b, obj(R"({"n":3})"), 1.0);
  EXPECT_EQ(b.at("n").as_int64(), 3);
}

TEST(document, numbers_to_strings_recursively) {
  json::value v = json::parse(R"({"a":317,"b":10.0,"c":[0.66,{"d":-1}],"e":"x","f":true})");
  sim::numbers_to_strings(v);
  EXPECT_EQ(labelwatch::json_text(v), R"({"a":"317","b":"10.0","c":["0.66",{"d":"-1"}],"e":"x","f":true})");
}

TEST(document, remove_optional_objects_and_add_unknown_fields) {
  json::value v = json::parse(
      R"({"task_id":"t","result":{"a":1},"config":{},"tasks":[{"sample_stats":{},"x":1}]})");
  sim::remove_optional_objects(v);
  EXPECT_EQ(labelwatch::json_text(v), R"({"task_id":"t","tasks":[{"x":1}]})");
  sim::add_unknown_fields(v);
  const auto& o = v.as_object();
  EXPECT_TRUE(o.contains("x_sim_extra"));
  EXPECT_TRUE(o.at("tasks").as_array()[0].as_object().contains("x_sim_note"));
}

TEST(document, to_text_prints_numbers_like_the_api_pages) {
  EXPECT_EQ(labelwatch::format_json_double(10.0), "10.0");
  EXPECT_EQ(labelwatch::format_json_double(0.0), "0.0");
  EXPECT_EQ(labelwatch::format_json_double(0.66), "0.66");
  EXPECT_EQ(labelwatch::format_json_double(-2.5), "-2.5");
  EXPECT_EQ(labelwatch::json_text(
                json::parse(R"({"s":"a\"b\\c\n\u0001","n":null,"i":-3,"u":18446744073709551615})")),
            R"({"s":"a\"b\\c\n\u0001","n":null,"i":-3,"u":18446744073709551615})");
  // Round trip: what we print parses back to the same value.
  const auto v = json::parse(R"({"p":33.33,"q":1e-7,"r":123456789.5})");
  EXPECT_EQ(json::parse(labelwatch::json_text(v)), v);
}

TEST(document, to_text_always_writes_valid_utf8) {
  const json::value v = json::string(
      "ok \xc3\xa9 \xe4\xb8\x80 \xf0\x9f\x99\x82 bad \xff \xc3\x28 \xed\xa0\x80 \xe0\x80\xaf end");
  const auto text = labelwatch::json_text(v);
  EXPECT_EQ(
      text,
      "\"ok \xc3\xa9 \xe4\xb8\x80 \xf0\x9f\x99\x82 bad \\ufffd \\ufffd( \\ufffd\\ufffd\\ufffd "
      "\\ufffd\\ufffd\\ufffd end\"");
  boost::system::error_code ec;
  json::parse(text, ec);
  EXPECT_FALSE(ec);
}
