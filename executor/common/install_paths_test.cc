#include "executor/common/install_paths.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {
namespace fs = std::filesystem;

class InstallPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-install-paths-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Touch(const std::string& rel) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x\n";
    return p.string();
  }
  fs::path root_;
};

TEST_F(InstallPathsTest, PrefixLayoutFindsShareBesideBin) {
  const std::string exe = Touch("prefix/bin/mutcell");
  const std::string script = Touch("prefix/share/mutcell/mutcell_zygote.py");
  std::string path, err;
  ASSERT_TRUE(FindScriptFor(exe, "mutcell_zygote.py", &path, &err)) << err;
  EXPECT_EQ(fs::weakly_canonical(path), fs::path(script));
}

TEST_F(InstallPathsTest, BuildTreeLayoutFindsTheCopyBesideTheBinary) {
  const std::string exe = Touch("build/mutcell");
  const std::string script = Touch("build/share/mutcell/mutcell_prepare.py");
  std::string path, err;
  ASSERT_TRUE(FindScriptFor(exe, "mutcell_prepare.py", &path, &err)) << err;
  EXPECT_EQ(path, script);
}

TEST_F(InstallPathsTest, InstalledLayoutWinsOverABuildTreeCopy) {
  const std::string exe = Touch("venv/bin/mutcell");
  Touch("venv/bin/share/mutcell/mutcell_zygote.py");
  Touch("venv/share/mutcell/mutcell_zygote.py");
  const std::vector<std::string> dirs = ScriptDirCandidates(exe);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], (root_ / "venv/share/mutcell").string());
  EXPECT_EQ(dirs[1], (root_ / "venv/bin/share/mutcell").string());
  std::string path, err;
  ASSERT_TRUE(FindScriptFor(exe, "mutcell_zygote.py", &path, &err)) << err;
  EXPECT_EQ(path, dirs[0] + "/mutcell_zygote.py");
}

TEST_F(InstallPathsTest, MissingScriptNamesEveryPlaceLooked) {
  const std::string exe = Touch("prefix/bin/mutcell");
  std::string path, err;
  EXPECT_FALSE(FindScriptFor(exe, "mutcell_zygote.py", &path, &err));
  EXPECT_NE(err.find("mutcell_zygote.py"), std::string::npos) << err;
  for (const std::string& dir : ScriptDirCandidates(exe))
    EXPECT_NE(err.find(dir + "/mutcell_zygote.py"), std::string::npos) << err;
  EXPECT_FALSE(FindScriptFor("", "mutcell_zygote.py", &path, &err));
  EXPECT_NE(err.find("/proc/self/exe"), std::string::npos) << err;
}

TEST_F(InstallPathsTest, TheRunningTestBinaryHasNoScriptsBesideIt) {
  // The unit tests sit in the build tree next to mutcell, whose build copies
  // the scripts into <build>/share/mutcell: found there, never in the source tree.
  std::string path, err;
  if (FindScript("mutcell_zygote.py", &path, &err)) {
    EXPECT_EQ(fs::path(path).parent_path(), fs::path(RunningBinary()).parent_path() / "share" / "mutcell");
  } else {
    EXPECT_NE(err.find(RunningBinary()), std::string::npos) << err;
  }
}

TEST_F(InstallPathsTest, DefaultPythonIsTheVenvsWhenTheBinaryIsInOne) {
  const std::string exe = Touch("venv/bin/mutcell");
  EXPECT_EQ(DefaultPythonFor(exe), "python3") << "no pyvenv.cfg yet: not a venv";
  Touch("venv/pyvenv.cfg");
  EXPECT_EQ(DefaultPythonFor(exe), "python3") << "a venv without python";
  fs::create_symlink("/usr/bin/python3", root_ / "venv/bin/python");
  EXPECT_EQ(DefaultPythonFor(exe), (root_ / "venv/bin/python").string());
  fs::create_symlink("/usr/bin/python3", root_ / "venv/bin/python3");
  // The link itself, not /usr/bin/python3: only through it is the venv used.
  EXPECT_EQ(DefaultPythonFor(exe), (root_ / "venv/bin/python3").string());
  EXPECT_EQ(DefaultPythonFor(Touch("prefix/bin/mutcell")), "python3");
  EXPECT_EQ(DefaultPythonFor(""), "python3");
}

}  // namespace
}  // namespace mutcell
