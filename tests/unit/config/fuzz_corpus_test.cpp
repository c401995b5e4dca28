// Replays the committed config fuzz corpus (tests/fuzz/corpus/config/) through the fuzz
// target's properties in the ordinary build, so every seed and every finding stays a
// regression test without clang. A violated property aborts with its message.
#include "config_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

TEST(fuzz_corpus, config) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path{LABELWATCH_FUZZ_CORPUS_DIR} / "config"))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    std::ifstream in{f, std::ios::binary};
    std::ostringstream text;
    text << in.rdbuf();
    labelwatch::fuzz::check_config_document(text.str());
  }
}
