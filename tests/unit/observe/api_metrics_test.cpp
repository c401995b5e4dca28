#include "observe/api_metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace labelwatch;
using namespace std::chrono_literals;
using ::testing::IsSupersetOf;

namespace {
std::vector<std::string> lines(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(body.substr(start, nl - start));
  return out;
}
}  // namespace

TEST(api_metrics, counts_requests_by_status_or_error_class) {
  observe::metrics m("t");
  observe::api_metrics obs(m);
  modelarts::api_observer& as_observer = obs;
  as_observer.on_request(modelarts::operation::get_workforce_task, 200, errc::ok, 20ms);
  as_observer.on_request(modelarts::operation::get_workforce_task, 429, errc::throttled, 4ms);
  as_observer.on_request(modelarts::operation::get_auto_task, 0, errc::timeout, 10s);
  as_observer.on_request(modelarts::operation::get_auto_task, 0, errc::body_too_large, 1ms);
  as_observer.on_request(modelarts::operation::get_auto_task, 200, errc::decode, 3ms);
  as_observer.on_token(from_unix_ms(1606270800500));
  EXPECT_THAT(
      lines(m.serialize()),
      IsSupersetOf(std::vector<std::string>{
          R"(labelwatch_api_requests_total{code="200",operation="get_workforce_task"} 1)",
          R"(labelwatch_api_requests_total{code="429",operation="get_workforce_task"} 1)",
          R"(labelwatch_api_requests_total{code="timeout",operation="get_auto_task"} 1)",
          R"(labelwatch_api_requests_total{code="body_too_large",operation="get_auto_task"} 1)",
          R"(labelwatch_api_requests_total{code="200",operation="get_auto_task"} 1)",
          R"(labelwatch_api_request_duration_seconds_count{operation="get_auto_task"} 3)",
          R"(labelwatch_api_request_duration_seconds_sum{operation="get_auto_task"} 10.004)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="0.005"} 1)",
          R"(labelwatch_api_request_duration_seconds_bucket{operation="get_workforce_task",le="0.025"} 2)",
          "labelwatch_auth_token_expiry_timestamp_seconds 1606270800.5",
      }));
  // The labels agree with the client's own definition of the code label.
  EXPECT_EQ(modelarts::request_code_label(0, errc::body_too_large), "body_too_large");
  EXPECT_EQ(modelarts::request_code_label(429, errc::throttled), "429");
}
