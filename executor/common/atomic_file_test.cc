#include "executor/common/atomic_file.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

namespace fs = std::filesystem;

pid_t ExitedPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST(RemoveStaleTempFilesTest, RemovesWhatAGoneWriterLeftAndKeepsALiveMutcells) {
  char tmpl[] = "/tmp/mutcell-tmpfiles-test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  fs::create_directories(dir + "/src/pkg");
  // A live process with this binary's name (mutcell_unit_tests): a concurrent writer.
  pid_t live = fork();
  if (live == 0) {
    pause();
    _exit(0);
  }
  const std::string dead = std::to_string(ExitedPid());
  auto touch = [&](const std::string& name) {
    std::ofstream(dir + "/" + name) << "x";
    return dir + "/" + name;
  };
  const std::string gone = touch("src/pkg/a.py.meta.tmp-" + dead);
  const std::string own = touch("src/b.py.meta.tmp-" + std::to_string(getpid()));  // before we write any: stale
  const std::string kept = touch("src/pkg/c.py.meta.tmp-" + std::to_string(live));
  const std::string other_suffix = touch("src/pkg/d.py.tmp-" + dead);  // not a .meta's
  const std::string not_a_pid = touch("src/pkg/e.py.meta.tmp-abc");
  const std::string meta = touch("src/pkg/a.py.meta");

  std::vector<std::string> removed;
  RemoveStaleTempFiles(dir, ".meta", true, &removed);
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> want = {own, gone};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(removed, want);
  for (const std::string& p : {kept, other_suffix, not_a_pid, meta}) EXPECT_TRUE(fs::exists(p)) << p;

  // Without the recursion only the top directory; any suffix.
  const std::string top = touch("plan.json.tmp-" + dead);
  removed.clear();
  RemoveStaleTempFiles(dir, "", false, &removed);
  EXPECT_EQ(removed, std::vector<std::string>{top});
  EXPECT_TRUE(fs::exists(other_suffix));

  kill(live, SIGKILL);
  waitpid(live, nullptr, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mutcell
