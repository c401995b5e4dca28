// Replays the committed simulator fuzz corpora (tests/fuzz/corpus/sim_*) through the fuzz
// targets' properties in the ordinary build, so every seed and every finding stays a
// regression test without clang. A violated property aborts with its message.
#include "sim_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace fs = std::filesystem;

namespace {

void replay(const std::string& corpus, const std::function<void(std::string_view)>& check) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path{LABELWATCH_FUZZ_CORPUS_DIR} / corpus))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    std::ifstream in{f, std::ios::binary};
    std::ostringstream text;
    text << in.rdbuf();
    check(text.str());
  }
}

}  // namespace

TEST(fuzz_corpus, sim_scenario) {
  replay("sim_scenario", labelwatch::fuzz::check_sim_scenario);
}
TEST(fuzz_corpus, sim_request) {
  replay("sim_request", labelwatch::fuzz::check_sim_requests);
}
