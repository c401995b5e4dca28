// Hostile inputs: every decoder, on each input, twice. Nothing throws, nothing crashes,
// the two runs agree, and failures carry a message.
#include "modelarts/decode.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace labelwatch::modelarts;

namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<std::pair<std::string, std::string>> hostile_inputs() {
  std::vector<std::pair<std::string, std::string>> in;
  in.emplace_back("deep arrays", repeat("[", 100000));
  in.emplace_back("deep objects", repeat(R"({"a":)", 5000) + "1" + repeat("}", 5000));
  in.emplace_back("deep events past the limit",
                  R"({"status":1,"result":)" + repeat(R"({"events":[)", 40) + repeat("]}", 40) + "}");
  in.emplace_back("deep events within the limit",
                  R"({"status":1,"result":)" + repeat(R"({"events":[)", 14) + "{}" + repeat("]}", 14) + "}");
  in.emplace_back("huge exponent", R"({"status":1e999999999,"task_id":"t","sample_id":"s","count":1e400})");
  in.emplace_back("huge integer", R"({"status":)" + std::string(5000, '9') + "}");
  in.emplace_back("NaN literal", R"({"status":NaN})");
  in.emplace_back("Infinity literal", R"({"progress":Infinity,"status":1})");
  in.emplace_back("NaN text", R"({"status":"NaN","progress":"nan","pass_rate":"-inf"})");
  in.emplace_back("arrays where objects are expected",
                  R"({"task_id":"t","status":1,"sample_stats":[],"result":[1],"config":[],"metadata":[],
                     "checking_task_desc":[[]],"tasks":[[1]],"samples":[[]],"datasets":[[]]})");
  in.emplace_back("objects where arrays are expected",
                  R"({"task_id":"t","sample_id":"s","status":1,"worker_stats":{},"labels":{},"tasks":{},"samples":{}})");
  in.emplace_back("duplicate keys", R"({"status":1,"status":"x","task_id":"a","task_id":2,"sample_id":"s","sample_id":null})");
  in.emplace_back("NUL bytes", std::string("{\"status\":1,\0\"task_id\":\"t\"}", 27));
  in.emplace_back("escaped NUL", R"({"status":1,"task_id":"a\u0000b","sample_id":"\u0000"})");
  in.emplace_back("lone surrogate escape", R"({"status":1,"task_id":"\ud800"})");
  in.emplace_back("invalid UTF-8", "{\"status\":1,\"task_id\":\"\xc3\x28\"}");
  in.emplace_back("long string", R"({"status":")" + std::string(1 << 20, 'x') + "\"}");
  in.emplace_back("many items",
                  R"({"tasks":[)" + repeat(R"({"task_id":"t","status":1},)", 10000) + R"({"task_id":"t","status":1}]})");
  in.emplace_back("many unknown keys", "{" + repeat(R"("k":[1,2,{"x":null}],)", 5000) + R"("status":1})");
  in.emplace_back("truncated", R"({"task_id":"t","status":1,"sample_stats":{"total_sample_count":3)");
  in.emplace_back("binary", std::string("\x00\x01\x02\xff\xfe\x7f{}[]", 10));
  in.emplace_back("only whitespace", " \t\r\n");
  in.emplace_back("BOM", "\xEF\xBB\xBF{\"status\":1}");
  in.emplace_back("comment", "{/* c */\"status\":1}");
  in.emplace_back("trailing comma", R"({"status":1,})");
  in.emplace_back("error body lookalike", R"({"error_code":{"x":1},"error_msg":[1],"code":null,"message":{}})");
  return in;
}

template <class F>
void same_twice(const std::string& name, const std::string& body, F decode) {
  decltype(decode(body)) first, second;
  ASSERT_NO_THROW(first = decode(body)) << name;
  ASSERT_NO_THROW(second = decode(body)) << name;
  ASSERT_EQ(first.has_value(), second.has_value()) << name;
  if (first) {
    EXPECT_TRUE(*first == *second) << name;
  } else {
    EXPECT_EQ(first.error(), second.error()) << name;
    EXPECT_FALSE(first.error().problem.empty()) << name;
    // Messages are bounded: they quote at most 64 bytes of a value, never the body.
    EXPECT_LT(first.error().message().size(), 400u) << name << ": " << first.error().message();
  }
}

}  // namespace

TEST(decode_robustness, hostile_inputs_never_throw_and_are_deterministic) {
  for (const auto& [name, body] : hostile_inputs()) {
    same_twice(name, body, decode_auto_task);
    same_twice(name, body, decode_auto_task_list);
    same_twice(name, body, decode_workforce_task);
    same_twice(name, body, decode_workforce_task_list);
    same_twice(name, body, decode_sample);
    same_twice(name, body, decode_sample_list);
    same_twice(name, body, decode_dataset_list);
    same_twice(name, body, decode_acceptance_status);
    error_body a, b;
    ASSERT_NO_THROW(a = decode_error_body(body)) << name;
    ASSERT_NO_THROW(b = decode_error_body(body)) << name;
    EXPECT_EQ(a, b) << name;
    EXPECT_LE(a.error_msg.size(), 512u) << name;
    EXPECT_LE(a.error_code.size(), 128u) << name;
  }
}

TEST(decode_robustness, depth_limit_is_a_clear_error) {
  const std::string body =
      R"({"status":1,"result":)" + repeat(R"({"events":[)", 40) + repeat("]}", 40) + "}";
  const auto r = decode_auto_task(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().path, "");
  EXPECT_NE(r.error().problem.find("invalid JSON"), std::string::npos) << r.error().problem;
}

TEST(decode_robustness, many_items_all_decode) {
  const std::string body =
      R"({"count": 10000, "tasks":[)" + repeat(R"({"task_id":"t","status":1},)", 9999) + R"({"task_id":"t","status":1}]})";
  const auto r = decode_workforce_task_list(body);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->items.size(), 10000u);
  EXPECT_EQ(r->total, 10000);
}
