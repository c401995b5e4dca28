// Hashes and MACs used by the AK/SK signer, webhook signatures and basic auth.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace labelwatch {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(std::string_view data) noexcept;
sha256_digest hmac_sha256(std::string_view key, std::string_view data) noexcept;

// Lower-case hex of raw bytes.
std::string hex_lower(const std::uint8_t* data, std::size_t size);
inline std::string hex_lower(const sha256_digest& d) { return hex_lower(d.data(), d.size()); }

inline std::string sha256_hex(std::string_view data) { return hex_lower(sha256(data)); }
inline std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return hex_lower(hmac_sha256(key, data));
}

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace labelwatch
