#include "executor/report/report_html.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mutcell {
namespace {

TEST(HtmlEscape, EscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
}

TEST(HtmlEscape, KeepsValidUtf8AndReplacesInvalidBytesAndControls) {
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(HtmlEscape("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(HtmlEscape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // overlong '/'
  EXPECT_EQ(HtmlEscape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(HtmlEscape("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
  EXPECT_EQ(HtmlEscape(std::string("a\0b\nc", 5)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
}

ResultRecord Rec(const std::string& id, uint64_t seq, uint64_t peak, Verdict v) {
  ResultRecord r;
  r.id = id;
  r.seq = seq;
  r.peak_memory_bytes = peak;
  r.cell_limit_bytes = 100 << 20;
  r.verdict = v;
  return r;
}

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(WriteHtmlReport, OneBarAndOneRowPerMutantInRunOrder) {
  std::vector<ResultRecord> rs = {Rec("b", 2, 3 << 20, Verdict::kKilled),
                                  Rec("a", 1, 5 << 20, Verdict::kOom),
                                  Rec("c", 3, 1 << 20, Verdict::kTimeout)};
  std::ostringstream out;
  WriteHtmlReport(rs, out);
  const std::string html = out.str();
  EXPECT_EQ(Count(html, "<rect class=\"bar\""), 3u);
  EXPECT_EQ(Count(html, "<tr class=\"v-"), 3u);
  EXPECT_LT(html.find("<td class=\"id\">a</td>"), html.find("<td class=\"id\">b</td>"));
  EXPECT_LT(html.find("<td class=\"id\">b</td>"), html.find("<td class=\"id\">c</td>"));
  EXPECT_EQ(Count(html, "<path class=\"oom\""), 1u);
  EXPECT_EQ(Count(html, "<circle class=\"timeout\""), 1u);
  EXPECT_NE(html.find("id=\"cell-limit\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"zygote-memory\""), std::string::npos) << "no zygote data, no line";
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "the only URL is the SVG namespace";
}

TEST(WriteHtmlReport, ManyMutantsShareColumnsButKeepEveryRowAndMark) {
  std::vector<ResultRecord> rs;
  for (uint64_t i = 0; i < 5000; ++i) rs.push_back(Rec("m" + std::to_string(i), i, i << 10, Verdict::kKilled));
  rs[4321].verdict = Verdict::kOom;
  std::ostringstream out;
  WriteHtmlReport(rs, out);
  const std::string html = out.str();
  size_t bars = Count(html, "<rect class=\"bar\"");
  EXPECT_LT(bars, 1000u);
  EXPECT_GT(bars, 800u);
  EXPECT_EQ(Count(html, "<tr class=\"v-"), 5000u);
  EXPECT_EQ(Count(html, "<path class=\"oom\""), 1u);
  EXPECT_NE(html.find("oom: #4322 m4321"), std::string::npos);
  EXPECT_NE(html.find("highest of #"), std::string::npos);
}

TEST(WriteHtmlReport, EmptyJournalIsAValidPage) {
  std::ostringstream out;
  WriteHtmlReport({}, out);
  EXPECT_NE(out.str().find("<b>0</b> mutants"), std::string::npos);
  EXPECT_NE(out.str().find("</html>"), std::string::npos);
}

}  // namespace
}  // namespace mutcell
