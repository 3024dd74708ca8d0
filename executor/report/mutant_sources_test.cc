#include "executor/report/mutant_sources.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/mutcell-locate-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(LoadLocateOutput, ReadsFilesMutantsAndErrors) {
  std::string path = WriteTemp(R"({"version": 1, "mutmut_version": "3.8.1",
    "files": {"src/a.py": {"source": "x = 1 - 2\n", "digest": "d"}},
    "mutants": {"a.x__mutmut_1": {"file": "src/a.py", "start": [1, 7], "end": [1, 8], "original": "-",
                                  "replacement": "+", "diff": "--- a\n+++ a", "mutator": "OperatorMutation"}},
    "errors": ["a.x__mutmut_2: LookupError: gone"]})");
  SourceIndex index;
  std::vector<std::string> warnings;
  std::string err;
  ASSERT_TRUE(LoadLocateOutput(path, &index, &warnings, &err)) << err;
  unlink(path.c_str());
  EXPECT_EQ(index.files.at("src/a.py"), "x = 1 - 2\n");
  const MutantSource& m = index.mutants.at("a.x__mutmut_1");
  EXPECT_EQ(m.file, "src/a.py");
  EXPECT_EQ(m.line, 1);
  EXPECT_EQ(m.column, 7);
  EXPECT_EQ(m.end_line, 1);
  EXPECT_EQ(m.end_column, 8);
  EXPECT_EQ(m.replacement, "+");
  EXPECT_EQ(m.mutator, "OperatorMutation");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("a.x__mutmut_2"), std::string::npos);
}

TEST(LoadLocateOutput, BadInputNamesTheFile) {
  for (const char* text :
       {"not json", R"({"version": 2, "files": {}, "mutants": {}})",
        R"({"version": 1, "files": {}, "mutants": {"a": {"file": "x", "start": [0, 1], "end": [1, 1]}}})",
        R"({"version": 1, "files": {}, "mutants": {"a": {"file": 3}}})"}) {
    std::string path = WriteTemp(text);
    SourceIndex index;
    std::vector<std::string> warnings;
    std::string err;
    EXPECT_FALSE(LoadLocateOutput(path, &index, &warnings, &err)) << text;
    EXPECT_NE(err.find(path), std::string::npos) << err;
    unlink(path.c_str());
  }
}

}  // namespace
}  // namespace mutcell
