#include "executor/shard/shard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::vector<Mutant> Mutants(size_t count, bool estimates = false) {
  std::vector<Mutant> out;
  for (size_t i = 0; i < count; ++i) {
    Mutant m;
    m.id = "mod.f__mutmut_" + std::to_string(i);
    m.fingerprint = "fp" + std::to_string(i);
    if (estimates) m.estimate_s = 0.1 * static_cast<double>(i % 7 + 1);
    out.push_back(m);
  }
  return out;
}

/// Pareto-like estimates: most mutants fast, a few very slow (like real suites).
std::vector<Mutant> Skewed(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Mutant> out = Mutants(count);
  for (Mutant& m : out) m.estimate_s = 0.05 / std::pow(1.0 - u(rng) * 0.999, 1.0 / 1.3);
  return out;
}

TEST(ShardSpecTest, ParsesZeroBasedIndexOverCount) {
  ShardSpec s;
  std::string err;
  ASSERT_TRUE(ParseShardSpec("0/4", &s, &err)) << err;
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(s.count, 4u);
  ASSERT_TRUE(ParseShardSpec("3/4", &s, &err)) << err;
  EXPECT_EQ(s.index, 3u);
  ASSERT_TRUE(ParseShardSpec("0/1", &s, &err)) << err;
  EXPECT_EQ(s.count, 1u);
}

TEST(ShardSpecTest, RefusesIndexNotBelowCountZeroCountAndGarbage) {
  for (const char* bad : {"4/4", "5/4", "0/0", "1/0", "", "/", "1/", "/4", "a/b", "-1/4", "+1/4", " 1/4", "1/4 ",
                          "1//4", "1/4/5", "1.0/4", "0x1/4", "auto/4", "1/999999999", "99999999999/4", "1"}) {
    ShardSpec s;
    std::string err;
    EXPECT_FALSE(ParseShardSpec(bad, &s, &err)) << bad;
    EXPECT_NE(err.find("--shard"), std::string::npos) << bad << ": " << err;
  }
  std::string err;
  ShardSpec s;
  ASSERT_FALSE(ParseShardSpec("4/4", &s, &err));
  EXPECT_NE(err.find("not below the count 4"), std::string::npos) << err;
  ASSERT_FALSE(ParseShardSpec("0/0", &s, &err));
  EXPECT_NE(err.find("count is 0"), std::string::npos) << err;
}

TEST(ShardSpecTest, AutoReadsCiMatrixVariables) {
  ShardSpec s;
  std::string err;
  ASSERT_TRUE(ResolveShardSpec("auto", Env({{"MUTCELL_SHARD_INDEX", "2"}, {"MUTCELL_SHARD_COUNT", "5"}}), &s, &err))
      << err;
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_NE(s.source.find("MUTCELL_SHARD_INDEX"), std::string::npos);
}

TEST(ShardSpecTest, AutoReadsKubernetesIndexWithTheCountVariable) {
  ShardSpec s;
  std::string err;
  ASSERT_TRUE(ShardFromEnvironment(Env({{"JOB_COMPLETION_INDEX", "0"}, {"MUTCELL_SHARD_COUNT", "3"}}), &s, &err))
      << err;
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(s.count, 3u);
  EXPECT_FALSE(ShardFromEnvironment(Env({{"JOB_COMPLETION_INDEX", "1"}}), &s, &err));
  EXPECT_NE(err.find("MUTCELL_SHARD_COUNT"), std::string::npos) << err;
  EXPECT_FALSE(ShardFromEnvironment(Env({{"JOB_COMPLETION_INDEX", "3"}, {"MUTCELL_SHARD_COUNT", "3"}}), &s, &err));
}

TEST(ShardSpecTest, AutoReadsSlurmArraysFromTheirMinimumAndStep) {
  ShardSpec s;
  std::string err;
  // --array=1-4: ids 1..4 are shards 0..3.
  ASSERT_TRUE(ShardFromEnvironment(Env({{"SLURM_ARRAY_TASK_ID", "1"},
                                        {"SLURM_ARRAY_TASK_MIN", "1"},
                                        {"SLURM_ARRAY_TASK_MAX", "4"},
                                        {"SLURM_ARRAY_TASK_COUNT", "4"}}),
                                   &s, &err))
      << err;
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(s.count, 4u);
  ASSERT_TRUE(ShardFromEnvironment(
      Env({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), &s, &err))
      << err;
  EXPECT_EQ(s.index, 3u);
  // --array=0-6:2: ids 0,2,4,6.
  ASSERT_TRUE(ShardFromEnvironment(Env({{"SLURM_ARRAY_TASK_ID", "6"},
                                        {"SLURM_ARRAY_TASK_MIN", "0"},
                                        {"SLURM_ARRAY_TASK_STEP", "2"},
                                        {"SLURM_ARRAY_TASK_COUNT", "4"}}),
                                   &s, &err))
      << err;
  EXPECT_EQ(s.index, 3u);
  // An explicit count wins over the array's.
  ASSERT_TRUE(ShardFromEnvironment(Env({{"SLURM_ARRAY_TASK_ID", "2"},
                                        {"SLURM_ARRAY_TASK_MIN", "0"},
                                        {"SLURM_ARRAY_TASK_COUNT", "4"},
                                        {"MUTCELL_SHARD_COUNT", "8"}}),
                                   &s, &err))
      << err;
  EXPECT_EQ(s.count, 8u);
  EXPECT_FALSE(ShardFromEnvironment(
      Env({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), &s, &err));
  EXPECT_NE(err.find("SLURM_ARRAY_TASK_MIN"), std::string::npos) << err;
}

TEST(ShardSpecTest, AutoWithoutEnvironmentOrWithGarbageFailsClearly) {
  ShardSpec s;
  std::string err;
  EXPECT_FALSE(ResolveShardSpec("auto", Env({}), &s, &err));
  EXPECT_NE(err.find("no shard index"), std::string::npos) << err;
  EXPECT_FALSE(ResolveShardSpec("auto", Env({{"MUTCELL_SHARD_INDEX", "x"}, {"MUTCELL_SHARD_COUNT", "2"}}), &s, &err));
  EXPECT_NE(err.find("MUTCELL_SHARD_INDEX=\"x\""), std::string::npos) << err;
  EXPECT_FALSE(ResolveShardSpec("auto", Env({{"MUTCELL_SHARD_INDEX", "0"}, {"MUTCELL_SHARD_COUNT", "0"}}), &s, &err));
}

/// Every mutant in exactly one shard, for each (count, n).
TEST(SelectShardTest, ShardsAreDisjointAndCoverEveryMutant) {
  for (bool estimates : {false, true}) {
    for (size_t count : {0u, 1u, 2u, 3u, 7u, 10u, 64u, 101u, 300u}) {
      for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 8u, 16u, 120u, 301u}) {
        std::vector<Mutant> all = Mutants(count, estimates);
        std::map<std::string, int> seen;
        size_t smallest = SIZE_MAX, largest = 0;
        for (uint32_t k = 0; k < n; ++k) {
          std::vector<Mutant> part = SelectShard(all, ShardSpec{k, n, ""});
          smallest = std::min(smallest, part.size());
          largest = std::max(largest, part.size());
          for (const Mutant& m : part) seen[m.id]++;
        }
        ASSERT_EQ(seen.size(), count) << "count " << count << " n " << n;
        for (const auto& [id, times] : seen) ASSERT_EQ(times, 1) << id << " count " << count << " n " << n;
        if (!estimates) {
          EXPECT_LE(largest - smallest, 1u) << "count " << count << " n " << n;
        }
      }
    }
  }
}

TEST(SelectShardTest, DependsOnlyOnTheIdsNotTheirOrder) {
  for (bool estimates : {false, true}) {
    std::vector<Mutant> all = estimates ? Skewed(200, 7) : Mutants(200);
    std::vector<Mutant> shuffled = all;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    for (uint32_t k = 0; k < 4; ++k) {
      std::set<std::string> a, b;
      for (const Mutant& m : SelectShard(all, {k, 4, ""})) a.insert(m.id);
      for (const Mutant& m : SelectShard(shuffled, {k, 4, ""})) b.insert(m.id);
      EXPECT_EQ(a, b) << "shard " << k;
    }
  }
}

TEST(SelectShardTest, KeepsTheInputOrderWithinAShard) {
  std::vector<Mutant> all = Mutants(50);
  std::vector<Mutant> part = SelectShard(all, {1, 3, ""});
  for (size_t i = 1; i < part.size(); ++i) {
    auto pos = [&](const std::string& id) {
      return std::find_if(all.begin(), all.end(), [&](const Mutant& m) { return m.id == id; }) - all.begin();
    };
    EXPECT_LT(pos(part[i - 1].id), pos(part[i].id));
  }
}

TEST(SelectShardTest, OneMutantWithoutEstimateMeansBalancingByCount) {
  std::vector<Mutant> all = Skewed(40, 3);
  all[5].estimate_s.reset();
  for (uint32_t k = 0; k < 4; ++k) EXPECT_EQ(SelectShard(all, {k, 4, ""}).size(), 10u);
}

/// The largest shard's estimated time is within 10% of the ideal (total / n),
/// or within one mutant's time of it, on plans with skewed estimates.
TEST(SelectShardTest, EstimatedTimeIsBalanced) {
  for (unsigned seed : {1u, 2u, 3u}) {
    for (size_t count : {50u, 300u, 2000u}) {
      std::vector<Mutant> all = Skewed(count, seed);
      double total = 0, longest = 0;
      for (const Mutant& m : all) {
        total += *m.estimate_s;
        longest = std::max(longest, *m.estimate_s);
      }
      for (uint32_t n : {2u, 3u, 4u, 8u, 16u}) {
        std::vector<uint32_t> shard = AssignShards(all, n);
        std::vector<double> load(n, 0);
        for (size_t i = 0; i < all.size(); ++i) load[shard[i]] += *all[i].estimate_s;
        double largest = *std::max_element(load.begin(), load.end());
        double ideal = total / n;
        EXPECT_TRUE(largest <= ideal * 1.10 || largest <= ideal + longest)
            << "seed " << seed << " count " << count << " n " << n << ": largest " << largest << " ideal " << ideal
            << " longest mutant " << longest;
        if (seed == 1 && (count == 300u || count == 2000u)) {
          std::printf("balance: %zu mutants, %u shards: largest %.3f s, ideal %.3f s (+%.2f%%), longest mutant %.3f s\n",
                      count, n, largest, ideal, 100.0 * (largest / ideal - 1.0), longest);
        }
      }
    }
  }
}

TEST(ApplyShardTest, RecordsTheWholePlanAndNarrowsToTheShard) {
  std::string dir = ::testing::TempDir() + "/mutcell-shard-apply-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  StatePaths paths(dir);
  Plan plan;
  plan.mutants = Mutants(10);
  plan.fingerprint = "whole";
  std::string err;
  ASSERT_TRUE(ApplyShard({1, 3, "--shard 1/3"}, paths, &plan, &err)) << err;
  EXPECT_EQ(plan.mutants.size(), 3u);
  EXPECT_EQ(plan.fingerprint, "whole");
  ShardRecord rec;
  bool exists = false;
  ASSERT_TRUE(ReadShardRecord(paths, &rec, &exists, &err)) << err;
  ASSERT_TRUE(exists);
  EXPECT_EQ(rec.spec.index, 1u);
  EXPECT_EQ(rec.spec.count, 3u);
  EXPECT_EQ(rec.plan_fingerprint, "whole");
  EXPECT_EQ(rec.plan.size(), 10u);

  Plan whole;
  whole.mutants = Mutants(10);
  ASSERT_TRUE(ApplyShard({0, 1, ""}, paths, &whole, &err)) << err;
  EXPECT_EQ(whole.mutants.size(), 10u);
  ASSERT_TRUE(ReadShardRecord(paths, &rec, &exists, &err)) << err;
  EXPECT_FALSE(exists) << "an unsharded run removes the stale record";
  std::filesystem::remove_all(dir);
}

TEST(ApplyShardTest, SplitsTheWholeSelectionSoSettledMutantsDoNotMoveTheShards) {
  std::string dir = ::testing::TempDir() + "/mutcell-shard-whole-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  StatePaths paths(dir);
  Plan whole;
  whole.mutants = Mutants(12, true);
  whole.fingerprint = "whole";
  std::set<std::string> share;
  for (const Mutant& m : SelectShard(whole.mutants, {0, 2, ""})) share.insert(m.id);
  // What is left to run after an earlier session settled the first 5 mutants.
  Plan left;
  left.mutants.assign(whole.mutants.begin() + 5, whole.mutants.end());
  left.fingerprint = "of what is left";
  std::string err;
  ASSERT_TRUE(ApplyShard({0, 2, "test"}, paths, whole, &left, &err)) << err;
  EXPECT_EQ(left.fingerprint, "whole");
  for (const Mutant& m : left.mutants) EXPECT_TRUE(share.count(m.id)) << m.id << " is not in the shard's share";
  ShardRecord rec;
  bool exists = false;
  ASSERT_TRUE(ReadShardRecord(paths, &rec, &exists, &err)) << err;
  EXPECT_EQ(std::set<std::string>(rec.share.begin(), rec.share.end()), share);
  EXPECT_EQ(rec.plan.size(), 12u);
  std::filesystem::remove_all(dir);
}

TEST(ApplyShardTest, AMalformedRecordIsAnErrorNamingTheFile) {
  std::string dir = ::testing::TempDir() + "/mutcell-shard-bad-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  StatePaths paths(dir);
  FILE* f = std::fopen(ShardRecordPath(paths).c_str(), "w");
  std::fputs("{\"index\": 5, \"count\": 2}", f);
  std::fclose(f);
  ShardRecord rec;
  bool exists = false;
  std::string err;
  EXPECT_FALSE(ReadShardRecord(paths, &rec, &exists, &err));
  EXPECT_NE(err.find("shard.json"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mutcell
