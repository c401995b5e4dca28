#include "net/origin.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::net;

TEST(origin, parses_endpoints_and_defaults_ports) {
  auto e = parse_endpoint_url("https://ModelArts.cn-north-4.myhuaweicloud.com", "[cloud] endpoint");
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->origin.scheme, "https");
  EXPECT_EQ(e->origin.host, "modelarts.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(e->origin.port, 443);
  EXPECT_EQ(e->base_path, "");
  EXPECT_EQ(e->origin.host_header(), "modelarts.cn-north-4.myhuaweicloud.com");

  e = parse_endpoint_url("https://127.0.0.1:8443/", "x");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->origin.port, 8443);
  EXPECT_EQ(e->origin.host_header(), "127.0.0.1:8443");

  e = parse_endpoint_url("http://[::1]:80/prefix/", "x");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->origin.host, "::1");
  EXPECT_EQ(e->origin.host_header(), "[::1]");
  EXPECT_EQ(e->base_path, "/prefix");
  EXPECT_EQ(e->origin.to_string(), "http://[::1]:80");
}

TEST(origin, host_header_drops_only_the_default_port) {
  origin o{"https", "h", 443};
  EXPECT_EQ(o.host_header(), "h");
  o.port = 80;
  EXPECT_EQ(o.host_header(), "h:80");
  o.scheme = "http";
  EXPECT_EQ(o.host_header(), "h");
}

TEST(origin, errors_name_the_setting) {
  for (const char* bad : {"", "modelarts.example.com", "ftp://h", "https://u:p@h", "https://h?x=1",
                          "http://modelarts.example.com", "http://10.0.0.1:8080",
                          "https://h:0", "https://h:70000", "https://"}) {
    auto e = parse_endpoint_url(bad, "[cloud] endpoint");
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().rfind("[cloud] endpoint: ", 0), 0u) << e.error();
    EXPECT_EQ(e.error().find(":p@"), std::string::npos);
  }
}

TEST(origin, plain_http_only_for_loopback) {
  for (const char* ok : {"http://127.0.0.1:8080", "http://localhost", "http://[::1]:80",
                         "http://127.1.2.3"}) {
    auto e = parse_endpoint_url(ok, "x");
    ASSERT_TRUE(e) << ok;
    EXPECT_TRUE(e->origin.loopback()) << ok;
  }
  EXPECT_FALSE((origin{"https", "127.example.com", 443}).loopback());
  EXPECT_FALSE((origin{"https", "10.0.0.1", 443}).loopback());
  EXPECT_NE(parse_endpoint_url("http://example.com", "[cloud] endpoint").error().find("use https"),
            std::string::npos);
}
