// Compact JSON text for everything labelwatch writes (event lines, /api/v1, the
// simulator's documents). Unlike boost::json::serialize in Boost 1.81, which prints 10.0
// as "1E1", doubles are written the way people and the API pages write them:
// integral values keep one decimal ("10.0"), others use the shortest form that reads
// back exactly ("0.66"); non-finite numbers become null. Strings that are not valid
// UTF-8 get U+FFFD in place of each bad byte, so the text is always valid JSON.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace labelwatch {

std::string json_text(const boost::json::value& v);
void append_json_text(std::string& out, const boost::json::value& v);
// A JSON string literal (quotes included) for `s`.
void append_json_string(std::string& out, std::string_view s);
// The number text json_text() uses for a double.
std::string format_json_double(double d);

}  // namespace labelwatch
