#include "sandbox/cgroup_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mutcell {
namespace {

// A fake cgroup directory in a temp dir: files with the content the kernel
// would show, so the file readers run on real files.
class FakeCgroupDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-cgroup-files-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Put(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << content;
    return path;
  }
  std::string dir_;
};

TEST(Decimal, ParsesDigitsOnlyUpToUint64Max) {
  uint64_t v = 7;
  EXPECT_TRUE(ParseDecimal("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ParseDecimal("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  v = 7;
  for (const char* bad : {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "1k", "0x10"}) {
    EXPECT_FALSE(ParseDecimal(bad, &v)) << bad;
    EXPECT_EQ(v, 7u) << bad;
  }
}

TEST(CgroupValue, ParsesNumbersAndMax) {
  uint64_t v = 0;
  std::string err;
  ASSERT_TRUE(ParseCgroupValue("268435456\n", &v, &err)) << err;
  EXPECT_EQ(v, 268435456u);
  ASSERT_TRUE(ParseCgroupValue("max\n", &v, &err)) << err;
  EXPECT_EQ(v, kCgroupUnlimited);
  ASSERT_TRUE(ParseCgroupValue("9223372036854771712", &v, &err)) << err;
  EXPECT_EQ(v, 9223372036854771712u);
  ASSERT_TRUE(ParseCgroupValue("0", &v, &err)) << err;
  EXPECT_EQ(v, 0u);
}

TEST(CgroupValue, RejectsBadContent) {
  uint64_t v = 7;
  std::string err;
  EXPECT_FALSE(ParseCgroupValue("", &v, &err));
  EXPECT_FALSE(ParseCgroupValue("maximum", &v, &err));
  EXPECT_FALSE(ParseCgroupValue("-1", &v, &err));
  EXPECT_FALSE(ParseCgroupValue("12 34", &v, &err));
  EXPECT_FALSE(ParseCgroupValue("99999999999999999999999", &v, &err));
  EXPECT_NE(err.find("99999"), std::string::npos) << err;
  EXPECT_EQ(v, 7u);
}

TEST(FlatKeyed, ParsesMemoryEventsV2) {
  std::map<std::string, uint64_t> kv;
  std::string err;
  ASSERT_TRUE(ParseFlatKeyed("low 0\nhigh 3\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n", &kv,
                             &err))
      << err;
  EXPECT_EQ(kv.size(), 6u);
  EXPECT_EQ(kv["high"], 3u);
  EXPECT_EQ(kv["oom_kill"], 0u);
}

TEST(FlatKeyed, ParsesOomControlV1) {
  std::map<std::string, uint64_t> kv;
  std::string err;
  ASSERT_TRUE(ParseFlatKeyed("oom_kill_disable 1\nunder_oom 1\noom_kill 0\n", &kv, &err)) << err;
  EXPECT_EQ(kv["oom_kill_disable"], 1u);
  EXPECT_EQ(kv["under_oom"], 1u);
  EXPECT_EQ(kv["oom_kill"], 0u);
}

TEST(FlatKeyed, RejectsBadLinesNamingTheLine) {
  std::map<std::string, uint64_t> kv;
  std::string err;
  EXPECT_FALSE(ParseFlatKeyed("oom_kill_disable 1\nunder_oom yes\n", &kv, &err));
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
  EXPECT_FALSE(ParseFlatKeyed("lonely\n", &kv, &err));
  EXPECT_FALSE(ParseFlatKeyed("a 1 2\n", &kv, &err));
  EXPECT_TRUE(ParseFlatKeyed("", &kv, &err));
  EXPECT_TRUE(kv.empty());
}

TEST_F(FakeCgroupDir, ReadFlatKeyFromFiles) {
  std::string stat = Put("cell-1/memory.stat", "cache 4096\nrss 1048576\ntotal_rss 1048576\n");
  std::string oom = Put("cell-1/memory.oom_control", "oom_kill_disable 1\nunder_oom 0\n");
  uint64_t v = 9;
  std::string err;
  ASSERT_TRUE(ReadFlatKey(stat, "rss", &v, &err)) << err;
  EXPECT_EQ(v, 1048576u);
  // Older kernels have no oom_kill line: absent keys read as 0.
  ASSERT_TRUE(ReadFlatKey(oom, "oom_kill", &v, &err)) << err;
  EXPECT_EQ(v, 0u);
  std::string bad = Put("cell-1/memory.events", "oom_kill x\n");
  EXPECT_FALSE(ReadFlatKey(bad, "oom_kill", &v, &err));
  EXPECT_NE(err.find(bad), std::string::npos) << err;
  EXPECT_FALSE(ReadFlatKey(dir_ + "/missing", "oom_kill", &v, &err));
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
}

TEST_F(FakeCgroupDir, WriteStringToFileNamesErrno) {
  std::string path = Put("cell-2/memory.limit_in_bytes", "");
  std::string err;
  ASSERT_TRUE(WriteStringToFile(path, "268435456", &err)) << err;
  std::string back;
  ASSERT_TRUE(ReadFileToString(path, &back, &err)) << err;
  EXPECT_EQ(back, "268435456");
  EXPECT_FALSE(WriteStringToFile(dir_ + "/nope/memory.max", "1", &err));
  EXPECT_NE(err.find("write '1' to " + dir_ + "/nope/memory.max: No such file"),
            std::string::npos)
      << err;
}

TEST_F(FakeCgroupDir, KernelFileReadersReadEverythingAndRereadAnOpenFdFromTheStart) {
  std::string big;
  for (int i = 0; i < 3000; ++i) big += std::to_string(100000 + i) + "\n";  // 21 KB: several reads
  std::string path = Put("c/cgroup.procs", big);
  std::string text, err;
  ASSERT_TRUE(ReadKernelFile(path, &text, &err)) << err;
  EXPECT_EQ(text, big);
  std::vector<pid_t> pids;
  ASSERT_TRUE(ReadPidList(path, &pids, &err)) << err;
  EXPECT_EQ(pids.size(), 3000u);

  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(PreadKernelFile(fd, &text));
  EXPECT_EQ(text, big);
  std::ofstream(path) << "under_oom 1\n";  // new content, same open fd
  ASSERT_TRUE(PreadKernelFile(fd, &text));
  EXPECT_EQ(text, "under_oom 1\n");
  close(fd);
  EXPECT_FALSE(PreadKernelFile(-1, &text));

  EXPECT_FALSE(ReadKernelFile(dir_ + "/gone/memory.oom_control", &text, &err));
  EXPECT_EQ(errno, ENOENT);
  EXPECT_NE(err.find(dir_ + "/gone/memory.oom_control: No such file"), std::string::npos) << err;
}

TEST(KernelFile, AProcFileReadsTheSameAsReadingUntilEof) {
  std::string once, until_eof, err;
  ASSERT_TRUE(ReadKernelFile("/proc/self/cgroup", &once, &err)) << err;
  ASSERT_TRUE(ReadFileToString("/proc/self/cgroup", &until_eof, &err)) << err;
  EXPECT_FALSE(once.empty());
  EXPECT_EQ(once, until_eof);
}

TEST_F(FakeCgroupDir, PidLists) {
  std::vector<pid_t> pids;
  std::string err;
  ASSERT_TRUE(ReadPidList(Put("c/cgroup.procs", "12\n345\n"), &pids, &err)) << err;
  EXPECT_EQ(pids, (std::vector<pid_t>{12, 345}));
  ASSERT_TRUE(ReadPidList(Put("c/empty", ""), &pids, &err)) << err;
  EXPECT_TRUE(pids.empty());
  // A removed cgroup has no processes.
  ASSERT_TRUE(ReadPidList(dir_ + "/gone/cgroup.procs", &pids, &err)) << err;
  EXPECT_TRUE(pids.empty());
  EXPECT_FALSE(ReadPidList(Put("c/bad", "12\nabc\n"), &pids, &err));
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
}

TEST_F(FakeCgroupDir, ListSubdirsFiltersByPrefix) {
  Put("mutcell-1-a/x", "");
  Put("mutcell-2-b/x", "");
  Put("other/x", "");
  Put("mutcell-file", "");
  EXPECT_EQ(ListSubdirs(dir_, "mutcell-"), (std::vector<std::string>{"mutcell-1-a", "mutcell-2-b"}));
  EXPECT_TRUE(ListSubdirs(dir_ + "/missing", "").empty());
}

TEST(ProcCgroup, ParsesV1AndV2Lines) {
  std::vector<ProcCgroupLine> lines;
  std::string err;
  ASSERT_TRUE(ParseProcCgroup("9:name=systemd:/\n8:pids:/\n4:memory:/process_api/e1f6\n"
                              "2:cpu,cpuacct:/a:b\n0::/user.slice/x.scope\n",
                              &lines, &err))
      << err;
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_EQ(lines[2].hierarchy_id, 4);
  EXPECT_EQ(lines[2].path, "/process_api/e1f6");
  EXPECT_EQ(lines[3].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(lines[3].path, "/a:b");
  EXPECT_EQ(lines[4].hierarchy_id, 0);
  EXPECT_TRUE(lines[4].controllers.empty());
  EXPECT_EQ(lines[4].path, "/user.slice/x.scope");
}

TEST(ProcCgroup, RejectsBadLines) {
  std::vector<ProcCgroupLine> lines;
  std::string err;
  EXPECT_FALSE(ParseProcCgroup("4:memory\n", &lines, &err));
  EXPECT_FALSE(ParseProcCgroup("x:memory:/a\n", &lines, &err));
  EXPECT_FALSE(ParseProcCgroup("0::relative\n", &lines, &err));
  EXPECT_NE(err.find("line 1"), std::string::npos) << err;
}

// This machine's layout: v1 controllers under /sys/fs/cgroup/<name>, cgroup2 at
// /sys/fs/cgroup/unified.
constexpr const char* kMountInfoV1 =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kProcCgroupV1 =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/e1f6\n0::/\n";

TEST(Mounts, FindsV1MemoryAndPidsDirs) {
  std::string dir, err;
  ASSERT_TRUE(FindV1CgroupDir(kMountInfoV1, kProcCgroupV1, "memory", &dir, &err)) << err;
  EXPECT_EQ(dir, "/sys/fs/cgroup/memory/process_api/e1f6");
  ASSERT_TRUE(FindV1CgroupDir(kMountInfoV1, kProcCgroupV1, "pids", &dir, &err)) << err;
  EXPECT_EQ(dir, "/sys/fs/cgroup/pids");
  ASSERT_TRUE(FindV2CgroupDir(kMountInfoV1, kProcCgroupV1, &dir, &err)) << err;
  EXPECT_EQ(dir, "/sys/fs/cgroup/unified");
  EXPECT_FALSE(FindV1CgroupDir(kMountInfoV1, kProcCgroupV1, "freezer", &dir, &err));
  EXPECT_NE(err.find("freezer"), std::string::npos) << err;
}

TEST(Mounts, V2InsideACgroupNamespaceMountWithEscapes) {
  // A container whose cgroup2 mount's root is its own subtree; a space in the
  // mount point is escaped as \040.
  const char* mountinfo =
      "30 25 0:26 /kubepods/pod1 /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
  std::string dir, err;
  ASSERT_TRUE(FindV2CgroupDir(mountinfo, "0::/kubepods/pod1/ctr\n", &dir, &err)) << err;
  EXPECT_EQ(dir, "/sys/fs/my cgroup/ctr");
  EXPECT_FALSE(FindV2CgroupDir(mountinfo, "0::/elsewhere\n", &dir, &err));
  EXPECT_NE(err.find("outside"), std::string::npos) << err;
  EXPECT_FALSE(FindV2CgroupDir("", "0::/\n", &dir, &err));
  EXPECT_NE(err.find("no cgroup2"), std::string::npos) << err;
}

TEST(Mounts, RejectsGarbage) {
  std::vector<CgroupMount> mounts;
  std::string err;
  EXPECT_FALSE(ParseCgroupMounts("this is not mountinfo\n", &mounts, &err));
  EXPECT_NE(err.find("line 1"), std::string::npos) << err;
}

TEST(RunCgroupName, CarriesTheOwnerPid) {
  std::string name, err;
  ASSERT_TRUE(RunCgroupName(4242, "20261127-abc_1.x", &name, &err)) << err;
  EXPECT_EQ(name, "mutcell-4242-20261127-abc_1.x");
  pid_t owner = 0;
  ASSERT_TRUE(ParseRunCgroupName(name, &owner));
  EXPECT_EQ(owner, 4242);
  EXPECT_FALSE(RunCgroupName(1, "../escape", &name, &err));
  EXPECT_FALSE(RunCgroupName(1, "", &name, &err));
  EXPECT_FALSE(ParseRunCgroupName("mutcell-abc-x", &owner));
  EXPECT_FALSE(ParseRunCgroupName("mutcell-12", &owner));
  EXPECT_FALSE(ParseRunCgroupName("mutcell-12-", &owner));
  EXPECT_FALSE(ParseRunCgroupName("other-12-x", &owner));
}

TEST(ProcStat, ParsesNamesWithSpacesAndParens) {
  const char* line =
      "4242 (my (odd) name) S 100 4242 99 34816 4242 4194560 500 0 0 0 3 1 0 0 20 0 3 0 "
      "123456 24576000 6000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcStat st;
  std::string err;
  ASSERT_TRUE(ParseProcStat(line, &st, &err)) << err;
  EXPECT_EQ(st.pid, 4242);
  EXPECT_EQ(st.state, 'S');
  EXPECT_EQ(st.ppid, 100);
  EXPECT_EQ(st.pgrp, 4242);
  EXPECT_EQ(st.session, 99);
  EXPECT_EQ(st.num_threads, 3u);
  EXPECT_EQ(st.start_time, 123456u);
  EXPECT_EQ(st.rss_pages, 6000u);
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 2", &st, &err));
  EXPECT_FALSE(ParseProcStat("garbage", &st, &err));
}

TEST(ProcStat, ParsesOurOwnStat) {
  std::string text, err;
  ASSERT_TRUE(ReadFileToString("/proc/self/stat", &text, &err)) << err;
  ProcStat st;
  ASSERT_TRUE(ParseProcStat(text, &st, &err)) << err;
  EXPECT_EQ(st.pid, getpid());
  EXPECT_EQ(st.ppid, getppid());
  EXPECT_EQ(st.pgrp, getpgrp());
  EXPECT_GT(st.rss_pages, 0u);
  EXPECT_GE(st.num_threads, 1u);
}

TEST(ProcessAlive, SelfAndReaped) {
  EXPECT_TRUE(ProcessAlive(getpid()));
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(ProcessAlive(child));
}

}  // namespace
}  // namespace mutcell
