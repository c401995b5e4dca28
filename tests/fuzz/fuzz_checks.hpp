// The properties each fuzz target asserts, shared by the libFuzzer binaries and by the
// unit test that replays every committed corpus file under the ordinary build
// (tests/unit/modelarts/fuzz_corpus_test.cpp), so the corpus is a regression suite even
// without clang.
//
// Each check runs one input through the code under test and calls std::abort() with a
// message on stderr when a property fails; crashes, leaks and undefined behaviour are
// caught by the sanitizers around it.
#pragma once

#include <string_view>

namespace labelwatch::fuzz {

// decode_auto_task + decode_auto_task_list.
void check_auto_task_documents(std::string_view data);
// decode_workforce_task + decode_workforce_task_list.
void check_workforce_task_documents(std::string_view data);
// decode_sample + decode_sample_list + decode_acceptance_status.
void check_sample_documents(std::string_view data);
// decode_dataset_list.
void check_dataset_documents(std::string_view data);
// decode_error_body.
void check_error_body(std::string_view data);
// auth::canonical_uri, canonical_query, canonical_request, parse_authorization.
// The input is also split into lines: method, path, query, headers ("name:value")...,
// and the last line is the body.
void check_signer(std::string_view data);

}  // namespace labelwatch::fuzz
