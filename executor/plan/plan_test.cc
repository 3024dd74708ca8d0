#include "executor/plan/plan.h"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <ostream>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "executor/common/fingerprint.h"

namespace mutcell {
namespace {

class PlanFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-plan-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/plan.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& text) {
    std::ofstream f(path_, std::ios::binary);
    f << text;
  }
  // Loads the plan; returns the error ("" on success).
  std::string Load(const std::string& text, const PlanDefaults& defaults = {}) {
    Write(text);
    std::string err;
    plan_ = Plan{};
    if (LoadPlan(path_, defaults, &plan_, &err)) return "";
    EXPECT_FALSE(err.empty());
    return err;
  }

  std::string dir_, path_;
  Plan plan_;
};

TEST_F(PlanFileTest, LoadsAFullLine) {
  ASSERT_EQ(Load(R"({"id":"m1","argv":["python3","-c","pass"],"env":{"A":"1"},"cwd":"/tmp",)"
                 R"("timeout_s":5,"estimate_s":0.25,"tests":["t::a","t::b"]})"
                 "\n"),
            "");
  ASSERT_EQ(plan_.mutants.size(), 1u);
  const Mutant& m = plan_.mutants[0];
  EXPECT_EQ(m.id, "m1");
  EXPECT_EQ(m.argv, (std::vector<std::string>{"python3", "-c", "pass"}));
  EXPECT_EQ(m.env.at("A"), "1");
  EXPECT_EQ(m.cwd, "/tmp");
  EXPECT_EQ(m.timeout_s, 5.0);
  EXPECT_EQ(m.estimate_s, 0.25);
  EXPECT_EQ(m.tests, (std::vector<std::string>{"t::a", "t::b"}));
  EXPECT_EQ(m.fingerprint.size(), 64u);
  EXPECT_EQ(plan_.fingerprint.size(), 64u);
  EXPECT_EQ(plan_.path, path_);
}

TEST_F(PlanFileTest, SkipsBlankLinesAndAcceptsCrlfAndNoFinalNewline) {
  ASSERT_EQ(Load("\n  \r\n{\"id\":\"a\",\"argv\":[\"x\"]}\r\n\n{\"id\":\"b\",\"argv\":[\"y\"]}"), "");
  ASSERT_EQ(plan_.mutants.size(), 2u);
  EXPECT_EQ(plan_.mutants[0].id, "a");
  EXPECT_EQ(plan_.mutants[1].id, "b");
}

TEST_F(PlanFileTest, AcceptsAUtf8ByteOrderMark) {
  ASSERT_EQ(Load("\xEF\xBB\xBF{\"id\":\"a\",\"argv\":[\"x\"]}\n"), "");
  EXPECT_EQ(plan_.mutants[0].id, "a");
}

TEST_F(PlanFileTest, DefaultsFillArgvCwdAndEnv) {
  PlanDefaults d;
  d.argv = {"pytest", "-x"};
  d.cwd = "/work";
  d.env = {{"A", "default"}, {"B", "default"}};
  ASSERT_EQ(Load(R"({"id":"a","env":{"B":"line"}})"
                 "\n"
                 R"({"id":"b","argv":["own"],"cwd":"/elsewhere"})"
                 "\n",
                 d),
            "");
  const Mutant& a = plan_.mutants[0];
  EXPECT_EQ(a.argv, d.argv);
  EXPECT_EQ(a.cwd, "/work");
  EXPECT_EQ(a.env.at("A"), "default");
  EXPECT_EQ(a.env.at("B"), "line");
  const Mutant& b = plan_.mutants[1];
  EXPECT_EQ(b.argv, std::vector<std::string>{"own"});
  EXPECT_EQ(b.cwd, "/elsewhere");
}

TEST_F(PlanFileTest, FingerprintsAreStableAndChangeWithWhatDecidesTheVerdict) {
  std::string base = R"({"id":"a","argv":["x"],"env":{"K":"v"},"timeout_s":2})";
  ASSERT_EQ(Load(base + "\n"), "");
  std::string fp = plan_.mutants[0].fingerprint, plan_fp = plan_.fingerprint;
  // Key order and whitespace do not matter; estimate_s only orders the run.
  ASSERT_EQ(Load(R"({ "timeout_s": 2.0, "env": {"K": "v"}, "argv": ["x"], "id": "a", "estimate_s": 9 })"
                 "\n"),
            "");
  EXPECT_EQ(plan_.mutants[0].fingerprint, fp);
  EXPECT_EQ(plan_.fingerprint, plan_fp);
  for (const char* changed : {R"({"id":"a","argv":["x","y"],"env":{"K":"v"},"timeout_s":2})",
                              R"({"id":"a","argv":["x"],"env":{"K":"w"},"timeout_s":2})",
                              R"({"id":"a","argv":["x"],"env":{"K":"v"},"timeout_s":3})",
                              R"({"id":"a","argv":["x"],"env":{"K":"v"}})",
                              R"({"id":"a","argv":["x"],"env":{"K":"v"},"timeout_s":2,"cwd":"/"})",
                              R"({"id":"a","argv":["x"],"env":{"K":"v"},"timeout_s":2,"tests":["t"]})",
                              R"({"id":"b","argv":["x"],"env":{"K":"v"},"timeout_s":2})"}) {
    ASSERT_EQ(Load(std::string(changed) + "\n"), "") << changed;
    EXPECT_NE(plan_.mutants[0].fingerprint, fp) << changed;
    EXPECT_NE(plan_.fingerprint, plan_fp) << changed;
  }
  // The plan fingerprint depends on order.
  ASSERT_EQ(Load("{\"id\":\"a\",\"argv\":[\"x\"]}\n{\"id\":\"b\",\"argv\":[\"x\"]}\n"), "");
  std::string ab = plan_.fingerprint;
  ASSERT_EQ(Load("{\"id\":\"b\",\"argv\":[\"x\"]}\n{\"id\":\"a\",\"argv\":[\"x\"]}\n"), "");
  EXPECT_NE(plan_.fingerprint, ab);
}

// ---- bad input: every message names PATH:LINE and the problem -----------

struct BadLine {
  const char* line;
  const char* expected;  // substring of the message after "PATH:2: "
};

// Names the case in test listings (ctest shows it) by its expected message,
// in plain characters, instead of the struct's raw bytes.
void PrintTo(const BadLine& b, std::ostream* os) {
  for (const char* text : {b.expected, " in ", b.line}) {
    int n = 0;
    for (const char* p = text; *p && n < 40; ++p, ++n)
      if (std::isalnum(static_cast<unsigned char>(*p)) || *p == ' ' || *p == '_') *os << *p;
  }
}

class PlanBadLineTest : public PlanFileTest, public ::testing::WithParamInterface<BadLine> {};

TEST_P(PlanBadLineTest, IsRefusedNamingFileAndLine) {
  const BadLine& bad = GetParam();
  // A good first line, so the bad one is line 2.
  std::string err = Load(std::string("{\"id\":\"ok\",\"argv\":[\"x\"]}\n") + bad.line + "\n");
  EXPECT_EQ(err.rfind(path_ + ":2: ", 0), 0u) << err;
  EXPECT_NE(err.find(bad.expected), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, PlanBadLineTest,
    ::testing::Values(
        BadLine{"not json", "not JSON"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"]", "not JSON"},            // cut short
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"]} trailing", "not JSON"},  // junk after the object
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],}", "not JSON"},          // trailing comma
        BadLine{"{\"id\":\"\xff\xfe\",\"argv\":[\"x\"]}", "not JSON"},    // invalid UTF-8
        BadLine{"[\"a\"]", "expected a JSON object, not array"},
        BadLine{"\"a\"", "expected a JSON object, not string"},
        BadLine{"42", "expected a JSON object, not number"},
        BadLine{"null", "expected a JSON object, not null"},
        BadLine{"{\"argv\":[\"x\"]}", "missing \"id\""},
        BadLine{"{\"id\":\"\",\"argv\":[\"x\"]}", "\"id\" is empty"},
        BadLine{"{\"id\":7,\"argv\":[\"x\"]}", "\"id\" must be a string, not number"},
        BadLine{"{\"id\":null,\"argv\":[\"x\"]}", "\"id\" must be a string, not null"},
        BadLine{"{\"id\":\"a\",\"argv\":\"x\"}", "\"argv\" must be an array of strings, not string"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\",1]}", "\"argv[1]\" must be a string, not number"},
        BadLine{"{\"id\":\"a\",\"argv\":[]}", "\"argv\" is empty"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"\"]}", "\"argv[0]\" is empty"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\\u0000y\"]}", "\"argv[0]\" contains a NUL"},
        BadLine{"{\"id\":\"a\"}", "no \"argv\" and no default command"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"env\":[\"A=1\"]}", "\"env\" must be an object"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"env\":{\"A\":1}}", "\"env.A\" must be a string, not number"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"env\":{\"A=B\":\"1\"}}", "invalid variable name"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"env\":{\"\":\"1\"}}", "invalid variable name"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"cwd\":5}", "\"cwd\" must be a string, not number"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"timeout_s\":\"5\"}", "\"timeout_s\" must be a number"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"timeout_s\":true}", "\"timeout_s\" must be a number"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"timeout_s\":0}", "greater than 0"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"timeout_s\":-1}", "greater than 0"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"timeout_s\":1e300}", "at most"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"estimate_s\":-0.5}", "at least 0"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"tests\":\"t\"}", "\"tests\" must be an array"},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"argvv\":[\"x\"]}", "unknown key \"argvv\""},
        BadLine{"{\"id\":\"a\",\"argv\":[\"x\"],\"\\u001b[31m\":1}", "unknown key \"\\u001b[31m\""},
        BadLine{"{\"id\":\"a\",\"id\":\"b\",\"argv\":[\"x\"]}", "key \"id\" appears more than once"},
        BadLine{"{\"id\":\"ok\",\"argv\":[\"y\"]}", "duplicate id \"ok\" (first on line 1)"}));

TEST_F(PlanFileTest, DuplicateIdNamesBothLines) {
  std::string err = Load("{\"id\":\"a\",\"argv\":[\"x\"]}\n\n{\"id\":\"b\",\"argv\":[\"x\"]}\n"
                         "{\"id\":\"a\",\"argv\":[\"y\"]}\n");
  EXPECT_EQ(err, path_ + ":4: duplicate id \"a\" (first on line 1)");
}

TEST_F(PlanFileTest, ParseErrorNamesTheColumnNotLineOne) {
  std::string err = Load("{\"id\":\"a\",\"argv\":[\"x\"]}\n{\"id\": nope}\n");
  EXPECT_EQ(err.rfind(path_ + ":2: not JSON: parse error at column ", 0), 0u) << err;
  EXPECT_EQ(err.find("json.exception"), std::string::npos) << err;
}

TEST_F(PlanFileTest, ParseErrorQuotesInputSafely) {
  // A raw escape byte and an invalid UTF-8 byte must not reach the terminal.
  std::string err = Load("{\"id\":\"a\x1b[2J\",\"argv\":[\"x\"]}\n");
  EXPECT_NE(err.find("not JSON"), std::string::npos) << err;
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  err = Load("{\"id\":\"a\xff\",\"argv\":[\"x\"]}\n");
  EXPECT_NE(err.find("\\xff"), std::string::npos) << err;
  EXPECT_EQ(err.find('\xff'), std::string::npos) << err;
  // A long token in "last read" is cut.
  err = Load("{\"id\":\"" + std::string(100000, 'q') + "\x01\"}\n");
  EXPECT_LT(err.size(), 400u + path_.size()) << err.size();
}

TEST_F(PlanFileTest, AbsurdlyLongLineIsRefusedBeforeParsing) {
  // Not JSON at all: if it were parsed, the message would say "not JSON".
  std::string err = Load("{\"id\":\"a\",\"argv\":[\"x\"]}\n" + std::string(kMaxPlanLineBytes + 1, 'x') + "\n");
  EXPECT_EQ(err, path_ + ":2: line is longer than " + std::to_string(kMaxPlanLineBytes) + " bytes");
  // Also without a final newline, and much longer than the read buffer.
  err = Load(std::string(3 * kMaxPlanLineBytes, '{'));
  EXPECT_EQ(err, path_ + ":1: line is longer than " + std::to_string(kMaxPlanLineBytes) + " bytes");
}

TEST_F(PlanFileTest, LineOfExactlyTheLimitIsAccepted) {
  std::string head = "{\"id\":\"a\",\"argv\":[\"";
  std::string tail = "\"]}";
  std::string line = head + std::string(kMaxPlanLineBytes - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(line.size(), kMaxPlanLineBytes);
  EXPECT_EQ(Load(line + "\n"), "");
}

TEST_F(PlanFileTest, HugeIdIsCutShortInMessages) {
  std::string id(5000, 'z');
  std::string line = "{\"id\":\"" + id + "\",\"argv\":[\"x\"]}\n";
  std::string err = Load(line + line);
  EXPECT_NE(err.find("duplicate id"), std::string::npos);
  EXPECT_LT(err.size(), 400u) << err.size();
}

TEST_F(PlanFileTest, EmptyPlanIsAnError) {
  EXPECT_EQ(Load(""), path_ + ": the plan has no mutants");
  EXPECT_EQ(Load("\n\n   \n"), path_ + ": the plan has no mutants");
}

TEST_F(PlanFileTest, MissingFileIsAnError) {
  std::string err;
  Plan plan;
  EXPECT_FALSE(LoadPlan(dir_ + "/absent.jsonl", {}, &plan, &err));
  EXPECT_NE(err.find(dir_ + "/absent.jsonl: cannot open the plan: No such file"), std::string::npos) << err;
}

TEST_F(PlanFileTest, ErrorLeavesTheOutputUntouched) {
  Plan plan;
  plan.path = "keep";
  Write("{\"id\":\"a\",\"argv\":[\"x\"]}\nbad\n");
  std::string err;
  EXPECT_FALSE(LoadPlan(path_, {}, &plan, &err));
  EXPECT_EQ(plan.path, "keep");
  EXPECT_TRUE(plan.mutants.empty());
}

// The canonical JSON fingerprints were computed over before it was written
// without a DOM: journals of earlier runs must still match their mutants.
std::string ReferenceFingerprint(const Mutant& m) {
  using nlohmann::json;
  json j = {{"id", m.id}, {"argv", m.argv}, {"env", m.env}, {"cwd", m.cwd}, {"tests", m.tests}};
  j["timeout_s"] = m.timeout_s ? json(*m.timeout_s) : json(nullptr);
  return Fingerprint(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(MutantFingerprintTest, IsTheSha256OfTheCanonicalJsonAsBefore) {
  Mutant m;
  m.id = "pkg.mod.x_f__mutmut_1";
  m.argv = {"python3", "-c", "print(\"hi\")\n"};
  EXPECT_EQ(MutantFingerprint(m), ReferenceFingerprint(m));
  m.env = {{"A", "1"}, {"B", "tab\there"}, {"Ü", "ÿ"}};
  m.cwd = "/some where/\\x";
  m.tests = {"tests/test_a.py::test_x[1-\x01]", "日本"};
  for (double t : {0.5, 1.0, 2.0, 10000000.0, 1e-5, 0.1, 123.456}) {
    m.timeout_s = t;
    EXPECT_EQ(MutantFingerprint(m), ReferenceFingerprint(m)) << t;
  }
  m.id = "bad utf8 \xff\xfe";
  EXPECT_EQ(MutantFingerprint(m), ReferenceFingerprint(m));
  m = Mutant{};
  EXPECT_EQ(MutantFingerprint(m), ReferenceFingerprint(m));
}

// A line in the shape the fast reader takes, and the same mutant written so
// that only nlohmann reads it (a \u escape): the same mutant either way.
TEST(ParsePlanLineTest, FastAndExactReadingsAgree) {
  PlanDefaults d;
  d.argv = {"default"};
  d.env = {{"A", "default"}, {"Z", "z"}};
  d.cwd = "/work";
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"({"id":"a","argv":["x","y"]})", R"({"id":"\u0061","argv":["x","y"]})"},
      {R"({"id":"a"})", R"({"id":"\u0061"})"},
      {R"( { "id" : "a" , "env" : { "A" : "1", "B":"" } , "cwd":"rel" } )",
       R"({"id":"\u0061","env":{"A":"1","B":""},"cwd":"rel"})"},
      {R"({"id":"a","timeout_s":2,"estimate_s":0,"tests":["t::a","t::b"],"argv":["q\"\\\/\t"]})",
       R"({"id":"\u0061","timeout_s":2.0,"estimate_s":0.0,"tests":["t::a","t::b"],"argv":["q\"\\/\t"]})"},
      {R"({"id":"a","timeout_s":1e-3,"estimate_s":-0,"tests":[],"env":{}})",
       R"({"id":"\u0061","timeout_s":0.001,"estimate_s":0,"tests":[],"env":{}})"},
  };
  for (const auto& [fast, exact] : pairs) {
    Mutant a, b;
    std::string err;
    ASSERT_TRUE(ParsePlanLine(fast, "p:1", d, &a, &err)) << fast << ": " << err;
    ASSERT_TRUE(ParsePlanLine(exact, "p:1", d, &b, &err)) << exact << ": " << err;
    EXPECT_EQ(a.id, b.id) << fast;
    EXPECT_EQ(a.argv, b.argv) << fast;
    EXPECT_EQ(a.env, b.env) << fast;
    EXPECT_EQ(a.cwd, b.cwd) << fast;
    EXPECT_EQ(a.timeout_s, b.timeout_s) << fast;
    EXPECT_EQ(a.estimate_s, b.estimate_s) << fast;
    EXPECT_EQ(a.tests, b.tests) << fast;
    EXPECT_EQ(a.fingerprint, b.fingerprint) << fast;
    EXPECT_EQ(a.fingerprint, ReferenceFingerprint(a)) << fast;
  }
}

TEST(ParsePlanLineTest, FileAndLineAreReadByBothReadersAndLeaveTheFingerprint) {
  PlanDefaults d;
  d.argv = {"x"};
  Mutant plain, fast, exact;
  std::string err;
  ASSERT_TRUE(ParsePlanLine(R"({"id":"a"})", "p:1", d, &plain, &err)) << err;
  ASSERT_TRUE(ParsePlanLine(R"({"id":"a","file":"src/m.py","line":12})", "p:1", d, &fast, &err)) << err;
  ASSERT_TRUE(ParsePlanLine(R"({"id":"\u0061","file":"src/m.py","line":12})", "p:1", d, &exact, &err)) << err;
  for (const Mutant* m : {&fast, &exact}) {
    EXPECT_EQ(m->file, "src/m.py");
    EXPECT_EQ(m->line, 12);
    EXPECT_EQ(m->fingerprint, plain.fingerprint) << "where a mutant is shown does not decide its verdict";
  }
  for (const char* bad : {R"({"id":"a","line":0})", R"({"id":"a","line":1.5})", R"({"id":"a","line":"3"})",
                          R"({"id":"a","file":3})"}) {
    Mutant m;
    EXPECT_FALSE(ParsePlanLine(bad, "p:1", d, &m, &err)) << bad;
    EXPECT_NE(err.find("p:1"), std::string::npos) << err;
  }
}

// Lines the fast reader could misjudge: each must get the exact reader's
// verdict and message.
TEST(ParsePlanLineTest, ProblemsInPlainLinesGetTheExactMessages) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"id":"a","id":"b","argv":["x"]})", "key \"id\" appears more than once"},
      {R"({"id":"a","argv":["x"],"env":{"K":"1","K":"2"}})", "key \"K\" appears more than once"},
      {R"({"id":"a","argv":["x"],"timeout_s":0})", "\"timeout_s\" is 0"},
      {R"({"id":"a","argv":["x"],"estimate_s":-1})", "\"estimate_s\" is -1"},
      {R"({"id":"a","argv":["x"],"timeout_s":10000001})", "\"timeout_s\" is 10000001"},
      {R"({"id":"","argv":["x"]})", "\"id\" is empty"},
      {R"({"id":"a","argv":[]})", "\"argv\" is empty"},
      {R"({"id":"a","argv":[""]})", "\"argv[0]\" is empty"},
      {R"({"id":"a","argv":["x"],"env":{"A=B":"1"}})", "invalid variable name"},
      {R"({"id":"a","argv":["x"],"env":{"":"1"}})", "invalid variable name"},
      {R"({"id":"a","argv":["x"],"extra":1})", "unknown key \"extra\""},
      {R"({"argv":["x"]})", "missing \"id\""},
      {R"({"id":"a","argv":["x"]} x)", "not JSON"},
      {R"({"id":"a","argv":["x"],})", "not JSON"},
      {R"({"id":"a","argv":["x"]})", "no \"argv\" and no default"},  // replaced below: no argv at all
      {R"({"id":1,"argv":["x"]})", "\"id\" must be a string"},
      {R"({"id":"a","argv":"x"})", "\"argv\" must be an array of strings"},
      {R"({"id":"a","argv":["x",1]})", "\"argv[1]\" must be a string"},
      {R"({"id":"a","argv":["x"],"timeout_s":"1"})", "\"timeout_s\" must be a number"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string line = cases[i].first;
    if (cases[i].second.rfind("no \"argv\"", 0) == 0) line = R"({"id":"a"})";
    Mutant m;
    std::string err;
    EXPECT_FALSE(ParsePlanLine(line, "p:3", {}, &m, &err)) << line;
    EXPECT_EQ(err.rfind("p:3: ", 0), 0u) << err;
    EXPECT_NE(err.find(cases[i].second), std::string::npos) << line << " gave " << err;
  }
}

TEST(ParsePlanLineTest, UsesWhereAsPrefix) {
  Mutant m;
  std::string err;
  EXPECT_FALSE(ParsePlanLine("{}", "stdin:9", {}, &m, &err));
  EXPECT_EQ(err, "stdin:9: missing \"id\"");
  EXPECT_TRUE(ParsePlanLine("{\"id\":\"x\",\"argv\":[\"a\"]}", "stdin:9", {}, &m, &err)) << err;
  EXPECT_EQ(m.fingerprint, MutantFingerprint(m));
}

}  // namespace
}  // namespace mutcell
