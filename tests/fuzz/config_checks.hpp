// The properties the config fuzz target asserts, shared with the unit test that replays
// the committed corpus (tests/unit/config/fuzz_corpus_test.cpp). A failed property
// prints a message and calls std::abort().
#pragma once

#include <string_view>

namespace labelwatch::fuzz {

// parse_config over arbitrary bytes. Errors: at least one, each with the source name, a
// non-empty message and a one-line rendering. Success: every invariant the daemon relies
// on holds (ranges, required values, unique ids and names, no conflicting rules).
// The same input always gives the same result.
void check_config_document(std::string_view data);

}  // namespace labelwatch::fuzz
