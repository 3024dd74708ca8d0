#include "limits/discovery.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mutcell {
namespace {

namespace fs = std::filesystem;

// A fake /proc and cgroup tree in a temporary directory.
class DiscoveryTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-discovery-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    roots_.proc_dir = root_ + "/proc";
    Write("proc/meminfo",
          "MemTotal:       8388608 kB\n"
          "MemFree:        4000000 kB\n"
          "MemAvailable:   6291456 kB\n"
          "SwapTotal:      1048576 kB\n"
          "SwapFree:        524288 kB\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }

  // A mountinfo with a v1 memory hierarchy and the unified one, both in the tree.
  std::string Mountinfo(const std::string& v1_root = "/") const {
    return "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
           "35 31 0:32 " + v1_root + " " + Path("mem") +
           " rw,relatime - cgroup cgroup rw,memory\n"
           "39 31 0:36 / " + Path("pids") + " rw,relatime - cgroup cgroup rw,pids\n"
           "41 31 0:38 / " + Path("unified") + " rw,relatime - cgroup2 cgroup2 rw\n";
  }

  MemoryFacts Discover() {
    MemoryFacts f;
    std::string err;
    EXPECT_TRUE(DiscoverMemory(roots_, &f, &err)) << err;
    return f;
  }

  std::string root_;
  DiscoveryRoots roots_;
};

TEST_F(DiscoveryTree, ReadsMeminfoInBytes) {
  Write("proc/self/cgroup", "0::/\n");
  Write("proc/self/mountinfo", "");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.mem_total, 8ull << 30);
  EXPECT_EQ(f.mem_available, 6ull << 30);
  EXPECT_EQ(f.swap_total, 1ull << 30);
  EXPECT_EQ(f.swap_free, 512ull << 20);
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kNone);
  EXPECT_FALSE(f.cgroup_limit);
  EXPECT_EQ(f.EffectiveLimit(), 8ull << 30);
  EXPECT_EQ(f.EffectiveLimitSource(), "host MemTotal");
}

TEST_F(DiscoveryTree, MissingMeminfoIsAnErrorNamingTheFile) {
  fs::remove(Path("proc/meminfo"));
  MemoryFacts f;
  std::string err;
  EXPECT_FALSE(DiscoverMemory(roots_, &f, &err));
  EXPECT_NE(err.find(Path("proc/meminfo")), std::string::npos) << err;
}

TEST_F(DiscoveryTree, MeminfoWithoutMemTotalIsAnError) {
  Write("proc/meminfo", "MemFree: 10 kB\n");
  MemoryFacts f;
  std::string err;
  EXPECT_FALSE(DiscoverMemory(roots_, &f, &err));
  EXPECT_NE(err.find("MemTotal"), std::string::npos) << err;
}

TEST_F(DiscoveryTree, GarbledMeminfoLineIsAnErrorWithItsLineNumber) {
  Write("proc/meminfo", "MemTotal: 100 kB\nSwapTotal: lots kB\n");
  MemoryFacts f;
  std::string err;
  EXPECT_FALSE(DiscoverMemory(roots_, &f, &err));
  EXPECT_NE(err.find("meminfo:2:"), std::string::npos) << err;
}

TEST_F(DiscoveryTree, MeminfoWithoutMemAvailableFallsBackToMemFree) {
  Write("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 300 kB\n");
  Write("proc/self/cgroup", "0::/\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.mem_available, 300u * 1024);
}

TEST_F(DiscoveryTree, V2TakesTheTightestMemoryMaxUpThePath) {
  Write("proc/self/cgroup", "0::/user.slice/user-1000.slice/run.scope\n");
  Write("proc/self/mountinfo", "41 31 0:38 / " + Path("cg") + " rw - cgroup2 cgroup2 rw\n");
  Write("cg/cgroup.controllers", "cpuset cpu io memory pids\n");
  Write("cg/user.slice/memory.max", "max\n");
  Write("cg/user.slice/memory.swap.max", "max\n");
  Write("cg/user.slice/user-1000.slice/memory.max", "4294967296\n");
  Write("cg/user.slice/user-1000.slice/memory.swap.max", "1073741824\n");
  Write("cg/user.slice/user-1000.slice/run.scope/memory.max", "6442450944\n");
  Write("cg/user.slice/user-1000.slice/run.scope/memory.swap.max", "0\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV2);
  EXPECT_EQ(f.cgroup_path, "/user.slice/user-1000.slice/run.scope");
  EXPECT_EQ(f.cgroup_dir, Path("cg/user.slice/user-1000.slice/run.scope"));
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 4ull << 30);
  EXPECT_EQ(f.limit_source, Path("cg/user.slice/user-1000.slice"));
  ASSERT_TRUE(f.cgroup_swap_limit);
  EXPECT_EQ(*f.cgroup_swap_limit, 0u);
  EXPECT_TRUE(f.swap_accounted);
  EXPECT_EQ(f.EffectiveLimit(), 4ull << 30);
  EXPECT_EQ(f.EffectiveLimitSource(), "cgroup limit on " + Path("cg/user.slice/user-1000.slice"));
}

TEST_F(DiscoveryTree, V2WithoutLimitsAndWithoutSwapFilesHasNoneAndNoSwapAccounting) {
  Write("proc/self/cgroup", "0::/a\n");
  Write("proc/self/mountinfo", "41 31 0:38 / " + Path("cg") + " rw - cgroup2 cgroup2 rw\n");
  Write("cg/cgroup.controllers", "memory pids\n");
  Write("cg/a/memory.max", "max\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV2);
  EXPECT_FALSE(f.cgroup_limit);
  EXPECT_EQ(f.limit_source, Path("cg/a"));
  EXPECT_FALSE(f.swap_accounted);
  EXPECT_FALSE(f.cgroup_swap_limit);
}

TEST_F(DiscoveryTree, V2LimitAboveMemTotalLeavesTheHostAsEffectiveLimit) {
  Write("proc/self/cgroup", "0::/a\n");
  Write("proc/self/mountinfo", "41 31 0:38 / " + Path("cg") + " rw - cgroup2 cgroup2 rw\n");
  Write("cg/cgroup.controllers", "memory\n");
  Write("cg/a/memory.max", std::to_string(64ull << 30) + "\n");
  MemoryFacts f = Discover();
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(f.EffectiveLimit(), 8ull << 30);
  EXPECT_EQ(f.EffectiveLimitSource(), "host MemTotal");
}

TEST_F(DiscoveryTree, CorruptMemoryMaxIsAnErrorNotNoLimit) {
  Write("proc/self/cgroup", "0::/a\n");
  Write("proc/self/mountinfo", "41 31 0:38 / " + Path("cg") + " rw - cgroup2 cgroup2 rw\n");
  Write("cg/cgroup.controllers", "memory\n");
  Write("cg/a/memory.max", "12x\n");
  MemoryFacts f;
  std::string err;
  EXPECT_FALSE(DiscoverMemory(roots_, &f, &err));
  EXPECT_NE(err.find(Path("cg/a/memory.max")), std::string::npos) << err;
}

TEST_F(DiscoveryTree, HybridWithoutV2MemoryControllerUsesV1) {
  // Like this project's machines: v1 memory, and a unified tree without memory.
  Write("proc/self/cgroup", "4:memory:/process_api/abc\n8:pids:/\n0::/\n");
  Write("proc/self/mountinfo", Mountinfo());
  Write("unified/cgroup.controllers", "");
  Write("mem/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/process_api/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/process_api/abc/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/process_api/abc/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  Write("mem/process_api/abc/memory.stat",
        "cache 0\nrss 4096\nhierarchical_memory_limit 9223372036854771712\n"
        "hierarchical_memsw_limit 9223372036854771712\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV1);
  EXPECT_EQ(f.cgroup_path, "/process_api/abc");
  EXPECT_EQ(f.cgroup_dir, Path("mem/process_api/abc"));
  EXPECT_FALSE(f.cgroup_limit);
  EXPECT_TRUE(f.swap_accounted);
  EXPECT_FALSE(f.cgroup_swap_limit);
  EXPECT_EQ(f.EffectiveLimit(), 8ull << 30);
  EXPECT_EQ(FormatMemoryFacts(f),
            "host 8 GiB (avail 6 GiB), cgroup v1 limit none (/process_api/abc), swap 1 GiB, "
            "swap accounted");
}

TEST_F(DiscoveryTree, V1HierarchicalLimitNamesTheAncestorItIsSetOn) {
  Write("proc/self/cgroup", "4:memory:/ci/job/step\n0::/\n");
  Write("proc/self/mountinfo", Mountinfo());
  Write("mem/ci/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/ci/job/memory.limit_in_bytes", "2147483648\n");
  Write("mem/ci/job/memory.memsw.limit_in_bytes", "3221225472\n");
  Write("mem/ci/job/step/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/ci/job/step/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  Write("mem/ci/job/step/memory.stat",
        "hierarchical_memory_limit 2147483648\nhierarchical_memsw_limit 3221225472\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV1);
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 2ull << 30);
  EXPECT_EQ(f.limit_source, Path("mem/ci/job"));
  ASSERT_TRUE(f.cgroup_swap_limit);
  EXPECT_EQ(*f.cgroup_swap_limit, 1ull << 30);
  EXPECT_EQ(f.EffectiveLimit(), 2ull << 30);
  EXPECT_EQ(FormatMemoryFacts(f),
            "host 8 GiB (avail 6 GiB), cgroup v1 limit 2 GiB (" + Path("mem/ci/job") +
                "), swap 1 GiB (cgroup swap limit 1 GiB), swap accounted");
}

TEST_F(DiscoveryTree, V1MemswBelowTheMemoryLimitIsTheLimitThatBites) {
  Write("proc/self/cgroup", "4:memory:/a/b\n");
  Write("proc/self/mountinfo", Mountinfo());
  Write("mem/a/memory.limit_in_bytes", "9223372036854771712\n");
  Write("mem/a/memory.memsw.limit_in_bytes", "1073741824\n");
  Write("mem/a/b/memory.limit_in_bytes", "2147483648\n");
  Write("mem/a/b/memory.memsw.limit_in_bytes", "2147483648\n");
  Write("mem/a/b/memory.stat",
        "hierarchical_memory_limit 2147483648\nhierarchical_memsw_limit 1073741824\n");
  MemoryFacts f = Discover();
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 1ull << 30);
  EXPECT_EQ(f.limit_source, Path("mem/a"));
  EXPECT_EQ(f.cgroup_swap_limit.value_or(99), 0u);
}

TEST_F(DiscoveryTree, V1WithoutMemswFilesDoesNotAccountSwap) {
  Write("proc/self/cgroup", "4:memory:/a\n");
  Write("proc/self/mountinfo", Mountinfo());
  Write("mem/a/memory.limit_in_bytes", "536870912\n");
  // No memory.stat hierarchical lines: the walk decides.
  Write("mem/a/memory.stat", "cache 0\n");
  MemoryFacts f = Discover();
  EXPECT_FALSE(f.swap_accounted);
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 512ull << 20);
  EXPECT_EQ(f.limit_source, Path("mem/a"));
  EXPECT_FALSE(f.cgroup_swap_limit);
}

TEST_F(DiscoveryTree, V1ContainerMountRootIsStrippedFromOurPath) {
  // Docker without a cgroup namespace: /proc/self/cgroup names the host path,
  // and the hierarchy mounted at /sys/fs/cgroup/memory is that subtree.
  Write("proc/self/cgroup", "4:memory:/docker/0123abcd\n");
  Write("proc/self/mountinfo", Mountinfo("/docker/0123abcd"));
  Write("mem/memory.limit_in_bytes", "1073741824\n");
  Write("mem/memory.stat", "hierarchical_memory_limit 1073741824\n");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV1);
  EXPECT_EQ(f.cgroup_dir, Path("mem"));
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 1ull << 30);
  EXPECT_EQ(f.limit_source, Path("mem"));
}

TEST_F(DiscoveryTree, ExplicitMountPointsOverrideMountinfo) {
  Write("proc/self/cgroup", "4:memory:/x\n");
  Write("proc/self/mountinfo", "garbage that is never read\n");
  Write("elsewhere/x/memory.limit_in_bytes", "268435456\n");
  roots_.v1_memory_mount = Path("elsewhere");
  roots_.v2_mount = Path("no-v2");
  MemoryFacts f = Discover();
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV1);
  ASSERT_TRUE(f.cgroup_limit);
  EXPECT_EQ(*f.cgroup_limit, 256ull << 20);
}

TEST_F(DiscoveryTree, UnparsableMountinfoIsAnErrorNamingTheFile) {
  Write("proc/self/cgroup", "4:memory:/x\n");
  Write("proc/self/mountinfo", "not a mountinfo line\n");
  MemoryFacts f;
  std::string err;
  EXPECT_FALSE(DiscoverMemory(roots_, &f, &err));
  EXPECT_NE(err.find("mountinfo"), std::string::npos) << err;
}

// ---- The real machine, with values read independently here. ----

uint64_t MeminfoKb(const char* key) {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char name[64];
  unsigned long long kb = 0;
  uint64_t found = 0;
  while (std::fscanf(f, "%63[^:]: %llu kB\n", name, &kb) == 2) {
    if (std::string(name) == key) found = kb;
  }
  std::fclose(f);
  return found * 1024;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DiscoveryRealMachine, MatchesTheKernelFiles) {
  MemoryFacts f;
  std::string err;
  ASSERT_TRUE(DiscoverMemory(DiscoveryRoots{}, &f, &err)) << err;
  EXPECT_EQ(f.mem_total, MeminfoKb("MemTotal"));
  EXPECT_EQ(f.swap_total, MeminfoKb("SwapTotal"));
  EXPECT_GT(f.mem_available, 0u);
  EXPECT_LE(f.mem_available, f.mem_total);
  EXPECT_LE(f.EffectiveLimit(), f.mem_total);

  // Our v1 memory cgroup, found with a plain string search.
  std::string cg = Slurp("/proc/self/cgroup");
  std::string v1_path;
  std::istringstream lines(cg);
  for (std::string line; std::getline(lines, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    std::string ctrls = line.substr(a + 1, b - a - 1);
    if (("," + ctrls + ",").find(",memory,") != std::string::npos) v1_path = line.substr(b + 1);
  }
  const std::string v1_mount = "/sys/fs/cgroup/memory";
  bool unified_memory =
      Slurp("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos ||
      Slurp("/sys/fs/cgroup/unified/cgroup.controllers").find("memory") != std::string::npos;
  if (unified_memory) {
    EXPECT_EQ(f.cgroup_version, CgroupVersion::kV2);
    // The root cgroup has no memory.max; below it the file always exists.
    std::string memmax = Slurp(f.cgroup_dir + "/memory.max");
    if (!memmax.empty() && memmax.rfind("max", 0) != 0) {
      ASSERT_TRUE(f.cgroup_limit);
      EXPECT_LE(*f.cgroup_limit, std::stoull(memmax));
    }
    return;
  }
  if (v1_path.empty() || !fs::exists(v1_mount + v1_path + "/memory.stat")) {
    EXPECT_EQ(f.cgroup_version, CgroupVersion::kNone);
    GTEST_SKIP() << "no cgroup memory controller visible at " << v1_mount
                 << "; only the host part was checked";
  }
  EXPECT_EQ(f.cgroup_version, CgroupVersion::kV1);
  EXPECT_EQ(f.cgroup_path, v1_path);
  std::string dir = v1_mount + (v1_path == "/" ? "" : v1_path);
  EXPECT_EQ(f.cgroup_dir, dir);
  std::istringstream stat(Slurp(dir + "/memory.stat"));
  unsigned long long hier = 0;
  for (std::string k; stat >> k;) {
    unsigned long long v = 0;
    stat >> v;
    if (k == "hierarchical_memory_limit") hier = v;
  }
  ASSERT_NE(hier, 0u);
  if (hier >= (1ull << 62)) {
    EXPECT_FALSE(f.cgroup_limit) << *f.cgroup_limit;
    EXPECT_EQ(f.limit_source, dir);
  } else {
    ASSERT_TRUE(f.cgroup_limit);
    EXPECT_EQ(*f.cgroup_limit, hier);
  }
  EXPECT_EQ(f.swap_accounted, fs::exists(dir + "/memory.memsw.limit_in_bytes"));
  std::cout << "this machine: " << FormatMemoryFacts(f) << "\n";
}

}  // namespace
}  // namespace mutcell
