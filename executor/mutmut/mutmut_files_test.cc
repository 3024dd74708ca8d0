#include "executor/mutmut/mutmut_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

namespace fs = std::filesystem;

// Written by real `mutmut run` (3.8.1) on a five-function project (see
// tests/python/test_zygote.py for its source); kept byte for byte.
const char kRealMeta[] = R"({
    "exit_code_by_key": {
        "tiny.core.x_add__mutmut_1": 1,
        "tiny.core.x_clamp__mutmut_1": 1,
        "tiny.core.x_clamp__mutmut_2": 1,
        "tiny.core.x_clamp__mutmut_3": 1,
        "tiny.core.x_clamp__mutmut_4": 1,
        "tiny.core.x_clamp__mutmut_5": 0,
        "tiny.core.x\u01c1Box\u01c1__init____mutmut_1": 1,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_1": 1,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_2": 1,
        "tiny.core.x_untested__mutmut_1": 33,
        "tiny.core.x_untested__mutmut_2": 33
    },
    "hash_by_function_name": {
        "x_add": "e0f525a3928e",
        "x_clamp": "7ac82442bc95",
        "x\u01c1Box\u01c1__init__": "ceb6a5712b1b",
        "x\u01c1Box\u01c1double": "a76a745a6db8",
        "x_untested": "17f76a844668"
    },
    "type_check_error_by_key": {},
    "durations_by_key": {
        "tiny.core.x_clamp__mutmut_1": 0.294381,
        "tiny.core.x_clamp__mutmut_2": 0.335806,
        "tiny.core.x_clamp__mutmut_3": 0.191906,
        "tiny.core.x_clamp__mutmut_4": 0.299986,
        "tiny.core.x_clamp__mutmut_5": 0.312015,
        "tiny.core.x\u01c1Box\u01c1__init____mutmut_1": 0.161316,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_2": 0.069511,
        "tiny.core.x_add__mutmut_1": 0.133316,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_1": 0.354336
    },
    "estimated_durations_by_key": {
        "tiny.core.x_untested__mutmut_1": 0,
        "tiny.core.x_untested__mutmut_2": 0,
        "tiny.core.x_clamp__mutmut_1": 0.00012433500000952336,
        "tiny.core.x_clamp__mutmut_2": 0.00012433500000952336,
        "tiny.core.x_clamp__mutmut_3": 0.00012433500000952336,
        "tiny.core.x_clamp__mutmut_4": 0.00012433500000952336,
        "tiny.core.x_clamp__mutmut_5": 0.00012433500000952336,
        "tiny.core.x\u01c1Box\u01c1__init____mutmut_1": 0.00012930299999425188,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_1": 0.00012930299999425188,
        "tiny.core.x\u01c1Box\u01c1double__mutmut_2": 0.00012930299999425188,
        "tiny.core.x_add__mutmut_1": 0.0001467949999778284
    }
})";

const char kRealStats[] = R"({
    "tests_by_mangled_function_name": {
        "tiny.core.x_add": [
            "tests/test_core.py::test_add"
        ],
        "tiny.core.x_clamp": [
            "tests/test_core.py::test_clamp"
        ],
        "tiny.core.x\u01c1Box\u01c1__init__": [
            "tests/test_core.py::test_box"
        ],
        "tiny.core.x\u01c1Box\u01c1double": [
            "tests/test_core.py::test_box",
            "tests/test_core.py::test_add"
        ]
    },
    "duration_by_test": {
        "tests/test_core.py::test_add": 0.5,
        "tests/test_core.py::test_clamp": 0.25,
        "tests/test_core.py::test_box": 0.125
    },
    "stats_time": 0.3013238759999999,
    "function_hashes": {},
    "function_dependencies": {},
    "config_fingerprint": {},
    "watched_file_hashes": {},
    "git_commit": null
})";

const std::string kBoxDouble1 = "tiny.core.x\xc7\x81" "Box\xc7\x81" "double__mutmut_1";  // "ǁ" in UTF-8

class MutmutFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-mutmut-files-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("src/tiny/core.py", "def add(a, b):\n    return a + b\n");
    Write("mutants/src/tiny/core.py.meta", kRealMeta);
    Write("mutants/mutmut-stats.json", kRealStats);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& content) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(fs::path(dir_) / rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string Meta() { return dir_ + "/mutants/src/tiny/core.py.meta"; }

  std::string dir_;
};

TEST_F(MutmutFilesTest, RewritingWithoutChangesReproducesMutmutsBytes) {
  std::string err;
  ASSERT_TRUE(WriteMutmutResults(Meta(), {}, &err)) << err;
  EXPECT_EQ(Read("mutants/src/tiny/core.py.meta"), kRealMeta);
}

TEST_F(MutmutFilesTest, WritingAVerdictChangesOnlyThatMutant) {
  std::string err;
  ASSERT_TRUE(WriteMutmutResults(Meta(), {{"tiny.core.x_clamp__mutmut_5", 36, 1.5, 0.25}}, &err)) << err;
  auto before = nlohmann::ordered_json::parse(kRealMeta);
  auto after = nlohmann::ordered_json::parse(Read("mutants/src/tiny/core.py.meta"));
  EXPECT_EQ(after["exit_code_by_key"]["tiny.core.x_clamp__mutmut_5"], 36);
  EXPECT_EQ(after["durations_by_key"]["tiny.core.x_clamp__mutmut_5"], 1.5);
  EXPECT_EQ(after["estimated_durations_by_key"]["tiny.core.x_clamp__mutmut_5"], 0.25);
  before["exit_code_by_key"]["tiny.core.x_clamp__mutmut_5"] = 36;
  before["durations_by_key"]["tiny.core.x_clamp__mutmut_5"] = 1.5;
  before["estimated_durations_by_key"]["tiny.core.x_clamp__mutmut_5"] = 0.25;
  EXPECT_EQ(before.dump(), after.dump());  // order and every other value kept
  MutmutMeta meta;
  ASSERT_TRUE(LoadMutmutMeta(Meta(), &meta, &err)) << err;
  EXPECT_EQ(meta.exit_codes[5].second, 36);
  EXPECT_EQ(MutmutStatus(meta.exit_codes[5].second), "timeout");
  // No temp file is left beside it.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/mutants/src/tiny")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST_F(MutmutFilesTest, WritingANewDurationAddsItAtTheEndLikePython) {
  std::string err;
  ASSERT_TRUE(WriteMutmutResults(Meta(), {{"tiny.core.x_untested__mutmut_1", -9, 0.5, std::nullopt}}, &err))
      << err;
  auto after = nlohmann::ordered_json::parse(Read("mutants/src/tiny/core.py.meta"));
  EXPECT_EQ(after["durations_by_key"].items().begin().key(), "tiny.core.x_clamp__mutmut_1");
  EXPECT_EQ(std::prev(after["durations_by_key"].end()).key(), "tiny.core.x_untested__mutmut_1");
  EXPECT_EQ(after["estimated_durations_by_key"]["tiny.core.x_untested__mutmut_1"], 0);
  EXPECT_EQ(MutmutStatus(-9), "segfault");
}

TEST_F(MutmutFilesTest, UnknownMutantIsAnErrorAndNothingIsWritten) {
  std::string err;
  EXPECT_FALSE(WriteMutmutResults(
      Meta(), {{"tiny.core.x_add__mutmut_1", 1, 1, {}}, {"tiny.core.x_nope__mutmut_1", 1, 1, {}}}, &err));
  EXPECT_NE(err.find("core.py.meta"), std::string::npos) << err;
  EXPECT_NE(err.find("x_nope__mutmut_1"), std::string::npos) << err;
  EXPECT_EQ(Read("mutants/src/tiny/core.py.meta"), kRealMeta);
}

struct Corruption {
  const char* name;
  std::string content;
  const char* expect_in_error;
};

class CorruptMetaTest : public MutmutFilesTest, public ::testing::WithParamInterface<Corruption> {};

TEST_P(CorruptMetaTest, IsAnErrorNamingFileAndKeyAndNothingIsOverwritten) {
  Write("mutants/src/tiny/core.py.meta", GetParam().content);
  std::string err;
  MutmutMeta meta;
  EXPECT_FALSE(LoadMutmutMeta(Meta(), &meta, &err));
  EXPECT_NE(err.find("core.py.meta"), std::string::npos) << err;
  EXPECT_NE(err.find(GetParam().expect_in_error), std::string::npos) << err;
  err.clear();
  EXPECT_FALSE(WriteMutmutResults(Meta(), {{"a.x_f__mutmut_1", 1, 1, {}}}, &err));
  EXPECT_NE(err.find("core.py.meta"), std::string::npos) << err;
  EXPECT_EQ(Read("mutants/src/tiny/core.py.meta"), GetParam().content);
  std::vector<MutmutMutant> mutants;
  err.clear();
  EXPECT_FALSE(ListMutmutMutants(dir_, MutmutTimeouts{}, &mutants, &err));
  EXPECT_NE(err.find("core.py.meta"), std::string::npos) << err;
}

const char kMetaTail[] = R"(, "durations_by_key": {}, "estimated_durations_by_key": {}})";

INSTANTIATE_TEST_SUITE_P(
    Cases, CorruptMetaTest,
    ::testing::Values(
        Corruption{"truncated", std::string(kRealMeta).substr(0, 300), "not valid JSON"},
        Corruption{"empty", "", "not valid JSON"},
        Corruption{"array", "[]", "JSON object"},
        Corruption{"unknown_key",
                   std::string(R"({"exit_code_by_key": {"a.x_f__mutmut_1": 1}, "extra": 1)") + kMetaTail,
                   "\"extra\""},
        Corruption{"missing_key", R"({"exit_code_by_key": {"a.x_f__mutmut_1": 1}})", "durations_by_key"},
        Corruption{"string_code", std::string(R"({"exit_code_by_key": {"a.x_f__mutmut_1": "1"})") + kMetaTail,
                   "exit_code_by_key[\"a.x_f__mutmut_1\"]"},
        Corruption{"float_code", std::string(R"({"exit_code_by_key": {"a.x_f__mutmut_1": 1.5})") + kMetaTail,
                   "a.x_f__mutmut_1"},
        Corruption{"not_a_mutant", std::string(R"({"exit_code_by_key": {"a.x_f": 1})") + kMetaTail, "a.x_f"},
        Corruption{"nan", std::string(R"({"exit_code_by_key": {"a.x_f__mutmut_1": NaN})") + kMetaTail,
                   "not valid JSON"},
        Corruption{"duration_string",
                   R"({"exit_code_by_key": {"a.x_f__mutmut_1": 1}, "durations_by_key": {"a.x_f__mutmut_1": "x"}, "estimated_durations_by_key": {}})",
                   "durations_by_key[\"a.x_f__mutmut_1\"]"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST_F(MutmutFilesTest, ListsMutantsWithTestsEstimatesAndTimeoutsFastestFirst) {
  std::string err;
  std::vector<MutmutMutant> mutants;
  ASSERT_TRUE(ListMutmutMutants(dir_, MutmutTimeouts{}, &mutants, &err)) << err;
  ASSERT_EQ(mutants.size(), 11u);
  // No tests first (estimate 0), in file order.
  EXPECT_EQ(mutants[0].name, "tiny.core.x_untested__mutmut_1");
  EXPECT_TRUE(mutants[0].tests.empty());
  EXPECT_EQ(mutants[0].exit_code, 33);
  EXPECT_DOUBLE_EQ(mutants[0].timeout_s, (0 + 1.0) * 15.0);
  const MutmutMutant* box = nullptr;
  const MutmutMutant* add = nullptr;
  for (const auto& m : mutants) {
    if (m.name == kBoxDouble1) box = &m;
    if (m.name == "tiny.core.x_add__mutmut_1") add = &m;
    EXPECT_EQ(m.meta_path, Meta());
  }
  ASSERT_NE(box, nullptr);
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(box->tests, (std::vector<std::string>{"tests/test_core.py::test_box", "tests/test_core.py::test_add"}));
  EXPECT_DOUBLE_EQ(box->estimate_s, 0.625);
  EXPECT_DOUBLE_EQ(box->timeout_s, (0.625 + 1.0) * 15.0);
  EXPECT_EQ(box->exit_code, 1);
  // The slowest: Box.double's two mutants tie, and keep their file order.
  EXPECT_EQ(mutants[mutants.size() - 2].name, kBoxDouble1);
  EXPECT_EQ(mutants.back().name, "tiny.core.x\xc7\x81" "Box\xc7\x81" "double__mutmut_2");
  EXPECT_DOUBLE_EQ(add->estimate_s, 0.5);
  for (size_t i = 1; i < mutants.size(); ++i) EXPECT_LE(mutants[i - 1].estimate_s, mutants[i].estimate_s);
}

TEST_F(MutmutFilesTest, MetaOfADeletedSourceFileIsNotListed) {
  Write("mutants/src/tiny/gone.py.meta", R"({"exit_code_by_key": {"tiny.gone.x_f__mutmut_1": null})" +
                                             std::string(kMetaTail));
  std::string err;
  std::vector<MutmutMutant> mutants;
  ASSERT_TRUE(ListMutmutMutants(dir_, MutmutTimeouts{}, &mutants, &err)) << err;
  EXPECT_EQ(mutants.size(), 11u);
  Write("src/tiny/gone.py", "");
  ASSERT_TRUE(ListMutmutMutants(dir_, MutmutTimeouts{}, &mutants, &err)) << err;
  ASSERT_EQ(mutants.size(), 12u);
  // No tests: estimate 0, after core.py.meta's two (ties keep path order).
  EXPECT_EQ(mutants[2].name, "tiny.gone.x_f__mutmut_1");
  EXPECT_FALSE(mutants[2].exit_code.has_value());
  EXPECT_TRUE(mutants[2].tests.empty());
}

TEST_F(MutmutFilesTest, TimeoutsComeFromToolMutmutWithMutmutsDefaults) {
  MutmutTimeouts t;
  std::string err;
  ASSERT_TRUE(LoadMutmutTimeouts(dir_, &t, &err)) << err;
  EXPECT_EQ(t.timeout_multiplier, 15.0);
  EXPECT_EQ(t.timeout_constant, 1.0);
  Write("setup.cfg", "[mutmut]\ntimeout_multiplier = 3\ntimeout_constant: 0.5\n");
  ASSERT_TRUE(LoadMutmutTimeouts(dir_, &t, &err)) << err;
  EXPECT_EQ(t.timeout_multiplier, 3.0);
  EXPECT_EQ(t.timeout_constant, 0.5);
  // A [tool.mutmut] table wins over setup.cfg, even without the keys.
  Write("pyproject.toml", "[project]\nname='x'\n[tool.mutmut]\ntimeout_multiplier = 2\n");
  ASSERT_TRUE(LoadMutmutTimeouts(dir_, &t, &err)) << err;
  EXPECT_EQ(t.timeout_multiplier, 2.0);
  EXPECT_EQ(t.timeout_constant, 1.0);
  std::vector<MutmutMutant> mutants;
  ASSERT_TRUE(ListMutmutMutants(dir_, t, &mutants, &err)) << err;
  EXPECT_DOUBLE_EQ(mutants.back().timeout_s, (0.625 + 1.0) * 2.0);
  Write("pyproject.toml", "[tool.mutmut]\ntimeout_constant = \"soon\"\n");
  EXPECT_FALSE(LoadMutmutTimeouts(dir_, &t, &err));
  EXPECT_NE(err.find("pyproject.toml:2"), std::string::npos) << err;
  EXPECT_NE(err.find("timeout_constant"), std::string::npos) << err;
  Write("pyproject.toml", "[tool.mutmut\n");
  EXPECT_FALSE(LoadMutmutTimeouts(dir_, &t, &err));
  EXPECT_NE(err.find("pyproject.toml:1"), std::string::npos) << err;
  fs::remove(fs::path(dir_) / "pyproject.toml");
  Write("setup.cfg", "[mutmut]\ntimeout_multiplier = lots\n");
  EXPECT_FALSE(LoadMutmutTimeouts(dir_, &t, &err));
  EXPECT_NE(err.find("setup.cfg:2"), std::string::npos) << err;
}

TEST_F(MutmutFilesTest, CorruptStatsAreErrorsNamingTheKey) {
  std::string err;
  MutmutStats stats;
  ASSERT_TRUE(LoadMutmutStats(dir_ + "/mutants/mutmut-stats.json", &stats, &err)) << err;
  EXPECT_EQ(stats.tests_by_function.size(), 4u);
  EXPECT_EQ(stats.duration_by_test.at("tests/test_core.py::test_box"), 0.125);

  Write("mutants/mutmut-stats.json",
        R"({"tests_by_mangled_function_name": {"a.x_f": ["t1"]}, "duration_by_test": {}})");
  EXPECT_FALSE(LoadMutmutStats(dir_ + "/mutants/mutmut-stats.json", &stats, &err));
  EXPECT_NE(err.find("mutmut-stats.json"), std::string::npos) << err;
  EXPECT_NE(err.find("\"t1\""), std::string::npos) << err;

  Write("mutants/mutmut-stats.json",
        R"({"tests_by_mangled_function_name": {}, "duration_by_test": {}, "future": 1})");
  EXPECT_FALSE(LoadMutmutStats(dir_ + "/mutants/mutmut-stats.json", &stats, &err));
  EXPECT_NE(err.find("\"future\""), std::string::npos) << err;

  Write("mutants/mutmut-stats.json", R"({"tests_by_mangled_function_name": {"a.x_f": "t1"}, "duration_by_test": {}})");
  EXPECT_FALSE(LoadMutmutStats(dir_ + "/mutants/mutmut-stats.json", &stats, &err));
  EXPECT_NE(err.find("tests_by_mangled_function_name[\"a.x_f\"]"), std::string::npos) << err;

  fs::remove(fs::path(dir_) / "mutants/mutmut-stats.json");
  std::vector<MutmutMutant> mutants;
  EXPECT_FALSE(ListMutmutMutants(dir_, MutmutTimeouts{}, &mutants, &err));
  EXPECT_NE(err.find("mutmut-stats.json"), std::string::npos) << err;
}

TEST_F(MutmutFilesTest, RewritesFloatsAndStringsExactlyLikePythonsJsonDump) {
  // Written by Python 3.11: json.dump(d, f, indent=4) for these values.
  const std::string python = R"({
    "exit_code_by_key": {
        "m.x_f__mutmut_1": -24,
        "m.x_f__mutmut_2": null
    },
    "hash_by_function_name": {
        "x_f": "tab\there \"q\" \\ \u007f \u00e9 \ud83d\ude00"
    },
    "type_check_error_by_key": {
        "m.x_f__mutmut_1": null
    },
    "durations_by_key": {
        "a": 0.442107,
        "b": 1e-05,
        "c": 0.0001,
        "d": 1e+16,
        "e": 1234567890123456.0,
        "f": 2.0,
        "g": -0.5,
        "h": 1.7976931348623157e+308,
        "i": 5e-324,
        "j": 0.1,
        "k": 123.456,
        "l": 0.0
    },
    "estimated_durations_by_key": {}
})";
  Write("mutants/src/tiny/core.py.meta", python);
  std::string err;
  ASSERT_TRUE(WriteMutmutResults(Meta(), {}, &err)) << err;
  EXPECT_EQ(Read("mutants/src/tiny/core.py.meta"), python);
}

TEST(MutmutNamesTest, MangledFunctionNameIsTheTextBeforeTheFirstMarker) {
  EXPECT_EQ(MangledFunctionName("a.b.x_f__mutmut_12"), "a.b.x_f");
  EXPECT_EQ(MangledFunctionName(kBoxDouble1), "tiny.core.x\xc7\x81" "Box\xc7\x81" "double");
  EXPECT_EQ(MangledFunctionName("a.x\xc7\x81" "C\xc7\x81" "__init____mutmut_1"), "a.x\xc7\x81" "C\xc7\x81" "__init__");
  EXPECT_EQ(MangledFunctionName("a.x_f__mutmut_1__mutmut_2"), "a.x_f");
  EXPECT_EQ(MangledFunctionName("a.x_f"), "");
}

TEST(MutmutNamesTest, SelectionMatchesNamesAndGlobsLikeFnmatch) {
  EXPECT_TRUE(MutantSelected("a.b.x_f__mutmut_1", {}));
  EXPECT_TRUE(MutantSelected("a.b.x_f__mutmut_1", {"a.b.x_f__mutmut_1"}));
  EXPECT_TRUE(MutantSelected("a.b.x_f__mutmut_1", {"a.*"}));
  EXPECT_TRUE(MutantSelected("a.b.x_f__mutmut_1", {"*x_f__mutmut_?"}));
  EXPECT_TRUE(MutantSelected("a/b.x_f__mutmut_1", {"a*"}));
  EXPECT_FALSE(MutantSelected("a.b.x_f__mutmut_1", {"b.*"}));
  EXPECT_FALSE(MutantSelected("a.b.x_f__mutmut_10", {"*x_f__mutmut_1"}));
}

TEST(MutmutCodesTest, VerdictsMapToMutmutsCodes) {
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kKilled, 1, {}, 36), 1);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kKilled, 3, {}, 36), 3);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kKilled, 2, {}, 36), 2);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kSurvived, 0, {}, 36), 0);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kTimeout, {}, 9, 36), 36);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kOom, {}, 9, kDefaultOomExitCode), 36);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kOom, {}, 9, -9), -9);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kCrashed, {}, 11, 36), -11);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kNoTests, {}, {}, 36), 33);
  EXPECT_EQ(MutmutExitCodeFor(Verdict::kSkipped, {}, {}, 36), 34);
  EXPECT_FALSE(MutmutExitCodeFor(Verdict::kError, {}, {}, 36).has_value());
  EXPECT_EQ(MutmutStatus(36), "timeout");
  EXPECT_EQ(MutmutStatus(1), "killed");
  EXPECT_EQ(MutmutStatus(0), "survived");
  EXPECT_EQ(MutmutStatus(33), "no tests");
  EXPECT_EQ(MutmutStatus(-11), "segfault");
  EXPECT_EQ(MutmutStatus(-15), "suspicious");
  EXPECT_EQ(MutmutStatus(std::nullopt), "not checked");
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

TEST_F(MutmutFilesTest, EachMutantCarriesItsFunctionsHashAndMutmutsConfig) {
  std::vector<MutmutMutant> ms;
  std::string err;
  ASSERT_TRUE(ListMutmutMutants(dir_, MutmutTimeouts{}, &ms, &err)) << err;
  std::map<std::string, const MutmutMutant*> by;
  for (const MutmutMutant& m : ms) by[m.name] = &m;
  EXPECT_EQ(by.at("tiny.core.x_clamp__mutmut_1")->function_hash, "7ac82442bc95");
  EXPECT_EQ(by.at(kBoxDouble1)->function_hash, "a76a745a6db8");  // a method: the class in the key
  EXPECT_EQ(by.at("tiny.core.x_add__mutmut_1")->mutmut_config, "{}");
}

TEST_F(MutmutFilesTest, TheFingerprintChangesWithTheFunctionTheConfigAndTheTests) {
  std::vector<MutmutMutant> ms;
  std::string err;
  ASSERT_TRUE(ListMutmutMutants(dir_, MutmutTimeouts{}, &ms, &err)) << err;
  MutmutMutant m = ms.front();
  const std::string base = MutmutFingerprint(m);
  MutmutMutant edited = m;
  edited.function_hash = "000000000000";
  EXPECT_NE(MutmutFingerprint(edited), base);
  MutmutMutant config = m;
  config.mutmut_config = R"({"timeout":"x"})";
  EXPECT_NE(MutmutFingerprint(config), base);
  MutmutMutant tests = m;
  tests.tests.push_back("tests/test_core.py::test_new");
  EXPECT_NE(MutmutFingerprint(tests), base);
  MutmutMutant reordered = tests;
  std::reverse(reordered.tests.begin(), reordered.tests.end());
  EXPECT_EQ(MutmutFingerprint(reordered), MutmutFingerprint(tests));  // order is by this machine's timings
  MutmutMutant faster = m;
  faster.estimate_s += 1;
  faster.timeout_s += 15;
  EXPECT_EQ(MutmutFingerprint(faster), base);
}

TEST(VerdictForMutmutCodeTest, MapsMutmutsStatuses) {
  EXPECT_EQ(VerdictForMutmutCode(0), Verdict::kSurvived);
  EXPECT_EQ(VerdictForMutmutCode(1), Verdict::kKilled);
  EXPECT_EQ(VerdictForMutmutCode(37), Verdict::kKilled);
  EXPECT_EQ(VerdictForMutmutCode(33), Verdict::kNoTests);
  EXPECT_EQ(VerdictForMutmutCode(34), Verdict::kSkipped);
  EXPECT_EQ(VerdictForMutmutCode(36), Verdict::kTimeout);
  EXPECT_EQ(VerdictForMutmutCode(-11), Verdict::kCrashed);
  EXPECT_EQ(VerdictForMutmutCode(2), std::nullopt);  // interrupted: no verdict
  // Every code mutcell writes reads back as the verdict it wrote (oom aside,
  // which .meta can only show as timeout).
  for (Verdict v : {Verdict::kKilled, Verdict::kSurvived, Verdict::kTimeout, Verdict::kNoTests, Verdict::kSkipped}) {
    std::optional<int> code = MutmutExitCodeFor(v, std::nullopt, std::nullopt, 36);
    ASSERT_TRUE(code);
    EXPECT_EQ(VerdictForMutmutCode(*code), v) << VerdictName(v);
  }
}

}  // namespace
}  // namespace mutcell
