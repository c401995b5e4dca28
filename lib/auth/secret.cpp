// Secret storage that wipes itself (see secret.hpp).
#include "auth/secret.hpp"

#include "core/crypto.hpp"

#include <openssl/crypto.h>

namespace labelwatch::auth {

secret::secret(secret&& other) noexcept : value_(std::move(other.value_)) {
  other.wipe();
}

secret& secret::operator=(const secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

secret& secret::operator=(secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

secret::~secret() {
  wipe();
}

void secret::wipe() noexcept {
  // The whole capacity: a moved-from or shortened string keeps old bytes past its size.
  // Growing to the capacity never reallocates, and makes those bytes ours to overwrite.
  value_.resize(value_.capacity());
  OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

bool operator==(const secret& a, const secret& b) noexcept {
  return constant_time_equal(a.value_, b.value_);
}

std::string to_string(const secret& s) {
  return s.empty() ? "[empty]" : "[redacted]";
}

}  // namespace labelwatch::auth
