// The state directory on a tiny tmpfs that fills up mid-run: mutcell stops
// with a clear error, the journal still loads, and nothing is reported that
// was not recorded.

#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/test_util.h"

namespace mutcell::testing {
namespace {

TEST(FullDiskTest, AFullStateDirectoryStopsTheRunClearlyAndKeepsWhatWasRecorded) {
  TempDir dir;
  std::string state = dir.path() + "/state";
  mkdir(state.c_str(), 0755);
  if (mount("tmpfs", state.c_str(), "tmpfs", 0, "size=512k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{state};

  // 1500 mutants with long ids: the plan index fits, the journal does not.
  std::string plan;
  for (int i = 0; i < 1500; ++i)
    plan += R"({"id": "pkg.module.x_some_rather_long_function_name__mutmut_)" + std::to_string(i) +
            R"(", "argv": ["true"]})" "\n";
  std::string path = dir.Write("plan.jsonl", plan);
  CommandResult r = RunMutcell({"run", "--plan", path, "--state-dir", state, "--jobs", "2", "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("run the same command again to resume"), std::string::npos);

  // Count the complete result records actually in the file.
  std::ifstream f(state + "/journal.jsonl");
  std::string line;
  size_t recorded = 0, final_verdicts = 0;  // an `error` (a log that could not be reserved) is not final
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "result") {
      ++recorded;
      if (j.value("verdict", "") != "error") ++final_verdicts;
    }
  }
  EXPECT_GT(recorded, 100u);
  EXPECT_LT(recorded, 1500u);

  CommandResult rep = RunMutcell({"report", "--state-dir", state, "--format", "json", "--require-complete"});
  EXPECT_EQ(rep.exit_code, 4) << "incomplete runs fail --require-complete:\n" << rep.err;
  EXPECT_NE(rep.err.find("incomplete: " + std::to_string(final_verdicts) + " of 1500"), std::string::npos) << rep.err;
  auto reported = nlohmann::json::parse(rep.out);
  EXPECT_EQ(reported.size(), recorded) << "reported results must be exactly the recorded ones";
  EXPECT_TRUE(LeftoverCgroups().empty());
}

}  // namespace
}  // namespace mutcell::testing
