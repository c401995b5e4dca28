#include "auth/secret.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

using namespace labelwatch::auth;

namespace {
template <class T, class = void>
struct streamable : std::false_type {};
template <class T>
struct streamable<T,
                  std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};
}  // namespace

TEST(secret, cannot_be_streamed_and_redacts_in_to_string) {
  static_assert(!streamable<secret>::value, "a secret must not be streamable");
  static_assert(!std::is_convertible_v<secret, std::string>);
  static_assert(!std::is_convertible_v<secret, std::string_view>);
  secret s("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");
  EXPECT_EQ(to_string(s), "[redacted]");
  EXPECT_EQ(to_string(secret{}), "[empty]");
  EXPECT_EQ(s.reveal(), "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");
}

TEST(secret, copies_moves_and_compares) {
  secret a("abc");
  secret b = a;
  EXPECT_TRUE(a == b);
  secret c = std::move(a);
  EXPECT_EQ(c.reveal(), "abc");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the wipe is the contract
  b = secret("x");
  EXPECT_FALSE(b == c);
  c = std::move(b);
  EXPECT_EQ(c.reveal(), "x");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}
