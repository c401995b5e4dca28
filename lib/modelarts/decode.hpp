// Tolerant decoding of ModelArts documents (Boost.JSON) into modelarts/types.hpp.
//
// Tolerant reading: unknown fields are ignored; unknown enum codes are kept raw; numbers
// that arrive as strings ("317") are accepted; create_time may be a string or epoch ms;
// "@modelarts:hard" may be a string, number or bool; missing optional objects decode
// as absent. Strict about what remains: a field that is present but cannot be read as
// its type is an error naming the JSON path and the problem, e.g.
//   sample_stats.total_sample_count: expected integer, got "abc"
// never a silently zeroed value. Required fields: task_id and status for tasks,
// sample_id for samples. Bodies must be JSON objects.
#pragma once

#include "modelarts/types.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace labelwatch::modelarts {

struct decode_error {
  std::string path;     // "sample_stats.total_sample_count", "tasks[3].status", "" for the root
  std::string problem;  // "expected integer, got \"abc\""
  std::string message() const { return path.empty() ? problem : path + ": " + problem; }
};

template <class T>
using decode_result = boost::system::result<T, decode_error>;

decode_result<auto_task> decode_auto_task(std::string_view body);
decode_result<page<auto_task>> decode_auto_task_list(std::string_view body);  // total_count
decode_result<workforce_task> decode_workforce_task(std::string_view body);
decode_result<page<workforce_task>> decode_workforce_task_list(std::string_view body);  // count
decode_result<sample> decode_sample(std::string_view body);
decode_result<page<sample>> decode_sample_list(std::string_view body);     // sample_count
decode_result<page<dataset>> decode_dataset_list(std::string_view body);   // total_number
// An empty body or `{ }` is a valid (empty) response.
decode_result<acceptance_status_response> decode_acceptance_status(std::string_view body);

// Never fails: error_code/error_msg, else code/message, else the first nested object
// holding either pair, else the raw body (truncated to 512 bytes) as the message.
error_body decode_error_body(std::string_view body);

}  // namespace labelwatch::modelarts

namespace boost::system {
// Lets result<T, decode_error>::value() throw with the decode message.
[[noreturn]] void throw_exception_from_error(const labelwatch::modelarts::decode_error& e,
                                             const boost::source_location& loc);
}  // namespace boost::system
