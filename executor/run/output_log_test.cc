#include "executor/run/output_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace mutcell {
namespace {
namespace fs = std::filesystem;

class OutputLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-output-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    path_ = (root_ / "attempt.log").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Appends `text` as the attempt's child does.
  void Append(const std::string& text) {
    int fd = open(path_.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }

  /// Bytes allocated to the log (reserved blocks beyond its end included).
  uint64_t Allocated() {
    struct stat st;
    EXPECT_EQ(stat(path_.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }

  fs::path root_;
  std::string path_;
};

TEST_F(OutputLogTest, CheckLeavesTheReservationAndTrimGivesItBack) {
  uint64_t start = 1;
  std::string err;
  ASSERT_TRUE(ReserveOutputLog(path_, kLogReserveBytes, &start, &err)) << err;
  EXPECT_EQ(start, 0u);
  if (Allocated() < kLogReserveBytes) GTEST_SKIP() << "the filesystem of /tmp does not reserve space (fallocate)";
  Append("ten bytes\n");
  // The verdict's part: the output landed in reserved space.
  ASSERT_TRUE(CheckOutputLog(path_, start, kLogReserveBytes, &err)) << err;
  EXPECT_GE(Allocated(), kLogReserveBytes);  // the trim is left for later
  ASSERT_TRUE(TrimOutputLog(path_, &err)) << err;
  EXPECT_LT(Allocated(), kLogReserveBytes);
  EXPECT_EQ(fs::file_size(path_), 10u);  // the output itself is untouched
}

TEST_F(OutputLogTest, ALogTheMutantDeletedIsNeitherAnErrorToCheckNorToTrim) {
  uint64_t start = 0;
  std::string err;
  ASSERT_TRUE(ReserveOutputLog(path_, kLogReserveBytes, &start, &err)) << err;
  ASSERT_EQ(unlink(path_.c_str()), 0);
  EXPECT_TRUE(CheckOutputLog(path_, start, kLogReserveBytes, &err)) << err;
  EXPECT_TRUE(TrimOutputLog(path_, &err)) << err;
}

TEST_F(OutputLogTest, OutputBeyondTheReservationIsFineWhileTheFilesystemHasRoom) {
  uint64_t start = 0;
  std::string err;
  ASSERT_TRUE(ReserveOutputLog(path_, 16, &start, &err)) << err;
  Append(std::string(4096, 'x'));
  EXPECT_TRUE(CheckOutputLog(path_, start, 16, &err)) << err;
}

}  // namespace
}  // namespace mutcell
