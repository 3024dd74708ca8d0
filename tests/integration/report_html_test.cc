// The HTML report rendered by a real browser: headless Debian chromium takes a
// screenshot (must not be blank) and dumps the DOM after the scripts ran (the
// numbers on the page must be the records' numbers, untrusted ids must stay
// text, and the table must sort).

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "executor/report/report_html.h"
#include "limits/size.h"
#include "tests/integration/test_util.h"

namespace mutcell {
namespace {

using mutcell::testing::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

std::string Chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs chromium headless on `url` with `extra` flags; stdout to out_path.
// Own process group, killed as a whole afterwards so no helper survives.
int RunChromium(const std::string& dir, const std::string& url, const std::vector<std::string>& extra,
                const std::string& out_path) {
  std::vector<std::string> args = {Chromium(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + dir + "/profile",
                                   "--window-size=1280,1000"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open((out_path + ".stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setenv("HOME", dir.c_str(), 1);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pid, SIGKILL);  // any helper process left in the group
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Width and height from a PNG's IHDR chunk.
bool PngSize(const std::string& png, uint32_t* w, uint32_t* h) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      png.compare(12, 4, "IHDR") != 0)
    return false;
  auto be = [&](size_t o) {
    return (uint32_t{static_cast<unsigned char>(png[o])} << 24) |
           (uint32_t{static_cast<unsigned char>(png[o + 1])} << 16) |
           (uint32_t{static_cast<unsigned char>(png[o + 2])} << 8) |
           uint32_t{static_cast<unsigned char>(png[o + 3])};
  };
  *w = be(16);
  *h = be(20);
  return true;
}

size_t DistinctBytes(const std::string& s) {
  std::set<unsigned char> seen(s.begin(), s.end());
  return seen.size();
}

// Like the bundled runaway example: clean mutants of a few tens of MiB, one
// runaway hitting its limit, one timeout, a zygote that grows and is
// recycled, and ids that try to break out of the page.
std::vector<ResultRecord> RunawayLikeRecords() {
  std::vector<ResultRecord> rs;
  for (int i = 0; i < 60; ++i) {
    ResultRecord r;
    r.id = "runaway.core.x_step__mutmut_" + std::to_string(i + 1);
    r.seq = static_cast<uint64_t>(i);
    r.verdict = i % 5 == 3 ? Verdict::kSurvived : Verdict::kKilled;
    r.exit_code = r.verdict == Verdict::kKilled ? 1 : 0;
    r.peak_memory_bytes = (30 + (i * 37) % 45) * kMiB + static_cast<uint64_t>(i) * 4096;
    r.cell_limit_bytes = 256 * kMiB;
    r.duration_s = 0.2 + (i % 7) * 0.05;
    r.backend = "v1";
    r.zygote_generation = i / 25;
    r.zygote_memory_bytes = (40 + (i % 25) / 5) * kMiB;
    rs.push_back(r);
  }
  rs[17].id = "runaway.core.x_grow__mutmut_3";
  rs[17].verdict = Verdict::kOom;
  rs[17].exit_code.reset();
  rs[17].signal = 9;
  rs[17].peak_memory_bytes = 256 * kMiB;
  rs[17].duration_s = 0.31;
  rs[41].verdict = Verdict::kTimeout;
  rs[41].exit_code.reset();
  rs[41].signal = 9;
  rs[41].duration_s = 10.0;
  rs[44].id = "evil <img src=x onerror=alert(1)> & \"quotes\" 'single'";
  rs[45].id = "</title></rect><script>document.title='pwned'</script>";
  // Journal order differs from run order: the page must sort by seq.
  std::swap(rs[3], rs[50]);
  return rs;
}

class ReportHtmlInChromium : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Chromium().empty()) {
      GTEST_SKIP() << "chromium is not installed (apt-get install chromium); the HTML report was "
                      "NOT checked in a browser";
    }
  }
  TempDir dir_;
};

TEST_F(ReportHtmlInChromium, ScreenshotIsNotBlankAndTheDomHoldsTheRecordsNumbers) {
  std::vector<ResultRecord> rs = RunawayLikeRecords();
  std::ostringstream html;
  WriteHtmlReport(rs, html);
  std::string page = dir_.Write("report.html", html.str());
  std::string blank = dir_.Write("blank.html", "<!DOCTYPE html><html><body></body></html>");

  // A screenshot of the report, and of a blank page for comparison.
  const std::string shot = dir_.path() + "/report.png", blank_shot = dir_.path() + "/blank.png";
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + page, {"--screenshot=" + shot},
                        dir_.path() + "/shot.out"),
            0)
      << Slurp(dir_.path() + "/shot.out.stderr");
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + blank, {"--screenshot=" + blank_shot},
                        dir_.path() + "/blank.out"),
            0);
  std::string png = Slurp(shot), blank_png = Slurp(blank_shot);
  uint32_t w = 0, h = 0;
  ASSERT_TRUE(PngSize(png, &w, &h)) << "not a PNG: " << shot;
  EXPECT_EQ(w, 1280u);
  EXPECT_EQ(h, 1000u);
  // A blank page compresses to almost nothing; the chart and table do not.
  std::cout << "screenshot " << png.size() << " bytes, " << DistinctBytes(png)
            << " distinct byte values; blank page " << blank_png.size() << " bytes\n";
  EXPECT_GT(png.size(), 8 * blank_png.size());
  EXPECT_GT(DistinctBytes(png), 250u);
  if (const char* keep = std::getenv("MUTCELL_KEEP_SCREENSHOT")) {
    std::ofstream(keep, std::ios::binary) << png;
  }

  // The DOM after the page's scripts ran.
  const std::string dom_path = dir_.path() + "/dom.html";
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + page, {"--dump-dom"}, dom_path), 0);
  const std::string dom = Slurp(dom_path);
  ASSERT_NE(dom.find("id=\"results\""), std::string::npos) << dom.substr(0, 2000);

  // One table row per record, in run order (seq), each with its numbers.
  std::regex row_re("<tr class=\"v-([a-z_]+)\">(.*?)</tr>");
  std::regex peak_re("class=\"n peak\" data-v=\"(\\d+)\">([^<]*)<");
  std::regex limit_re("class=\"n limit\" data-v=\"(\\d+)\">([^<]*)<");
  std::regex zmem_re("class=\"n zmem\" data-v=\"(-?\\d+)\"");
  std::vector<ResultRecord> by_seq = rs;
  std::sort(by_seq.begin(), by_seq.end(),
            [](const ResultRecord& a, const ResultRecord& b) { return a.seq < b.seq; });
  size_t i = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row_re); it != std::sregex_iterator();
       ++it, ++i) {
    ASSERT_LT(i, by_seq.size());
    const ResultRecord& r = by_seq[i];
    std::string row = (*it)[2];
    EXPECT_EQ((*it)[1], std::string(VerdictName(r.verdict))) << row;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(row, m, peak_re)) << row;
    EXPECT_EQ(m[1], std::to_string(r.peak_memory_bytes)) << r.id;
    EXPECT_EQ(m[2], FormatSize(r.peak_memory_bytes)) << r.id;
    ASSERT_TRUE(std::regex_search(row, m, limit_re)) << row;
    EXPECT_EQ(m[1], std::to_string(r.cell_limit_bytes));
    EXPECT_EQ(m[2], FormatSize(r.cell_limit_bytes));
    ASSERT_TRUE(std::regex_search(row, m, zmem_re)) << row;
    EXPECT_EQ(m[1], std::to_string(*r.zygote_memory_bytes));
  }
  EXPECT_EQ(i, rs.size());

  // Untrusted ids stayed text: no element was injected, the title is ours.
  EXPECT_EQ(dom.find("<img"), std::string::npos);
  EXPECT_NE(dom.find("evil &lt;img src=x onerror=alert(1)&gt; &amp;"), std::string::npos);
  EXPECT_EQ(dom.find("pwned'</script>"), std::string::npos);
  EXPECT_NE(dom.find("<title>mutcell: memory per mutant</title>"), std::string::npos);

  // The chart: a bar per mutant, the oom and timeout marks, both lines.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = dom.find(needle); p != std::string::npos; p = dom.find(needle, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<rect class=\"bar\""), rs.size());
  EXPECT_EQ(count("<path class=\"oom\""), 1u);
  EXPECT_EQ(count("<circle class=\"timeout\""), 1u);
  EXPECT_NE(dom.find("<title>oom: #18 runaway.core.x_grow__mutmut_3</title>"), std::string::npos);
  EXPECT_NE(dom.find("id=\"cell-limit\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"zygote-memory\""), std::string::npos);
}

TEST_F(ReportHtmlInChromium, ClickingPeakMemorySortsTheTable) {
  std::vector<ResultRecord> rs = RunawayLikeRecords();
  std::ostringstream html;
  WriteHtmlReport(rs, html);
  // Click the "peak memory" header twice (descending), as a person would.
  std::string text = html.str();
  const std::string click =
      "<script>var h=document.querySelectorAll('#results th')[3];h.click();h.click();</script>";
  text.insert(text.rfind("</body>"), click);
  std::string page = dir_.Write("sorted.html", text);
  const std::string dom_path = dir_.path() + "/sorted-dom.html";
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + page, {"--dump-dom"}, dom_path), 0);
  const std::string dom = Slurp(dom_path);
  std::regex peak_re("class=\"n peak\" data-v=\"(\\d+)\"");
  std::vector<uint64_t> peaks;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), peak_re); it != std::sregex_iterator();
       ++it) {
    peaks.push_back(std::stoull((*it)[1]));
  }
  ASSERT_EQ(peaks.size(), rs.size());
  EXPECT_TRUE(std::is_sorted(peaks.rbegin(), peaks.rend())) << "rows are not sorted descending";
  EXPECT_EQ(peaks.front(), 256 * kMiB);
  EXPECT_NE(dom.find("aria-sort=\"descending\""), std::string::npos);
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

// A source file with one line per record in run order (`x7 = 7 - 1` for
// seq 7), each record's mutant turning its line's `-` into `+`.
SourceIndex SourcesFor(const std::vector<ResultRecord>& rs) {
  SourceIndex s;
  std::string source;
  for (size_t i = 0; i < rs.size(); ++i) source += "x" + std::to_string(i) + " = " + std::to_string(i) + " - 1\n";
  s.files["src/runaway/core.py"] = source;
  for (const ResultRecord& r : rs) {
    const size_t i = r.seq;
    MutantSource m;
    m.file = "src/runaway/core.py";
    m.line = m.end_line = static_cast<int>(i) + 1;
    std::string line = "x" + std::to_string(i) + " = " + std::to_string(i) + " - 1";
    m.column = static_cast<int>(line.find('-')) + 1;
    m.end_column = m.column + 1;
    m.original = "-";
    m.replacement = "+";
    m.mutator = "OperatorMutation";
    std::string mutated = line;
    mutated[line.find('-')] = '+';
    m.diff = "--- src/runaway/core.py\n+++ src/runaway/core.py\n@@ -" + std::to_string(i + 1) + " +" +
             std::to_string(i + 1) + " @@\n-" + line + "\n+" + mutated;
    s.mutants[r.id] = m;
  }
  return s;
}

// The text of <pre id="facts"> in a dumped DOM, unescaped.
std::string Facts(const std::string& dom) {
  const std::string open = "<pre id=\"facts\">";
  size_t b = dom.find(open);
  if (b == std::string::npos) return "";
  b += open.size();
  size_t e = dom.find("</pre>", b);
  std::string t = dom.substr(b, e - b), out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 4, "&lt;") == 0) out += '<', i += 3;
    else if (t.compare(i, 4, "&gt;") == 0) out += '>', i += 3;
    else if (t.compare(i, 5, "&amp;") == 0) out += '&', i += 4;
    else if (t.compare(i, 6, "&quot;") == 0) out += '"', i += 5;
    else if (t.compare(i, 6, "&nbsp;") == 0) out += ' ', i += 5;
    else out += t[i];
  }
  return out;
}

// Runs in the page after load: waits for the web components to render, reads
// the score from their shadow DOM, opens the file, selects the first
// survivor, and measures the memory chart; writes it all as JSON into the
// light DOM, where --dump-dom sees it.
const char* kProbe = R"(<pre id="facts"></pre><script>
(function(){
function deep(root,sel,out){out=out||[];root.querySelectorAll(sel).forEach(function(e){out.push(e);});
 root.querySelectorAll('*').forEach(function(e){if(e.shadowRoot)deep(e.shadowRoot,sel,out);});return out;}
var f={};
function done(){document.getElementById('facts').textContent=JSON.stringify(f);}
function later(fn,tries){setTimeout(function(){var ok=false;try{ok=fn();}catch(e){f.error=String(e);done();return;}
 if(!ok&&tries>0)later(fn,tries-1);else if(!ok){f.error='gave up waiting';done();}},200);}
var bar=document.querySelector('#bars rect[data-verdict=oom]'),limit=document.getElementById('cell-limit');
var plot=document.querySelector('#chart > rect[fill=none]');
if(bar&&limit&&plot){var pb=plot.getBBox();f.oomBarTop=bar.getBBox().y;f.limitY=limit.getBBox().y;
 f.plotHeight=pb.height;var hs=Array.prototype.map.call(document.querySelectorAll('#bars rect[data-verdict=killed]'),
 function(r){return r.getBBox().height;});f.smallestKilledBar=Math.min.apply(null,hs);}
f.summaryScore=(document.getElementById('score')||{}).textContent||null;
f.survivorDiffAdds=Array.prototype.map.call(document.querySelectorAll('#survivors .add'),function(e){return e.textContent;});
later(function(){
 var scores=deep(document,'td span').map(function(e){return e.textContent.trim();})
   .filter(function(t){return /^\d+\.\d\d$/.test(t);});
 if(!scores.length)return false;
 f.elementsScores=scores;
 var link=deep(document,'a').filter(function(a){return /#mutant\//.test(a.getAttribute('href'));})[0];
 f.fileLink=link?link.getAttribute('href'):null;
 if(!link){done();return true;}
 location.hash=link.getAttribute('href').replace(/^.*#/,'#');
 later(function(){
  var dots=deep(document,'svg').filter(function(s){var t=s.querySelector('title');return t&&/Survived/.test(t.textContent);});
  if(!dots.length)return false;
  f.survivorDots=dots.length;
  dots[0].dispatchEvent(new MouseEvent('click',{bubbles:true,composed:true}));
  later(function(){
   var rows=deep(document,'tr').filter(function(r){return /diff-(old|new)/.test(r.className);});
   if(!rows.length)return false;
   f.diffOld=rows.filter(function(r){return /diff-old/.test(r.className);}).map(function(r){return r.querySelector('td.code').textContent.trim().split('\n')[0];});
   f.diffNew=rows.filter(function(r){return /diff-new/.test(r.className);}).map(function(r){return r.querySelector('td.code').textContent.trim().split('\n')[0];});
   done();return true;},40);
  return true;},40);
 return true;},40);
})();
</script>)";

TEST_F(ReportHtmlInChromium, ElementsShowTheScoreAndASurvivorsDiffAndTheMemoryViewTheOomAtItsLimit) {
  HtmlReportOptions options;
  std::string err;
  if (!ReadElementsBundle(&options.elements_js, &err)) {
    GTEST_SKIP() << "mutation-testing-elements is not installed (" << err << "); the elements view was NOT checked";
  }
  std::vector<ResultRecord> rs = RunawayLikeRecords();
  SourceIndex sources = SourcesFor(rs);
  options.sources = &sources;
  std::ostringstream html;
  WriteHtmlReport(rs, options, html);
  std::string text = html.str();
  text.insert(text.rfind("</body>"), kProbe);
  std::string page = dir_.Write("elements.html", text);

  const std::string shot = dir_.path() + "/elements.png";
  std::string blank = dir_.Write("blank.html", "<!DOCTYPE html><html><body></body></html>");
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + page, {"--screenshot=" + shot, "--virtual-time-budget=15000"},
                        dir_.path() + "/shot.out"),
            0)
      << Slurp(dir_.path() + "/shot.out.stderr");
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + blank, {"--screenshot=" + dir_.path() + "/blank.png"},
                        dir_.path() + "/blank.out"),
            0);
  std::string png = Slurp(shot), blank_png = Slurp(dir_.path() + "/blank.png");
  EXPECT_GT(png.size(), 8 * blank_png.size()) << "the screenshot is (nearly) blank";
  EXPECT_GT(DistinctBytes(png), 250u);
  if (const char* keep = std::getenv("MUTCELL_KEEP_ELEMENTS_SCREENSHOT")) std::ofstream(keep, std::ios::binary) << png;

  const std::string dom_path = dir_.path() + "/elements-dom.html";
  ASSERT_EQ(RunChromium(dir_.path(), "file://" + page, {"--dump-dom", "--virtual-time-budget=15000"}, dom_path), 0);
  const std::string facts_text = Facts(Slurp(dom_path));
  ASSERT_FALSE(facts_text.empty()) << "the probe did not finish: the web components did not render";
  nlohmann::json facts = nlohmann::json::parse(facts_text);
  std::cout << "facts: " << facts.dump() << "\n";

  // 46 killed + 1 oom + 1 timeout caught of 60 (12 survived): 80%, in
  // mutcell's summary and in the elements' own metrics table.
  EXPECT_EQ(facts["summaryScore"], "80.0%");
  ASSERT_TRUE(facts.contains("elementsScores")) << facts.dump();
  EXPECT_EQ(facts["elementsScores"][0], "80.00");
  // The file view marks every survivor; selecting one shows its diff.
  EXPECT_EQ(facts["survivorDots"], 12);
  ASSERT_TRUE(facts.contains("diffOld")) << facts.dump();
  EXPECT_EQ(facts["diffOld"][0], "x3 = 3 - 1");
  EXPECT_EQ(facts["diffNew"][0], "x3 = 3 + 1");
  // mutcell's own list of survivors' diffs (light DOM).
  ASSERT_EQ(facts["survivorDiffAdds"].size(), 12u);
  EXPECT_EQ(facts["survivorDiffAdds"][0], "+x3 = 3 + 1");
  // The memory view: the oom bar reaches the cell-limit line, and on the log
  // scale the small mutants are not a flat line at the bottom.
  ASSERT_TRUE(facts.contains("oomBarTop")) << facts.dump();
  EXPECT_NEAR(facts["oomBarTop"].get<double>(), facts["limitY"].get<double>(), 1.0);
  EXPECT_GT(facts["smallestKilledBar"].get<double>(), 0.25 * facts["plotHeight"].get<double>());
}

}  // namespace
}  // namespace mutcell
