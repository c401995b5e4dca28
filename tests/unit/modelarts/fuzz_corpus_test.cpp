// Replays every committed fuzz corpus file (tests/fuzz/corpus/<target>/) through the
// properties its fuzz target asserts, in the ordinary build: the seed corpora and every
// crash ever found stay regression tests without clang or libFuzzer. A violated
// property aborts the test with its message.
#include "fuzz_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_files(const std::string& target) {
  const fs::path dir = fs::path(LABELWATCH_TEST_DATA_DIR) / ".." / "fuzz" / "corpus" / target;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replay(const std::string& target, void (*check)(std::string_view)) {
  const auto files = corpus_files(target);
  ASSERT_FALSE(files.empty()) << "no corpus for " << target;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    check(read_file(f));
  }
}

}  // namespace

TEST(fuzz_corpus, decode_auto_task) { replay("decode_auto_task", labelwatch::fuzz::check_auto_task_documents); }
TEST(fuzz_corpus, decode_workforce_task) {
  replay("decode_workforce_task", labelwatch::fuzz::check_workforce_task_documents);
}
TEST(fuzz_corpus, decode_sample) { replay("decode_sample", labelwatch::fuzz::check_sample_documents); }
TEST(fuzz_corpus, decode_dataset_list) { replay("decode_dataset_list", labelwatch::fuzz::check_dataset_documents); }
TEST(fuzz_corpus, error_body) { replay("error_body", labelwatch::fuzz::check_error_body); }
TEST(fuzz_corpus, signer) { replay("signer", labelwatch::fuzz::check_signer); }
