#include "executor/cli/merge_command.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "executor/common/exit_codes.h"
#include "executor/common/fingerprint.h"
#include "executor/state/journal.h"
#include "executor/shard/shard.h"
#include "executor/state/state_dir.h"

namespace mutcell {
namespace {

namespace fs = std::filesystem;

const char kMeta[] = R"({
    "exit_code_by_key": {
        "tiny.core.x_add__mutmut_1": null,
        "tiny.core.x_add__mutmut_2": null,
        "tiny.core.x_add__mutmut_3": null,
        "tiny.core.x_add__mutmut_4": null
    },
    "hash_by_function_name": {
        "x_add": "e0f525a3928e"
    },
    "type_check_error_by_key": {},
    "durations_by_key": {},
    "estimated_durations_by_key": {}
})";

const char kStats[] = R"({
    "tests_by_mangled_function_name": {
        "tiny.core.x_add": [
            "tests/test_core.py::test_add"
        ]
    },
    "duration_by_test": {
        "tests/test_core.py::test_add": 0.5
    },
    "stats_time": 0.3,
    "function_hashes": {},
    "function_dependencies": {},
    "config_fingerprint": {},
    "watched_file_hashes": {},
    "git_commit": null
})";

/// A mutmut project with four unchecked mutants, and the two shards of a
/// `mutcell mutmut --shard k/2` run over them, written by hand.
class MergeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-merge-command-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("project/src/tiny/core.py", "def add(a, b):\n    return a + b\n");
    Write("project/mutants/src/tiny/core.py.meta", kMeta);
    Write("project/mutants/mutmut-stats.json", kStats);
    for (int i = 1; i <= 4; ++i) {
      Mutant m;
      m.id = "tiny.core.x_add__mutmut_" + std::to_string(i);
      m.fingerprint = Fingerprint(m.id);
      m.estimate_s = 0.5;
      plan_.mutants.push_back(m);
    }
    plan_.fingerprint = "mutmut-plan";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& content) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  /// Shard k/2 with `verdicts` for its mutants in order.
  std::string Shard(uint32_t k, const std::vector<ResultRecord>& verdicts) {
    std::string state = dir_ + "/shard" + std::to_string(k);
    StatePaths paths(state);
    Plan plan = plan_;
    std::string err;
    EXPECT_TRUE(EnsureStateDir(paths, &err)) << err;
    EXPECT_TRUE(ApplyShard({k, 2, "test"}, paths, &plan, &err)) << err;
    EXPECT_TRUE(WritePlanIndex(paths, plan, &err)) << err;
    JournalHeader h;
    h.plan_fingerprint = plan.fingerprint;
    h.config_fingerprint = "cfg";
    JournalWriter w;
    EXPECT_TRUE(w.Open(paths.journal, h, &err)) << err;
    for (size_t i = 0; i < plan.mutants.size() && i < verdicts.size(); ++i) {
      ResultRecord r = verdicts[i];
      r.id = plan.mutants[i].id;
      r.fingerprint = plan.mutants[i].fingerprint;
      EXPECT_TRUE(w.Append(r, &err)) << err;
    }
    EXPECT_TRUE(w.Close(&err)) << err;
    return state;
  }

  nlohmann::json Codes() {
    std::ifstream in(dir_ + "/project/mutants/src/tiny/core.py.meta");
    return nlohmann::json::parse(in)["exit_code_by_key"];
  }

  static ResultRecord R(Verdict v, std::optional<int> code = std::nullopt) {
    ResultRecord r;
    r.verdict = v;
    r.exit_code = code;
    r.duration_s = 0.25;
    return r;
  }

  std::string dir_;
  Plan plan_;
};

TEST_F(MergeCommandTest, WritesTheMergedVerdictsIntoTheMutmutProject) {
  MergeArgs args;
  args.out = dir_ + "/merged";
  args.inputs = {Shard(0, {R(Verdict::kKilled, 1), R(Verdict::kOom)}),
                 Shard(1, {R(Verdict::kSurvived, 0), R(Verdict::kError)})};
  args.mutmut_project = dir_ + "/project";
  ASSERT_EQ(MergeCommand(args), kExitOk);
  nlohmann::json codes = Codes();
  int killed = 0, survived = 0, oom = 0, unchecked = 0;
  for (auto& [key, code] : codes.items()) {
    if (code.is_null()) unchecked++;
    else if (code == 1) killed++;
    else if (code == 0) survived++;
    else if (code == 36) oom++;
  }
  EXPECT_EQ(killed, 1);
  EXPECT_EQ(survived, 1);
  EXPECT_EQ(oom, 1) << "oom is stored as mutmut's timeout code by default";
  EXPECT_EQ(unchecked, 1) << "an error stays not checked, so it is retried";
}

TEST_F(MergeCommandTest, AMergedMutantMissingFromTheProjectWritesNothing) {
  plan_.mutants[3].id = "tiny.other.x_f__mutmut_1";
  MergeArgs args;
  args.out = dir_ + "/merged";
  args.inputs = {Shard(0, {R(Verdict::kKilled, 1), R(Verdict::kKilled, 1)}),
                 Shard(1, {R(Verdict::kKilled, 1), R(Verdict::kKilled, 1)})};
  args.mutmut_project = dir_ + "/project";
  EXPECT_EQ(MergeCommand(args), kExitBadInput);
  const nlohmann::json codes = Codes();  // items() of a temporary would dangle
  for (auto& [key, code] : codes.items()) EXPECT_TRUE(code.is_null()) << key;
}

TEST_F(MergeCommandTest, RefusesAnInputGivenTwiceOrAsTheOutput) {
  std::string a = Shard(0, {R(Verdict::kKilled, 1), R(Verdict::kKilled, 1)});
  MergeArgs twice;
  twice.out = dir_ + "/merged";
  twice.inputs = {a, a + "/."};
  EXPECT_EQ(MergeCommand(twice), kExitBadInput);
  MergeArgs self;
  self.out = a;
  self.inputs = {a};
  EXPECT_EQ(MergeCommand(self), kExitBadInput);
  EXPECT_FALSE(fs::exists(dir_ + "/merged/journal.jsonl"));
}

}  // namespace
}  // namespace mutcell
