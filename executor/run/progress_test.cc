#include "executor/run/progress.h"

#include <stdlib.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

/// Everything written to a FILE*, read back.
struct Capture {
  Capture() : f(std::tmpfile()) {}
  ~Capture() { std::fclose(f); }
  std::string Text() {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    return s;
  }
  FILE* f;
};

Mutant M(const std::string& id, double estimate) {
  Mutant m;
  m.id = id;
  m.estimate_s = estimate;
  return m;
}

ResultRecord R(const std::string& id, Verdict v) {
  ResultRecord r;
  r.id = id;
  r.verdict = v;
  return r;
}

TEST(ConsoleProgressTest, StatusLineHasElapsedEtaAndWhatRunsNow) {
  Capture out;
  ConsoleProgress p(4, 0, out.f);
  Mutant a = M("pkg.a", 1), b = M("pkg.b", 1), c = M("pkg.c", 1), d = M("pkg.d", 1);
  p.SetWork({&a, &b, &c, &d});
  p.OnStart(a);
  p.OnStart(b);
  const auto t0 = ConsoleProgress::Clock::now();
  std::string line = p.StatusLine(t0 + std::chrono::seconds(3));
  EXPECT_NE(line.find("elapsed"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA ?"), std::string::npos) << line;  // nothing done yet
  EXPECT_NE(line.find("running 2: "), std::string::npos) << line;
  EXPECT_NE(line.find("pkg.a ("), std::string::npos) << line;
  EXPECT_NE(line.find("pkg.b ("), std::string::npos) << line;
  p.OnResult(R("pkg.a", Verdict::kKilled), a);
  line = p.StatusLine(t0 + std::chrono::seconds(10));
  EXPECT_NE(line.find("1/4"), std::string::npos) << line;
  EXPECT_EQ(line.find("pkg.a ("), std::string::npos) << line;  // done: not running any more
  // Equal estimates: three left of one done, so about three times the elapsed time.
  const size_t eta = line.find("ETA ");
  ASSERT_NE(eta, std::string::npos) << line;
  EXPECT_NE(line.substr(eta, 6), "ETA ?") << line;
}

TEST(ConsoleProgressTest, ACiLogGetsASummaryLineAtTheInterval) {
  Capture out;
  ConsoleProgress p(2, 0, out.f);
  p.SetTerminal(false);
  p.SetSummaryInterval(0);  // every tick, so the test does not wait
  Mutant a = M("pkg.a", 0);
  p.SetWork({&a});
  p.OnStart(a);
  p.OnTick(1);
  p.OnResult(R("pkg.a", Verdict::kSurvived), a);
  const std::string text = out.Text();
  EXPECT_NE(text.find("progress: 0/2"), std::string::npos) << text;
  EXPECT_NE(text.find("running 1: pkg.a"), std::string::npos) << text;
  EXPECT_NE(text.find("[1/2] survived"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;  // no redrawing in a log
}

TEST(ConsoleProgressTest, ALongIntervalPrintsNoSummaryYet) {
  Capture out;
  ConsoleProgress p(2, 0, out.f);
  p.SetTerminal(false);
  p.OnTick(0);
  EXPECT_EQ(out.Text().find("progress:"), std::string::npos);
}

TEST(UseColorTest, NoColorAndCliColorForceAreRespected) {
  Capture out;  // a file, not a terminal
  unsetenv("NO_COLOR");
  unsetenv("CLICOLOR_FORCE");
  EXPECT_FALSE(UseColor(out.f));
  setenv("CLICOLOR_FORCE", "1", 1);
  EXPECT_TRUE(UseColor(out.f));
  setenv("CLICOLOR_FORCE", "0", 1);
  EXPECT_FALSE(UseColor(out.f));
  setenv("CLICOLOR_FORCE", "1", 1);
  setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(UseColor(out.f));  // NO_COLOR wins
  setenv("NO_COLOR", "", 1);      // empty: as if unset
  EXPECT_TRUE(UseColor(out.f));
  unsetenv("NO_COLOR");
  unsetenv("CLICOLOR_FORCE");
}

TEST(ConsoleProgressTest, ColourOnlyWhenAsked) {
  unsetenv("NO_COLOR");
  setenv("CLICOLOR_FORCE", "1", 1);
  {
    Capture out;
    ConsoleProgress p(1, 0, out.f);
    p.SetTerminal(false);
    Mutant a = M("pkg.a", 0);
    p.OnResult(R("pkg.a", Verdict::kSurvived), a);
    EXPECT_NE(out.Text().find("\033[33msurvived"), std::string::npos);
  }
  setenv("NO_COLOR", "1", 1);
  {
    Capture out;
    ConsoleProgress p(1, 0, out.f);
    p.SetTerminal(false);
    Mutant a = M("pkg.a", 0);
    p.OnResult(R("pkg.a", Verdict::kSurvived), a);
    EXPECT_EQ(out.Text().find('\033'), std::string::npos);
  }
  unsetenv("NO_COLOR");
  unsetenv("CLICOLOR_FORCE");
}

TEST(FormatDurationTest, MinutesAndHours) {
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(65), "1m05s");
  EXPECT_EQ(FormatDuration(7380), "2h03m");
}

}  // namespace
}  // namespace mutcell
