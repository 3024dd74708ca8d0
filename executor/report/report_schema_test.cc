#include "executor/report/report_schema.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

ResultRecord Rec(const std::string& id, uint64_t seq, Verdict v) {
  ResultRecord r;
  r.id = id;
  r.seq = seq;
  r.verdict = v;
  r.duration_s = 0.25;
  r.peak_memory_bytes = 10ull << 20;
  r.cell_limit_bytes = 256ull << 20;
  r.backend = "v1";
  return r;
}

SourceIndex Sources() {
  SourceIndex s;
  s.files["src/pkg/core.py"] = "def f(a, b):\n    return a - b\n";
  s.files["src/pkg/util.py"] = "X = 1\n";
  MutantSource m;
  m.file = "src/pkg/core.py";
  m.line = m.end_line = 2;
  m.column = 14;
  m.end_column = 15;
  m.original = "-";
  m.replacement = "+";
  m.mutator = "OperatorMutation";
  m.diff =
      "--- src/pkg/core.py\n+++ src/pkg/core.py\n@@ -1,2 +1,2 @@\n def f(a, b):\n-    return a - b\n+    return a + b";
  s.mutants["pkg.core.x_f__mutmut_1"] = m;
  s.mutants["pkg.core.x_f__mutmut_2"] = m;
  MutantSource u;
  u.file = "src/pkg/util.py";
  u.line = u.end_line = 1;
  u.column = 5;
  u.end_column = 6;
  u.original = "1";
  u.replacement = "2";
  s.mutants["pkg.util.x__mutmut_1"] = u;
  return s;
}

nlohmann::json Render(const std::vector<ResultRecord>& rs, const SourceIndex& s) {
  std::ostringstream out;
  WriteSchemaReport(rs, s, out);
  return nlohmann::json::parse(out.str());
}

TEST(SchemaStatus, MapsEveryVerdictToTheSchemasStatus) {
  EXPECT_STREQ(SchemaStatus(Verdict::kKilled), "Killed");
  EXPECT_STREQ(SchemaStatus(Verdict::kSurvived), "Survived");
  EXPECT_STREQ(SchemaStatus(Verdict::kTimeout), "Timeout");
  EXPECT_STREQ(SchemaStatus(Verdict::kOom), "Timeout");
  EXPECT_STREQ(SchemaStatus(Verdict::kCrashed), "RuntimeError");
  EXPECT_STREQ(SchemaStatus(Verdict::kNoTests), "NoCoverage");
  EXPECT_STREQ(SchemaStatus(Verdict::kSkipped), "Ignored");
  EXPECT_STREQ(SchemaStatus(Verdict::kError), "RuntimeError");
}

TEST(WriteSchemaReport, FilesKeyedBySourcePathWithEachMutantInPlace) {
  std::vector<ResultRecord> rs = {Rec("pkg.core.x_f__mutmut_2", 1, Verdict::kOom),
                                  Rec("pkg.core.x_f__mutmut_1", 0, Verdict::kSurvived),
                                  Rec("pkg.util.x__mutmut_1", 2, Verdict::kKilled)};
  rs[0].peak_memory_bytes = 256ull << 20;
  rs[0].signal = 9;
  rs[0].attempts = 2;
  rs[2].exit_code = 1;
  nlohmann::json doc = Render(rs, Sources());
  EXPECT_EQ(doc["schemaVersion"], "2");
  EXPECT_EQ(doc["thresholds"]["high"], 80);
  EXPECT_EQ(doc["thresholds"]["low"], 60);
  ASSERT_EQ(doc["files"].size(), 2u);
  const auto& core = doc["files"]["src/pkg/core.py"];
  EXPECT_EQ(core["language"], "python");
  EXPECT_EQ(core["source"], "def f(a, b):\n    return a - b\n");
  ASSERT_EQ(core["mutants"].size(), 2u);
  // Run order within a file.
  const auto& survivor = core["mutants"][0];
  EXPECT_EQ(survivor["id"], "pkg.core.x_f__mutmut_1");
  EXPECT_EQ(survivor["status"], "Survived");
  EXPECT_EQ(survivor["mutatorName"], "OperatorMutation");
  EXPECT_EQ(survivor["replacement"], "+");
  EXPECT_EQ(survivor["location"]["start"]["line"], 2);
  EXPECT_EQ(survivor["location"]["start"]["column"], 14);
  EXPECT_EQ(survivor["location"]["end"]["line"], 2);
  EXPECT_EQ(survivor["location"]["end"]["column"], 15);
  EXPECT_EQ(survivor["duration"], 250);
  EXPECT_NE(survivor["mutcell"]["diff"].get<std::string>().find("+    return a + b"), std::string::npos);
  const auto& oom = core["mutants"][1];
  EXPECT_EQ(oom["status"], "Timeout");
  EXPECT_EQ(oom["mutcell"]["verdict"], "oom");
  EXPECT_EQ(oom["mutcell"]["peakMemoryBytes"], 256ull << 20);
  EXPECT_EQ(oom["mutcell"]["cellLimitBytes"], 256ull << 20);
  EXPECT_EQ(oom["mutcell"]["attempts"], 2);
  EXPECT_EQ(oom["mutcell"]["signal"], 9);
  EXPECT_EQ(oom["mutcell"]["durationSeconds"], 0.25);
  EXPECT_NE(oom["statusReason"].get<std::string>().find("256 MiB"), std::string::npos) << oom["statusReason"];
  const auto& util = doc["files"]["src/pkg/util.py"]["mutants"][0];
  EXPECT_EQ(util["status"], "Killed");
  EXPECT_EQ(util["mutcell"]["exitCode"], 1);
  EXPECT_EQ(doc["config"]["mutcell"]["verdicts"]["oom"], 1);
}

TEST(WriteSchemaReport, MutantsWithoutAPlaceGoUnderAnUnknownFile) {
  std::vector<ResultRecord> rs = {Rec("not.located__mutmut_1", 0, Verdict::kError)};
  rs[0].error = "spawn: no such file";
  nlohmann::json doc = Render(rs, SourceIndex());
  ASSERT_TRUE(doc["files"].contains("(unknown location)")) << doc.dump();
  const auto& m = doc["files"]["(unknown location)"]["mutants"][0];
  EXPECT_EQ(m["status"], "RuntimeError");
  EXPECT_EQ(m["location"]["start"]["line"], 1);
  EXPECT_NE(m["statusReason"].get<std::string>().find("spawn: no such file"), std::string::npos);
  EXPECT_EQ(doc["files"]["(unknown location)"]["source"], "");
}

TEST(SchemaReportForHtml, HasNoAngleBracketThatCouldEndTheScriptElement) {
  std::vector<ResultRecord> rs = {Rec("</script><script>alert(1)</script>", 0, Verdict::kKilled)};
  std::string text = SchemaReportForHtml(rs, SourceIndex());
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["files"]["(unknown location)"]["mutants"][0]["id"], "</script><script>alert(1)</script>");
}

}  // namespace
}  // namespace mutcell
