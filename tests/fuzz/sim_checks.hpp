// The properties the simulator's fuzz targets assert, shared with the unit test that
// replays the committed corpora (tests/unit/sim/fuzz_corpus_test.cpp). A failed property
// prints a message and calls std::abort().
#pragma once

#include <string_view>

namespace labelwatch::fuzz {

// sim::parse_scenario over arbitrary bytes. Deterministic. An error has a one-line
// message of bounded length. A scenario dumps to JSON that reads back to the same dump,
// and (when small enough to simulate quickly) every task renders at several times into
// a document that serialises to valid JSON, with the dataset view alongside.
void check_sim_scenario(std::string_view data);

// sim::service::handle over a script of requests (see sim_request_fuzz.cpp for the
// format) against builtin:seeds with --auth none and the control API open. Every answer
// has a status of 0 or 100..599 and an X-Request-Id; every error body and, while no
// fault is armed, every successful ModelArts body is valid JSON; nothing throws.
void check_sim_requests(std::string_view data);

}  // namespace labelwatch::fuzz
