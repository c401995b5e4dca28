#include "core/time.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;
using namespace std::chrono_literals;

TEST(time, rfc3339_with_milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(from_unix_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(from_unix_ms(1606184400278)), "2020-11-24T02:20:00.278Z");
}

TEST(time, parse_rfc3339_variants) {
  EXPECT_EQ(parse_rfc3339("2019-02-13T06:52:13.855000Z"), from_unix_ms(1550040733855));
  EXPECT_EQ(parse_rfc3339("2019-02-13T06:52:13Z"), from_unix_ms(1550040733000));
  EXPECT_EQ(parse_rfc3339("2019-02-13T14:52:13.855+08:00"), from_unix_ms(1550040733855));
  EXPECT_FALSE(parse_rfc3339("2019-02-13"));
  EXPECT_FALSE(parse_rfc3339("2019-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2019-02-13T06:52:13.Z"));
  EXPECT_FALSE(parse_rfc3339("2019-02-13T06:52:13Zjunk"));
}

TEST(time, sdk_date) {
  const auto t = parse_sdk_date("20191115T033655Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_sdk_date(*t), "20191115T033655Z");
  EXPECT_EQ(format_rfc3339_ms(*t), "2019-11-15T03:36:55.000Z");
  EXPECT_FALSE(parse_sdk_date("2019-11-15T03:36:55Z"));
  EXPECT_FALSE(parse_sdk_date("20191115T033655"));
}

TEST(time, http_date) {
  const auto t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_http_date(*t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
}

TEST(time, plain_datetime_is_read_as_utc) {
  EXPECT_EQ(parse_plain_datetime("2020-11-23 11:08:20"), parse_rfc3339("2020-11-23T11:08:20Z"));
  EXPECT_FALSE(parse_plain_datetime("2020-11-23T11:08:20"));
}

TEST(time, durations) {
  EXPECT_EQ(parse_duration("15s"), 15s);
  EXPECT_EQ(parse_duration("5m"), 5min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("0s"), 0s);
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("2d"), 48h);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("15"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_FALSE(parse_duration("99999999999999999999d"));
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(1500ms), "1s500ms");
}
