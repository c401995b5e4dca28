// A string that must never end up in a log line, an error message, an event or an
// endpoint: AK, SK, password, IAM token. It cannot be streamed or formatted (there is no
// operator<< and no fmt formatter, so `spdlog::info("{}", s)` does not compile), and
// `to_string` redacts it. The bytes are reachable only through `reveal()`, which makes
// every use greppable. The memory is wiped when the value is destroyed or replaced.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

namespace labelwatch::auth {

class secret {
 public:
  secret() = default;
  explicit secret(std::string value) noexcept : value_(std::move(value)) {}
  secret(const secret& other) = default;
  secret(secret&& other) noexcept;
  secret& operator=(const secret& other);
  secret& operator=(secret&& other) noexcept;
  ~secret();

  // The secret bytes, for the signer, a request header or a request body only.
  std::string_view reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }

  // Constant-time comparison (length leaks, content does not).
  friend bool operator==(const secret& a, const secret& b) noexcept;

  friend std::ostream& operator<<(std::ostream&, const secret&) = delete;

 private:
  void wipe() noexcept;
  std::string value_;
};

// "[redacted]" (or "[empty]"): what a secret looks like wherever it is shown.
std::string to_string(const secret& s);

}  // namespace labelwatch::auth
