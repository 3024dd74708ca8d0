#include "executor/plan/config.h"

#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <ostream>
#include <fstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-config-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to `name` and loads it into cfg_; returns the error or "".
  std::string Load(const std::string& text, const std::string& name = "mutcell.toml") {
    path_ = dir_ + "/" + name;
    std::ofstream(path_, std::ios::binary) << text;
    std::string err;
    if (LoadConfigFile(path_, &cfg_, &err)) return "";
    EXPECT_FALSE(err.empty());
    return err;
  }

  std::string dir_, path_;
  Config cfg_;
};

TEST_F(ConfigFileTest, ReadsEveryKey) {
  ASSERT_EQ(Load(R"(
state_dir = "out/.state"
jobs = 3
cell_memory = "256M"
cell_pids = 64
timeout_s = 2.5
kill_grace_s = 0
stop_grace_s = 4
max_attempts = 5
backend = "v1"
argv = ["python3", "-m", "pytest", ""]

[env]
PYTHONHASHSEED = "0"
EMPTY = ""
)"),
            "");
  EXPECT_EQ(cfg_.state_dir, "out/.state");
  EXPECT_EQ(cfg_.jobs, 3);
  EXPECT_EQ(cfg_.cell_memory, 256ull << 20);
  EXPECT_EQ(cfg_.cell_pids, 64u);
  EXPECT_EQ(cfg_.timeout_s, 2.5);
  EXPECT_EQ(cfg_.kill_grace_s, 0);
  EXPECT_EQ(cfg_.stop_grace_s, 4);
  EXPECT_EQ(cfg_.max_attempts, 5);
  EXPECT_EQ(cfg_.backend, "v1");
  EXPECT_EQ(cfg_.argv, (std::vector<std::string>{"python3", "-m", "pytest", ""}));
  EXPECT_EQ(cfg_.env.at("PYTHONHASHSEED"), "0");
  EXPECT_EQ(cfg_.env.at("EMPTY"), "");
}

TEST_F(ConfigFileTest, CellCpuIsAutoOrANumberOfCpus) {
  EXPECT_TRUE(cfg_.cell_cpu.is_auto) << "auto by default";
  ASSERT_EQ(Load("cell_cpu = 0.5\n"), "");
  EXPECT_FALSE(cfg_.cell_cpu.is_auto);
  EXPECT_EQ(cfg_.cell_cpu.cpus, 0.5);
  ASSERT_EQ(Load("cell_cpu = 2\n"), "");
  EXPECT_EQ(cfg_.cell_cpu.cpus, 2);
  ASSERT_EQ(Load("cell_cpu = \"1.5\"\n"), "");
  EXPECT_EQ(cfg_.cell_cpu.cpus, 1.5);
  ASSERT_EQ(Load("cell_cpu = 0\n"), "");
  EXPECT_EQ(cfg_.cell_cpu.cpus, 0);
  ASSERT_EQ(Load("cell_cpu = \"auto\"\n"), "");
  EXPECT_TRUE(cfg_.cell_cpu.is_auto);
}

TEST_F(ConfigFileTest, OverridesOnlyKeysPresent) {
  cfg_.jobs = 7;
  cfg_.backend = "none";
  ASSERT_EQ(Load("timeout_s = 9\n"), "");
  EXPECT_EQ(cfg_.timeout_s, 9);
  EXPECT_EQ(cfg_.jobs, 7);
  EXPECT_EQ(cfg_.backend, "none");
  EXPECT_EQ(cfg_.cell_memory, Config{}.cell_memory);
}

TEST_F(ConfigFileTest, CellMemoryAcceptsIntegerBytes) {
  ASSERT_EQ(Load("cell_memory = 1048576\n"), "");
  EXPECT_EQ(cfg_.cell_memory, 1048576u);
  ASSERT_EQ(Load("cell_memory = \"1.5GiB\"\n"), "");
  EXPECT_EQ(cfg_.cell_memory, 3ull << 29);
}

TEST_F(ConfigFileTest, PyprojectUsesToolMutcell) {
  ASSERT_EQ(Load(R"(
[project]
name = "x"
jobs = "not ours"

[tool.black]
line-length = 100

[tool.mutcell]
jobs = 2
cell_memory = "1G"

[tool.mutcell.env]
A = "1"
)",
                 "pyproject.toml"),
            "");
  EXPECT_EQ(cfg_.jobs, 2);
  EXPECT_EQ(cfg_.cell_memory, 1ull << 30);
  EXPECT_EQ(cfg_.env.at("A"), "1");
}

TEST_F(ConfigFileTest, PyprojectWithoutOurTableChangesNothing) {
  ASSERT_EQ(Load("[project]\nname = \"x\"\n[tool.black]\nx = 1\n", "pyproject.toml"), "");
  EXPECT_EQ(cfg_.jobs, Config{}.jobs);
  ASSERT_EQ(Load("[project]\nname = \"x\"\n", "pyproject.toml"), "");
}

TEST_F(ConfigFileTest, PyprojectUnknownKeyNamesTheFullKey) {
  std::string err = Load("[project]\nname = \"x\"\n\n[tool.mutcell]\njobs = 1\n  celll_memory = \"1G\"\n",
                         "pyproject.toml");
  EXPECT_EQ(err.rfind(path_ + ":6:3: unknown key \"tool.mutcell.celll_memory\"", 0), 0u) << err;
}

TEST_F(ConfigFileTest, PyprojectToolMutcellMustBeATable) {
  std::string err = Load("[tool]\nmutcell = 3\n", "pyproject.toml");
  EXPECT_EQ(err.rfind(path_ + ":2:11: tool.mutcell: expected a table", 0), 0u) << err;
}

TEST_F(ConfigFileTest, ErrorLeavesConfigUntouched) {
  cfg_.jobs = 7;
  EXPECT_NE(Load("jobs = 2\ntimeout_s = \"soon\"\n"), "");
  EXPECT_EQ(cfg_.jobs, 7);  // all or nothing
}

TEST_F(ConfigFileTest, MissingFileIsAnError) {
  std::string err;
  EXPECT_FALSE(LoadConfigFile(dir_ + "/absent.toml", &cfg_, &err));
  EXPECT_NE(err.find(dir_ + "/absent.toml"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
}

TEST_F(ConfigFileTest, SyntaxErrorNamesLineAndColumn) {
  std::string err = Load("jobs = 2\ntimeout_s = = 3\n");
  EXPECT_EQ(err.rfind(path_ + ":2:", 0), 0u) << err;
  err = Load("[env]\nA = \"unterminated\n");
  EXPECT_EQ(err.rfind(path_ + ":2:", 0), 0u) << err;
  err = Load("jobs = 1\njobs = 2\n");  // TOML forbids redefinition
  EXPECT_EQ(err.rfind(path_ + ":2:", 0), 0u) << err;
}

// ---- bad values: "PATH:LINE:COL: key: problem" --------------------------

struct BadValue {
  const char* toml;      // the file, the bad key on line 2
  const char* location;  // ":2:COL: "
  const char* expected;  // substring of the problem
};

// Names the case in test listings (ctest shows it) by its expected message,
// in plain characters, instead of the struct's raw bytes.
void PrintTo(const BadValue& b, std::ostream* os) {
  for (const char* text : {b.expected, " in ", b.toml}) {
    int n = 0;
    for (const char* p = text; *p && n < 40; ++p, ++n)
      if (std::isalnum(static_cast<unsigned char>(*p)) || *p == ' ' || *p == '_') *os << *p;
  }
}

class ConfigBadValueTest : public ConfigFileTest, public ::testing::WithParamInterface<BadValue> {};

TEST_P(ConfigBadValueTest, IsRefusedNamingFileLineColumnAndKey) {
  const BadValue& bad = GetParam();
  std::string err = Load(std::string("# mutcell\n") + bad.toml + "\n");
  EXPECT_EQ(err.rfind(path_ + bad.location, 0), 0u) << err;
  EXPECT_NE(err.find(bad.expected), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, ConfigBadValueTest,
    ::testing::Values(
        BadValue{"cell_memroy = \"1G\"", ":2:1: ", "unknown key \"cell_memroy\""},
        BadValue{"  [env]\nA = \"1\"\n[other]\nx = 1", ":4:2: ", "unknown key \"other\""},
        BadValue{"cell_memory = \"12XB\"", ":2:15: ", "cell_memory: size '12XB' has an unknown unit 'XB'"},
        BadValue{"cell_memory = \"lots\"", ":2:15: ", "cell_memory: size 'lots' is not a number"},
        BadValue{"cell_memory = \"0\"", ":2:15: ", "greater than 0"},
        BadValue{"cell_memory = 512", ":2:15: ", "cell_memory: 512 B is below the 1 MiB minimum"},
        BadValue{"cell_memory = \"64K\"", ":2:15: ", "below the 1 MiB minimum"},
        BadValue{"cell_memory = -5", ":2:15: ", "greater than 0"},
        BadValue{"cell_memory = 1.5", ":2:15: ", "expected a size"},
        BadValue{"cell_memory = \"99999999999T\"", ":2:15: ", "too large"},
        BadValue{"jobs = \"4\"", ":2:8: ", "jobs: expected an integer, not a string"},
        BadValue{"jobs = -1", ":2:8: ", "jobs: -1 is out of range (0 to 4096)"},
        BadValue{"jobs = 1.5", ":2:8: ", "expected an integer, not a float"},
        BadValue{"cell_pids = 0", ":2:13: ", "out of range"},
        BadValue{"cell_cpu = -1", ":2:12: ", "cell_cpu: -1 CPUs is out of range (0 for no cap, or 0.01 to 1024)"},
        BadValue{"cell_cpu = 0.001", ":2:12: ", "out of range"},
        BadValue{"cell_cpu = 5000", ":2:12: ", "out of range"},
        BadValue{"cell_cpu = \"lots\"", ":2:12: ", "cell_cpu: 'lots' is not auto or a number of CPUs"},
        BadValue{"cell_cpu = true", ":2:12: ", "cell_cpu: expected \"auto\" or a number of CPUs, not a boolean"},
        BadValue{"max_attempts = 0", ":2:16: ", "out of range (1 to 100)"},
        BadValue{"timeout_s = 0", ":2:13: ", "timeout_s: must be greater than 0"},
        BadValue{"timeout_s = -2.0", ":2:13: ", "greater than 0"},
        BadValue{"timeout_s = inf", ":2:13: ", "at most"},
        BadValue{"timeout_s = nan", ":2:13: ", "greater than 0"},
        BadValue{"timeout_s = true", ":2:13: ", "expected a number of seconds, not a boolean"},
        BadValue{"kill_grace_s = -1", ":2:16: ", "at least 0"},
        BadValue{"stop_grace_s = \"10s\"", ":2:16: ", "expected a number of seconds, not a string"},
        BadValue{"backend = \"v3\"", ":2:11: ", "backend: \"v3\" is not a backend (auto, v2, v1, none)"},
        BadValue{"backend = 2", ":2:11: ", "expected a string"},
        BadValue{"state_dir = \"\"", ":2:13: ", "state_dir: must not be empty"},
        BadValue{"state_dir = \"a\\u0000b\"", ":2:13: ", "NUL"},
        BadValue{"argv = \"pytest -x\"", ":2:8: ", "argv: expected an array of strings, not a string"},
        BadValue{"argv = [\"pytest\", 3]", ":2:19: ", "argv[1]: expected a string, not an integer"},
        BadValue{"argv = [\"\", \"x\"]", ":2:9: ", "argv[0]: must not be empty"},
        BadValue{"env = [\"A=1\"]", ":2:7: ", "env: expected a table of strings, not an array"},
        BadValue{"env = { A = 1 }", ":2:13: ", "env.A: expected a string, not an integer"},
        BadValue{"env = { \"A=B\" = \"1\" }", ":2:9: ", "env: invalid variable name \"A=B\""},
        BadValue{"[env]\nX = { y = \"z\" }", ":3:5: ", "env.X: expected a string, not a table"},
        BadValue{"strategy = \"fast\"", ":2:12: ", "strategy: \"fast\" is not a strategy"},
        BadValue{"test_order = \"random\"", ":2:14: ", "test_order: \"random\" is not a test order"},
        BadValue{"oom_exit_code = 300", ":2:17: ", "oom_exit_code: 300 is out of range"},
        BadValue{"python = \"\"", ":2:10: ", "python: must not be empty"},
        BadValue{"recycle_after = -1", ":2:17: ", "out of range"},
        BadValue{"recycle_memory = \"12XB\"", ":2:18: ", "unknown unit 'XB'"},
        BadValue{"recycle_growth = true", ":2:18: ", "expected a size"},
        BadValue{"memory_budget = \"12XB\"", ":2:17: ", "memory_budget: size '12XB' has an unknown unit"},
        BadValue{"cell_memory = \"Auto\"", ":2:15: ", "is not a number"},
        BadValue{"require_cells = \"yes\"", ":2:17: ", "require_cells: expected true or false, not a string"},
        BadValue{"as_root = 1", ":2:11: ", "as_root: expected true or false, not an integer"},
        BadValue{"pid_namespace = \"on\"", ":2:17: ",
                 "pid_namespace: \"on\" is not a pid_namespace setting (auto or off)"},
        BadValue{"pid_namespace = false", ":2:17: ", "pid_namespace: expected a string, not a boolean"}));

TEST_F(ConfigFileTest, CellMemoryAutoAndBudget) {
  ASSERT_EQ(Load("cell_memory = \"auto\"\nmemory_budget = \"4G\"\n"), "");
  EXPECT_TRUE(cfg_.cell_memory_auto);
  EXPECT_EQ(cfg_.memory_budget, 4ull << 30);
  ASSERT_EQ(Load("cell_memory = \"300M\"\n"), "");
  EXPECT_FALSE(cfg_.cell_memory_auto);
  EXPECT_EQ(cfg_.cell_memory, 300ull << 20);
}

TEST_F(ConfigFileTest, ReadsTheMutmutKeys) {
  // Not the defaults (collected, check of 4), so reading them is seen.
  ASSERT_EQ(Load("python = \"/venv/bin/python\"\nstrategy = \"pytest-main\"\nrecycle_after = 50\n"
                 "recycle_memory = \"2G\"\nrecycle_growth = 0\noom_exit_code = -9\nstrategy_check = 0\n"),
            "");
  EXPECT_EQ(cfg_.python, "/venv/bin/python");
  EXPECT_EQ(cfg_.strategy, "pytest-main");
  EXPECT_EQ(cfg_.strategy_check, 0);
  EXPECT_EQ(cfg_.recycle_after, 50u);
  EXPECT_EQ(cfg_.recycle_memory, 2ull << 30);
  EXPECT_EQ(cfg_.recycle_growth, 0u);
  EXPECT_EQ(cfg_.oom_exit_code, -9);
}

TEST(ConfigDefaultsTest, TheCollectedStrategyIsTheDefaultAndIsChecked) {
  const Config cfg;
  EXPECT_EQ(cfg.strategy, "collected");
  EXPECT_EQ(cfg.strategy_check, 4);
}

TEST_F(ConfigFileTest, StrategyCheckIsASampleSize) {
  ASSERT_EQ(Load("strategy_check = 12\n"), "");
  EXPECT_EQ(cfg_.strategy_check, 12);
  EXPECT_NE(Load("strategy_check = -1\n"), "");
  EXPECT_NE(Load("strategy_check = true\n"), "");
}

TEST_F(ConfigFileTest, ReadsTheTestOrder) {
  EXPECT_EQ(cfg_.test_order, "killer-first");
  ASSERT_EQ(Load("test_order = \"fastest\"\n"), "");
  EXPECT_EQ(cfg_.test_order, "fastest");
}

TEST_F(ConfigFileTest, ReadsThePrivilegeKeys) {
  EXPECT_FALSE(cfg_.require_cells);
  EXPECT_FALSE(cfg_.as_root);
  ASSERT_EQ(Load("require_cells = true\nas_root = true\n"), "");
  EXPECT_TRUE(cfg_.require_cells);
  EXPECT_TRUE(cfg_.as_root);
}

TEST_F(ConfigFileTest, ReadsThePidNamespaceSetting) {
  EXPECT_EQ(cfg_.pid_namespace, "auto");
  ASSERT_EQ(Load("pid_namespace = \"off\"\n"), "");
  EXPECT_EQ(cfg_.pid_namespace, "off");
}

TEST(ConfigFingerprintTest, ChangesWithVerdictSettingsOnly) {
  Config base;
  std::string fp = ConfigFingerprint(base);
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_EQ(ConfigFingerprint(base), fp);
  Config c = base;
  c.jobs = 9;
  c.state_dir = "/elsewhere";
  c.stop_grace_s = 99;
  c.max_attempts = 9;
  EXPECT_EQ(ConfigFingerprint(c), fp);
  c = base;
  c.cell_memory += 1;
  EXPECT_NE(ConfigFingerprint(c), fp);
  c = base;
  c.cell_pids += 1;
  EXPECT_NE(ConfigFingerprint(c), fp);
  c = base;
  c.timeout_s += 1;
  EXPECT_NE(ConfigFingerprint(c), fp);
  c = base;
  c.kill_grace_s += 1;
  EXPECT_NE(ConfigFingerprint(c), fp);
  c = base;
  c.argv = {"x"};
  EXPECT_NE(ConfigFingerprint(c), fp);
  c = base;
  c.env["A"] = "";
  EXPECT_NE(ConfigFingerprint(c), fp);
}

}  // namespace
}  // namespace mutcell
