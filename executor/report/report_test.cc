#include "executor/report/report.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

std::vector<ResultRecord> Sample() {
  std::vector<ResultRecord> rs(4);
  rs[0].id = "mod.f__mutmut_1";
  rs[0].verdict = Verdict::kKilled;
  rs[0].exit_code = 1;
  rs[0].duration_s = 0.5;
  rs[0].peak_memory_bytes = 12ull << 20;
  rs[0].cell_limit_bytes = 256ull << 20;
  rs[0].backend = "v1";
  rs[1].id = "mod.f__mutmut_2";
  rs[1].verdict = Verdict::kOom;
  rs[1].signal = 9;
  rs[1].duration_s = 1.25;
  rs[1].peak_memory_bytes = 256ull << 20;
  rs[1].cell_limit_bytes = 256ull << 20;
  rs[1].backend = "v1";
  rs[2].id = "mod.g__mutmut_1";
  rs[2].verdict = Verdict::kKilled;
  rs[2].exit_code = 2;
  rs[2].attempts = 2;
  rs[2].backend = "v1";
  rs[3].id = "evil,\"id\"\nwith\x1b[31mred";
  rs[3].verdict = Verdict::kError;
  rs[3].attempts = 3;
  rs[3].error = "spawn failed: No such file, or \"directory\"";
  rs[3].backend = "none";
  return rs;
}

std::string Render(const std::vector<ResultRecord>& rs, ReportFormat f) {
  std::ostringstream out;
  WriteReport(rs, f, out);
  return out.str();
}

TEST(ReportFormatTest, ParsesTheFiveNames) {
  ReportFormat f = ReportFormat::kTable;
  std::string err;
  ASSERT_TRUE(ParseReportFormat("json", &f, &err));
  EXPECT_EQ(f, ReportFormat::kJson);
  ASSERT_TRUE(ParseReportFormat("csv", &f, &err));
  EXPECT_EQ(f, ReportFormat::kCsv);
  ASSERT_TRUE(ParseReportFormat("table", &f, &err));
  EXPECT_EQ(f, ReportFormat::kTable);
  ASSERT_TRUE(ParseReportFormat("mutation-testing-json", &f, &err));
  EXPECT_EQ(f, ReportFormat::kMutationTestingJson);
  ASSERT_TRUE(ParseReportFormat("markdown", &f, &err));
  EXPECT_EQ(f, ReportFormat::kMarkdown);
  EXPECT_FALSE(ParseReportFormat("JSON", &f, &err));
  EXPECT_EQ(err, "unknown report format 'JSON' (use table, json, csv, mutation-testing-json or markdown)");
  EXPECT_FALSE(ParseReportFormat("", &f, &err));
}

TEST(ReportJsonTest, HasTheDocumentedKeysAndNulls) {
  auto rs = Sample();
  nlohmann::json j = nlohmann::json::parse(Render(rs, ReportFormat::kJson));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);
  for (const auto& o : j) {
    for (const char* k : {"id", "verdict", "exit_code", "signal", "duration_s", "peak_memory_bytes",
                          "cell_limit_bytes", "attempts", "backend", "error"})
      EXPECT_TRUE(o.contains(k)) << k;
  }
  EXPECT_EQ(j[0]["id"], "mod.f__mutmut_1");
  EXPECT_EQ(j[0]["verdict"], "killed");
  EXPECT_EQ(j[0]["exit_code"], 1);
  EXPECT_TRUE(j[0]["signal"].is_null());
  EXPECT_EQ(j[0]["duration_s"], 0.5);
  EXPECT_EQ(j[0]["peak_memory_bytes"], 12ull << 20);
  EXPECT_EQ(j[0]["attempts"], 1);
  EXPECT_TRUE(j[0]["error"].is_null());
  EXPECT_TRUE(j[1]["exit_code"].is_null());
  EXPECT_EQ(j[1]["signal"], 9);
  EXPECT_EQ(j[1]["verdict"], "oom");
  EXPECT_EQ(j[3]["id"], rs[3].id);  // untrusted text survives exactly
  EXPECT_EQ(j[3]["error"], rs[3].error);
}

TEST(ReportJsonTest, EmptyIsAnEmptyArray) {
  EXPECT_EQ(nlohmann::json::parse(Render({}, ReportFormat::kJson)), nlohmann::json::array());
}

// A small RFC 4180 reader, to check that quoting round-trips.
std::vector<std::vector<std::string>> ParseCsv(const std::string& s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(ReportCsvTest, QuotesUntrustedTextPerRfc4180) {
  auto rs = Sample();
  std::string csv = Render(rs, ReportFormat::kCsv);
  EXPECT_EQ(csv.rfind("id,verdict,exit_code,signal,duration_s,peak_memory_bytes,cell_limit_bytes,attempts,"
                      "backend,error,source\r\n",
                      0),
            0u);
  EXPECT_NE(csv.find("\r\nmod.f__mutmut_1,killed,1,,0.500,12582912,268435456,1,v1,,\r\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\r\nmod.f__mutmut_2,oom,,9,1.250,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"evil,\"\"id\"\"\nwith\x1b[31mred\",error"), std::string::npos) << csv;
  auto rows = ParseCsv(csv);
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) EXPECT_EQ(row.size(), 11u);
  EXPECT_EQ(rows[4][0], rs[3].id);
  EXPECT_EQ(rows[4][1], "error");
  EXPECT_EQ(rows[4][9], rs[3].error);
}

TEST(ReportSourceTest, SaysWhereEachVerdictComesFrom) {
  ResultRecord r;
  r.session = 2;
  EXPECT_EQ(SourceOf(r, 2), "this run");
  EXPECT_EQ(SourceOf(r, 3), "earlier mutcell run");
  r.origin = "mutcell";  // carried over into the latest session
  EXPECT_EQ(SourceOf(r, 2), "earlier mutcell run");
  r.origin = "mutmut";
  EXPECT_EQ(SourceOf(r, 2), "mutmut");
  auto rs = Sample();
  rs[0].source = "mutmut";
  nlohmann::json j = nlohmann::json::parse(Render(rs, ReportFormat::kJson));
  EXPECT_EQ(j[0]["source"], "mutmut");
  EXPECT_TRUE(j[1]["source"].is_null());
  EXPECT_NE(Render(rs, ReportFormat::kTable).find("SOURCE"), std::string::npos);
}

TEST(ReportTableTest, OneRowPerMutantAndCountsPerVerdict) {
  std::string t = Render(Sample(), ReportFormat::kTable);
  std::istringstream in(t);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  // header, 4 rows, blank, totals: the newline inside an id must not make a row.
  ASSERT_EQ(lines.size(), 7u) << t;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  for (const char* col : {"VERDICT", "EXIT", "SIGNAL", "DURATION", "PEAK MEMORY", "ATTEMPTS"})
    EXPECT_NE(lines[0].find(col), std::string::npos) << col;
  EXPECT_NE(lines[1].find("killed"), std::string::npos);
  EXPECT_NE(lines[1].find("12 MiB"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("0.50s"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("9 (SIGKILL)"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("256 MiB"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[5], "");
  EXPECT_EQ(lines[6], "4 mutants: killed 2, oom 1, error 1");
  // Columns line up: every row has VERDICT at the same offset.
  size_t col = lines[0].find("VERDICT");
  EXPECT_EQ(lines[1].substr(col, 6), "killed");
  EXPECT_EQ(lines[2].substr(col, 3), "oom");
}

TEST(ReportTableTest, ControlCharactersInIdsAreShownEscaped) {
  std::string t = Render(Sample(), ReportFormat::kTable);
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
  EXPECT_NE(t.find("evil,\"id\"\\x0awith\\x1b[31mred"), std::string::npos) << t;
}

TEST(ReportTableTest, EmptyRunSaysSo) {
  std::string t = Render({}, ReportFormat::kTable);
  EXPECT_NE(t.find("0 mutants"), std::string::npos) << t;
}

}  // namespace
}  // namespace mutcell
