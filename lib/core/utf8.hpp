// UTF-8 well-formedness (RFC 3629), shared by everything that turns bytes from the
// network into text we print or serialise.
#pragma once

#include <cstddef>
#include <string_view>

namespace labelwatch {

// Length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 when the bytes
// there are not one: overlong forms, surrogates, code points above U+10FFFF and
// sequences cut off by the end of `s` all give 0. Requires i < s.size().
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept;

}  // namespace labelwatch
