#include "net/proxy.hpp"

#include <gtest/gtest.h>

using namespace labelwatch::net;

TEST(no_proxy, star_matches_everything) {
  EXPECT_TRUE(no_proxy_matches("*", "modelarts.cn-north-4.myhuaweicloud.com", 443));
  EXPECT_TRUE(no_proxy_matches("foo, *", "10.0.0.1", 443));
}

TEST(no_proxy, empty_matches_nothing) {
  EXPECT_FALSE(no_proxy_matches("", "example.com", 443));
  EXPECT_FALSE(no_proxy_matches(" , ,", "example.com", 443));
}

TEST(no_proxy, domain_suffix_on_label_boundaries) {
  for (const char* entry : {"example.com", ".example.com", "*.example.com", "EXAMPLE.com."}) {
    EXPECT_TRUE(no_proxy_matches(entry, "example.com", 443)) << entry;
    EXPECT_TRUE(no_proxy_matches(entry, "api.example.com", 443)) << entry;
    EXPECT_TRUE(no_proxy_matches(entry, "a.b.Example.COM.", 443)) << entry;
    EXPECT_FALSE(no_proxy_matches(entry, "badexample.com", 443)) << entry;
    EXPECT_FALSE(no_proxy_matches(entry, "example.com.evil.net", 443)) << entry;
  }
}

TEST(no_proxy, list_separators_and_whitespace) {
  const char* list = " localhost,127.0.0.1 ,\t.internal  myhuaweicloud.com";
  EXPECT_TRUE(no_proxy_matches(list, "localhost", 8080));
  EXPECT_TRUE(no_proxy_matches(list, "127.0.0.1", 443));
  EXPECT_TRUE(no_proxy_matches(list, "svc.internal", 443));
  EXPECT_TRUE(no_proxy_matches(list, "iam.myhuaweicloud.com", 443));
  EXPECT_FALSE(no_proxy_matches(list, "example.org", 443));
}

TEST(no_proxy, ports_restrict_the_entry) {
  EXPECT_TRUE(no_proxy_matches("example.com:8443", "example.com", 8443));
  EXPECT_FALSE(no_proxy_matches("example.com:8443", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("10.1.2.3:443", "10.1.2.3", 443));
  EXPECT_FALSE(no_proxy_matches("10.1.2.3:443", "10.1.2.3", 80));
  EXPECT_TRUE(no_proxy_matches("[::1]:8443", "::1", 8443));
  EXPECT_FALSE(no_proxy_matches("[::1]:8443", "::1", 443));
  EXPECT_FALSE(no_proxy_matches("example.com:notaport", "example.com", 443));
}

TEST(no_proxy, ip_literals_compare_as_addresses) {
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1", 443));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2", 443));
  EXPECT_TRUE(no_proxy_matches("::1", "[0:0:0:0:0:0:0:1]", 443));
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1", 443));
  // A name entry never matches an address and vice versa; no suffix games on IPs.
  EXPECT_FALSE(no_proxy_matches("0.0.1", "10.0.0.1", 443));
  EXPECT_FALSE(no_proxy_matches("localhost", "127.0.0.1", 443));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "localhost", 443));
}

TEST(no_proxy, cidr_blocks) {
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.200.3.4", 443));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.0.0.1", 443));
  EXPECT_TRUE(no_proxy_matches("192.168.1.0/23", "192.168.0.77", 443));
  EXPECT_FALSE(no_proxy_matches("192.168.1.0/24", "192.168.0.77", 443));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd12:3456::1", 443));
  EXPECT_FALSE(no_proxy_matches("fd00::/8", "fe80::1", 443));
  EXPECT_TRUE(no_proxy_matches("0.0.0.0/0", "8.8.8.8", 443));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/33", "10.0.0.1", 443));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example", 443));
}

TEST(proxy_url, forms) {
  auto p = parse_proxy_url("http://proxy.example:3128");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->host, "proxy.example");
  EXPECT_EQ(p->port, 3128);
  EXPECT_EQ(p->authorization, "");
  EXPECT_EQ(p->display, "http://proxy.example:3128");

  p = parse_proxy_url("proxy.example:8080/");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->port, 8080);

  p = parse_proxy_url("http://[::1]:3128");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->host, "::1");
  EXPECT_EQ(p->display, "http://[::1]:3128");

  p = parse_proxy_url("http://proxy");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, 80);
}

TEST(proxy_url, user_info_becomes_basic_auth_and_never_shows) {
  auto p = parse_proxy_url("http://alice:s3cr%40t@proxy:3128");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->authorization, "Basic YWxpY2U6czNjckB0");  // alice:s3cr@t
  EXPECT_EQ(p->display.find("s3cr"), std::string::npos);
  EXPECT_EQ(p->display.find("alice"), std::string::npos);
}

TEST(proxy_url, errors_name_the_problem_without_user_info) {
  for (const char* bad : {"", "https://p:3128", "socks5://p:1080", "http://p:0", "http://p:99999",
                          "http://p:3128/path", "http://p:3128?q", "http://user:pw@:3128"}) {
    auto p = parse_proxy_url(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_FALSE(p.error().empty());
    EXPECT_EQ(p.error().find("pw"), std::string::npos) << p.error();
  }
  EXPECT_NE(parse_proxy_url("https://p:1").error().find("https"), std::string::npos);
}

TEST(select_proxy, configured_wins_and_no_proxy_applies) {
  proxy_environment env{"http://envproxy:1", "http://plainproxy:2", "localhost,.internal"};
  auto r = select_proxy("http://cfg:3", env, "https", "modelarts.example", 443);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->host, "cfg");

  r = select_proxy("", env, "https", "modelarts.example", 443);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->host, "envproxy");

  r = select_proxy("", env, "http", "modelarts.example", 80);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->host, "plainproxy");

  r = select_proxy("http://cfg:3", env, "https", "svc.internal", 443);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());

  r = select_proxy("", proxy_environment{}, "https", "modelarts.example", 443);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST(select_proxy, a_bad_proxy_url_is_an_error_not_a_direct_connection) {
  proxy_environment env{"socks5://x:1080", "", ""};
  auto r = select_proxy("", env, "https", "modelarts.example", 443);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("https_proxy"), std::string::npos) << r.error();
}
