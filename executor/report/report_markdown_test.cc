#include "executor/report/report_markdown.h"

#include <sstream>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

ResultRecord Rec(const std::string& id, uint64_t seq, Verdict v, uint64_t peak_mib = 10) {
  ResultRecord r;
  r.id = id;
  r.seq = seq;
  r.verdict = v;
  r.duration_s = 0.5;
  r.peak_memory_bytes = peak_mib << 20;
  r.cell_limit_bytes = 256ull << 20;
  return r;
}

std::string Render(const std::vector<ResultRecord>& rs, const SourceIndex& s) {
  std::ostringstream out;
  WriteMarkdownReport(rs, s, out);
  return out.str();
}

TEST(WriteMarkdownReport, ScoreCountsSurvivorsWithPlaceAndBoundedMutantsWithPeak) {
  std::vector<ResultRecord> rs = {
      Rec("m.x_f__mutmut_1", 0, Verdict::kKilled),      Rec("m.x_f__mutmut_2", 1, Verdict::kKilled),
      Rec("m.x_f__mutmut_3", 2, Verdict::kSurvived),    Rec("m.x_f__mutmut_4", 3, Verdict::kOom, 256),
      Rec("m.x_f__mutmut_5", 4, Verdict::kTimeout, 12), Rec("m.x_f__mutmut_6", 5, Verdict::kError)};
  SourceIndex s;
  MutantSource m;
  m.file = "src/m.py";
  m.line = 7;
  m.column = 5;
  m.original = "<";
  m.replacement = "<=";
  s.mutants["m.x_f__mutmut_3"] = m;
  m.line = 9;
  s.mutants["m.x_f__mutmut_4"] = m;
  std::string md = Render(rs, s);
  // caught: 2 killed + oom + timeout = 4 of 5 judged (error left out).
  EXPECT_NE(md.find("## mutcell: mutation score 80.0%"), std::string::npos) << md;
  EXPECT_NE(md.find("4 of 5 judged mutants caught"), std::string::npos) << md;
  EXPECT_NE(md.find("1 not judged"), std::string::npos) << md;
  EXPECT_NE(md.find("| killed | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| survived | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| oom | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| error | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **total** | **6** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| <code>m.x_f__mutmut_3</code> | <code>src/m.py:7</code> | <code>&lt;</code> &rarr; "
                    "<code>&lt;=</code> |"),
            std::string::npos)
      << md;
  // Largest peak first.
  size_t oom = md.find("| <code>m.x_f__mutmut_4</code> | oom | <code>src/m.py:9</code> | 256 MiB | 256 MiB |");
  size_t timeout = md.find("| <code>m.x_f__mutmut_5</code> | timeout | ? | 12 MiB |");
  EXPECT_NE(oom, std::string::npos) << md;
  EXPECT_NE(timeout, std::string::npos) << md;
  EXPECT_LT(oom, timeout);
}

TEST(WriteMarkdownReport, UntrustedIdsCannotBreakTheTable) {
  std::vector<ResultRecord> rs = {Rec("a|b<img src=x>`c`\n| x |", 0, Verdict::kSurvived)};
  std::string md = Render(rs, SourceIndex());
  EXPECT_NE(md.find("<code>a&#124;b&lt;img src=x&gt;&#96;c&#96;\xEF\xBF\xBD&#124; x &#124;</code>"), std::string::npos)
      << md;
  EXPECT_EQ(md.find("<img"), std::string::npos);
}

TEST(WriteMarkdownReport, NoJudgedMutantHasNoScore) {
  std::string md = Render({Rec("a", 0, Verdict::kError)}, SourceIndex());
  EXPECT_NE(md.find("no mutation score"), std::string::npos) << md;
}

TEST(WriteMarkdownReport, ListsAtMostTopNSurvivorsAndCountsTheRest) {
  std::vector<ResultRecord> rs;
  for (uint64_t i = 0; i < kMarkdownTopN + 3; ++i) rs.push_back(Rec("s" + std::to_string(i), i, Verdict::kSurvived));
  std::string md = Render(rs, SourceIndex());
  EXPECT_NE(md.find("3 more survived"), std::string::npos) << md;
  EXPECT_EQ(md.find("<code>s" + std::to_string(kMarkdownTopN) + "</code>"), std::string::npos);
}

}  // namespace
}  // namespace mutcell
