#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace labelwatch;

TEST(error, codes_carry_the_labelwatch_category) {
  const boost::system::error_code ec = errc::throttled;
  EXPECT_EQ(ec.category().name(), std::string("labelwatch"));
  EXPECT_EQ(ec.message(), "request throttled");
  EXPECT_TRUE(ec);
}

TEST(error, reason_names_are_the_metric_labels) {
  EXPECT_EQ(reason_name(errc::auth_failed), "auth_failed");
  EXPECT_EQ(reason_name(errc::throttled), "throttled");
  EXPECT_EQ(reason_name(errc::not_found), "not_found");
  EXPECT_EQ(reason_name(errc::client_error), "client_error");
  EXPECT_EQ(reason_name(errc::server_error), "server_error");
  EXPECT_EQ(reason_name(errc::timeout), "timeout");
  EXPECT_EQ(reason_name(errc::network), "network");
  EXPECT_EQ(reason_name(errc::tls), "tls");
  EXPECT_EQ(reason_name(errc::decode), "decode");
  EXPECT_EQ(reason_name(errc::store_failed), "other");
}

TEST(error, result_holds_value_or_code) {
  result<int> ok = 3;
  result<int> bad = make_error_code(errc::decode);
  EXPECT_EQ(ok.value(), 3);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::decode));
}
