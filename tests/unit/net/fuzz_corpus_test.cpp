// Replays the committed corpus of the `http_response` fuzz target through its properties
// in the ordinary build, so every seed and every finding stays a regression test
// without clang. A violated property aborts with its message.
#include "http_response_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

TEST(fuzz_corpus, http_response) {
  std::vector<fs::path> files;
  for (const auto& e :
       fs::directory_iterator(fs::path{LABELWATCH_FUZZ_CORPUS_DIR} / "http_response"))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 20u);
  for (const auto& f : files) {
    // A violated property aborts the process: say which file it was first.
    std::fprintf(stderr, "replaying %s\n", f.filename().c_str());
    std::ifstream in{f, std::ios::binary};
    std::ostringstream bytes;
    bytes << in.rdbuf();
    labelwatch::fuzz::check_http_response(bytes.str());
  }
}
