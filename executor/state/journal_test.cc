#include "executor/state/journal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

JournalHeader Header(uint64_t count = 3) {
  JournalHeader h;
  h.plan_fingerprint = "plan-fp";
  h.config_fingerprint = "config-fp";
  h.mutcell_version = "0.1.0";
  h.backend = "v1";
  h.cell_memory_bytes = 256ull << 20;
  h.mutant_count = count;
  h.started_at = "2026-11-27T20:00:00Z";
  h.budget_bytes = 4ull << 30;
  h.effective_limit_bytes = 8ull << 30;
  h.memory = "limit 8 GiB (cgroup v1), budget 4 GiB";
  return h;
}

ResultRecord Result(const std::string& id, Verdict v, uint64_t seq) {
  ResultRecord r;
  r.id = id;
  r.fingerprint = "fp-" + id;
  r.verdict = v;
  r.duration_s = 0.125 * static_cast<double>(seq + 1);
  r.peak_memory_bytes = 1000 + seq;
  r.cell_limit_bytes = 256ull << 20;
  r.backend = "v1";
  r.seq = seq;
  if (v == Verdict::kKilled) r.exit_code = 1;
  if (v == Verdict::kSurvived) r.exit_code = 0;
  if (v == Verdict::kOom || v == Verdict::kTimeout) r.signal = 9;
  if (v == Verdict::kError) r.error = "spawn failed: \"x\"\nline two";
  return r;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mutcell-journal-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/journal.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a session: header, results, optionally completion.
  void WriteSession(const std::vector<ResultRecord>& results, bool complete) {
    JournalWriter w;
    std::string err;
    ASSERT_TRUE(w.Open(path_, Header(results.size()), &err)) << err;
    for (const auto& r : results) ASSERT_TRUE(w.Append(r, &err)) << err;
    if (complete) {
      ASSERT_TRUE(w.MarkComplete(&err)) << err;
    }
    ASSERT_TRUE(w.Close(&err)) << err;
  }

  std::string dir_, path_;
};

TEST_F(JournalTest, MissingFileIsEmpty) {
  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_TRUE(c.headers.empty());
  EXPECT_TRUE(c.results.empty());
  EXPECT_FALSE(c.complete);
}

TEST_F(JournalTest, RoundTripsEveryField) {
  ResultRecord r = Result("pkg.mod.x_f__mutmut_1", Verdict::kError, 7);
  r.attempts = 3;
  r.zygote_generation = 2;
  r.zygote_memory_bytes = 123456789012ull;
  r.exit_code = -1;
  ResultRecord s = Result("ünïcode \"quoted\"\t", Verdict::kOom, 8);
  WriteSession({r, s}, true);

  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_EQ(c.headers.size(), 1u);
  const JournalHeader& h = c.headers[0];
  EXPECT_EQ(h.plan_fingerprint, "plan-fp");
  EXPECT_EQ(h.config_fingerprint, "config-fp");
  EXPECT_EQ(h.mutcell_version, "0.1.0");
  EXPECT_EQ(h.backend, "v1");
  EXPECT_EQ(h.cell_memory_bytes, 256ull << 20);
  EXPECT_EQ(h.mutant_count, 2u);
  EXPECT_EQ(h.started_at, "2026-11-27T20:00:00Z");
  EXPECT_EQ(h.budget_bytes, 4ull << 30);
  EXPECT_EQ(h.effective_limit_bytes, 8ull << 30);
  EXPECT_EQ(h.memory, "limit 8 GiB (cgroup v1), budget 4 GiB");
  ASSERT_EQ(c.results.size(), 2u);
  const ResultRecord& a = c.results[0];
  EXPECT_EQ(a.id, r.id);
  EXPECT_EQ(a.fingerprint, r.fingerprint);
  EXPECT_EQ(a.verdict, Verdict::kError);
  EXPECT_EQ(a.exit_code, -1);
  EXPECT_FALSE(a.signal);
  EXPECT_EQ(a.duration_s, r.duration_s);
  EXPECT_EQ(a.peak_memory_bytes, r.peak_memory_bytes);
  EXPECT_EQ(a.cell_limit_bytes, r.cell_limit_bytes);
  EXPECT_EQ(a.backend, "v1");
  EXPECT_EQ(a.attempts, 3);
  EXPECT_EQ(a.error, r.error);
  EXPECT_EQ(a.zygote_generation, 2);
  EXPECT_EQ(a.zygote_memory_bytes, 123456789012ull);
  EXPECT_EQ(a.seq, 7u);
  EXPECT_EQ(c.results[1].id, s.id);
  EXPECT_EQ(c.results[1].signal, 9);
  EXPECT_FALSE(c.results[1].exit_code);
  EXPECT_FALSE(c.results[1].zygote_generation);
  EXPECT_TRUE(c.complete);
}

TEST_F(JournalTest, RecordsAreOneLineEachWithTheDocumentedShape) {
  WriteSession({Result("a", Verdict::kKilled, 0)}, true);
  std::string text = ReadAll(path_);
  ASSERT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::string l1, l2, l3, extra;
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(l1.rfind("{\"type\":\"header\",\"version\":1,", 0), 0u) << l1;
  EXPECT_EQ(l2.rfind("{\"type\":\"result\",\"id\":\"a\",", 0), 0u) << l2;
  EXPECT_EQ(l3.rfind("{\"type\":\"complete\",\"at\":\"", 0), 0u) << l3;
}

TEST_F(JournalTest, SessionsAppendAndCompletionBelongsToTheLastSession) {
  WriteSession({Result("a", Verdict::kKilled, 0)}, true);
  WriteSession({Result("a", Verdict::kSurvived, 0), Result("b", Verdict::kTimeout, 1)}, false);
  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_EQ(c.headers.size(), 2u);
  ASSERT_EQ(c.results.size(), 3u);
  EXPECT_EQ(c.results[1].verdict, Verdict::kSurvived);  // file order; later wins for the caller
  EXPECT_FALSE(c.complete);
  WriteSession({}, true);
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_TRUE(c.complete);
}

// issue 4: a journal cut at every byte length of its last two records loads;
// the torn part is ignored and every complete record is kept.
TEST_F(JournalTest, CutAtEveryByteOfTheLastTwoRecordsLoads) {
  std::vector<ResultRecord> rs;
  for (uint64_t i = 0; i < 5; ++i) rs.push_back(Result("m" + std::to_string(i), Verdict::kKilled, i));
  WriteSession(rs, false);
  std::string full = ReadAll(path_);
  // Offsets where each line starts; the last two records are lines 5 and 6.
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < full.size(); ++i)
    if (full[i] == '\n') starts.push_back(i + 1);
  ASSERT_EQ(starts.size(), 7u);  // header + 5 results, plus the end
  size_t first_cut = starts[4];  // start of the 4th result (line 5)
  int loads = 0;
  for (size_t len = first_cut; len <= full.size(); ++len) {
    std::string cut = full.substr(0, len);
    WriteAll(path_, cut);
    // Records whose closing '}' is inside the cut are whole.
    size_t whole = 0;
    for (size_t line = 1; line <= 5; ++line)
      if (starts[line + 1] - 1 <= len) ++whole;
    JournalContents c;
    std::string err;
    ASSERT_TRUE(LoadJournal(path_, &c, &err)) << "cut at " << len << ": " << err;
    ASSERT_EQ(c.results.size(), whole) << "cut at " << len;
    for (size_t i = 0; i < whole; ++i) EXPECT_EQ(c.results[i].id, "m" + std::to_string(i));
    bool torn = len != starts[4] && len != starts[5] && len != starts[6] && len + 1 != starts[5] &&
                len + 1 != starts[6];
    EXPECT_EQ(c.warnings.size(), torn ? 1u : 0u) << "cut at " << len;
    if (torn) {
      size_t line = len < starts[5] ? 5 : 6;
      EXPECT_EQ(c.warnings[0].rfind(path_ + ":" + std::to_string(line) + ": torn", 0), 0u) << c.warnings[0];
    }
    EXPECT_EQ(ReadAll(path_), cut) << "load must not rewrite";
    ++loads;
  }
  EXPECT_GT(loads, 300);
}

// Every cut of a whole small journal, header included, loads; a cut header
// leaves an empty journal.
TEST_F(JournalTest, CutAnywhereIncludingTheHeaderLoads) {
  WriteSession({Result("a", Verdict::kKilled, 0), Result("b", Verdict::kSurvived, 1)}, true);
  std::string full = ReadAll(path_);
  size_t header_end = full.find('\n');
  for (size_t len = 0; len <= full.size(); ++len) {
    WriteAll(path_, full.substr(0, len));
    JournalContents c;
    std::string err;
    ASSERT_TRUE(LoadJournal(path_, &c, &err)) << "cut at " << len << ": " << err;
    EXPECT_EQ(c.headers.size(), len >= header_end ? 1u : 0u) << "cut at " << len;
    EXPECT_LE(c.warnings.size(), 1u);
    EXPECT_EQ(c.complete, len >= full.size() - 1) << "cut at " << len;
  }
}

// After a torn end, the next session starts on a fresh line and both the old
// session's whole records and the new ones load, at every cut.
TEST_F(JournalTest, NextSessionAfterEveryCutLoads) {
  WriteSession({Result("a", Verdict::kKilled, 0), Result("b", Verdict::kSurvived, 1)}, false);
  std::string full = ReadAll(path_);
  size_t last_start = full.rfind('\n', full.size() - 2) + 1;
  for (size_t len = last_start; len <= full.size(); ++len) {
    WriteAll(path_, full.substr(0, len));
    WriteSession({Result("c", Verdict::kOom, 2)}, true);
    JournalContents c;
    std::string err;
    ASSERT_TRUE(LoadJournal(path_, &c, &err)) << "cut at " << len << ": " << err;
    bool b_whole = len >= full.size() - 1;
    ASSERT_EQ(c.results.size(), b_whole ? 3u : 2u) << "cut at " << len;
    EXPECT_EQ(c.results.back().id, "c");
    EXPECT_EQ(c.headers.size(), 2u);
    EXPECT_TRUE(c.complete);
    bool torn = len != last_start && !b_whole;
    EXPECT_EQ(c.warnings.size(), torn ? 1u : 0u) << "cut at " << len;
    if (torn) {
      EXPECT_NE(c.warnings[0].find("torn record at the end of a session"), std::string::npos);
    }
  }
}

TEST_F(JournalTest, OpenClosesATornLastLineWithANewline) {
  WriteSession({Result("a", Verdict::kKilled, 0)}, false);
  std::string full = ReadAll(path_);
  WriteAll(path_, full.substr(0, full.size() - 10));
  JournalWriter w;
  std::string err;
  ASSERT_TRUE(w.Open(path_, Header(), &err)) << err;
  ASSERT_TRUE(w.Close(&err)) << err;
  std::string after = ReadAll(path_);
  EXPECT_EQ(after.substr(0, full.size() - 10), full.substr(0, full.size() - 10));
  EXPECT_EQ(after[full.size() - 10], '\n');
  EXPECT_EQ(after.substr(full.size() - 9, 18), "{\"type\":\"header\",\"");
}

TEST_F(JournalTest, GarbageInTheMiddleIsRefusedWithTheLineNumber) {
  WriteSession({Result("a", Verdict::kKilled, 0), Result("b", Verdict::kKilled, 1),
                Result("c", Verdict::kKilled, 2)},
               false);
  std::string full = ReadAll(path_);
  // Replace line 3 (result "b") by garbage of several kinds.
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < full.size(); ++i)
    if (full[i] == '\n') starts.push_back(i + 1);
  for (const std::string& garbage :
       {std::string("not json at all"), std::string("{\"type\":\"result\",\"id\":\"b\""),
        std::string("{\"type\":\"mystery\"}"), std::string("[1,2,3]"),
        std::string("{\"type\":\"result\",\"id\":\"b\",\"verdict\":\"maybe\"}"),
        std::string("{\"type\":\"result\",\"id\":\"b\",\"verdict\":\"killed\",\"seq\":-1}"),
        std::string("{\"type\":\"result\",\"verdict\":\"killed\"}"), std::string(40, '\0')}) {
    std::string text = full.substr(0, starts[2]) + garbage + "\n" + full.substr(starts[3]);
    WriteAll(path_, text);
    JournalContents c;
    std::string err;
    EXPECT_FALSE(LoadJournal(path_, &c, &err)) << garbage;
    EXPECT_EQ(err.rfind(path_ + ":3: ", 0), 0u) << err;
    EXPECT_NE(err.find("nothing was changed"), std::string::npos) << err;
    EXPECT_EQ(ReadAll(path_), text);
  }
}

TEST_F(JournalTest, GarbageAsTheLastLineIsAWarning) {
  WriteSession({Result("a", Verdict::kKilled, 0)}, false);
  std::string text = ReadAll(path_) + "\x01\x02garbage\n";
  WriteAll(path_, text);
  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_EQ(c.results.size(), 1u);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind(path_ + ":3: torn or unreadable last record ignored", 0), 0u) << c.warnings[0];
  EXPECT_EQ(ReadAll(path_), text);
}

TEST_F(JournalTest, NewerVersionIsRefused) {
  WriteSession({Result("a", Verdict::kKilled, 0)}, false);
  std::string text = ReadAll(path_) + "{\"type\":\"header\",\"version\":2,\"whatever\":[1]}\n";
  WriteAll(path_, text);
  JournalContents c;
  std::string err;
  EXPECT_FALSE(LoadJournal(path_, &c, &err));
  EXPECT_EQ(err.rfind(path_ + ":3: journal format version 2 is newer than this mutcell supports (1)", 0), 0u)
      << err;
}

TEST_F(JournalTest, ResultBeforeAnyHeaderIsRefused) {
  WriteAll(path_, JournalLine(Result("a", Verdict::kKilled, 0)) + "\n" + JournalLine(Header()) + "\n" +
                      JournalLine(Result("b", Verdict::kKilled, 1)) + "\n");
  JournalContents c;
  std::string err;
  // Directly before a header, an out-of-place line is treated like the torn
  // end of a session: reported and ignored.
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.warnings.size(), 1u);
  WriteAll(path_, JournalLine(Result("a", Verdict::kKilled, 0)) + "\n" +
                      JournalLine(Result("b", Verdict::kKilled, 1)) + "\n");
  EXPECT_FALSE(LoadJournal(path_, &c, &err));
  EXPECT_EQ(err.rfind(path_ + ":1: result record before any header", 0), 0u) << err;
}

TEST_F(JournalTest, UnknownFieldsAreIgnored) {
  WriteAll(path_, "{\"type\":\"header\",\"version\":1,\"future\":{\"x\":1}}\n"
                  "{\"type\":\"result\",\"id\":\"a\",\"verdict\":\"oom\",\"new_field\":true}\n");
  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].verdict, Verdict::kOom);
  EXPECT_TRUE(c.warnings.empty());
}

// A record in the shape JournalLine writes is read without a DOM; the same
// record in another shape is read by nlohmann. Both must give the same.
TEST_F(JournalTest, FastAndExactReadingsAgree) {
  ResultRecord r = Result("pkg.mod.x_f__mutmut_1", Verdict::kTimeout, 7);
  r.attempts = 3;
  r.exit_code = -2147483647 - 1;
  r.signal = 2147483647;
  r.zygote_generation = 0;
  r.zygote_memory_bytes = 123456789012ull;
  r.duration_s = 0.1 + 0.2;
  r.error = "tab\t\"q\" \\ /";
  const std::string fast = JournalLine(r);
  // "type" last: outside the fast reader's shape.
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(fast);
  j.erase("type");
  j["type"] = "result";
  const std::string exact = j.dump();
  for (const std::string& line : {fast, exact}) {
    WriteAll(path_, JournalLine(Header()) + "\n" + line + "\n");
    JournalContents c;
    std::string err;
    ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
    ASSERT_EQ(c.results.size(), 1u) << line;
    const ResultRecord& a = c.results[0];
    EXPECT_EQ(a.id, r.id);
    EXPECT_EQ(a.fingerprint, r.fingerprint);
    EXPECT_EQ(a.verdict, r.verdict);
    EXPECT_EQ(a.exit_code, r.exit_code);
    EXPECT_EQ(a.signal, r.signal);
    EXPECT_EQ(a.duration_s, r.duration_s);
    EXPECT_EQ(a.peak_memory_bytes, r.peak_memory_bytes);
    EXPECT_EQ(a.cell_limit_bytes, r.cell_limit_bytes);
    EXPECT_EQ(a.backend, r.backend);
    EXPECT_EQ(a.attempts, r.attempts);
    EXPECT_EQ(a.error, r.error);
    EXPECT_EQ(a.zygote_generation, r.zygote_generation);
    EXPECT_EQ(a.zygote_memory_bytes, r.zygote_memory_bytes);
    EXPECT_EQ(a.seq, r.seq);
  }
}

// Records in the fast reader's shape but wrong: each is still refused (in
// the middle) with the exact reader's message, and a repeated field is
// read as nlohmann reads it (the last one counts).
TEST_F(JournalTest, ProblemsInPlainRecordsGetTheExactMessages) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"type":"result","id":"a","verdict":"maybe"})", "result: unknown verdict \"maybe\""},
      {R"({"type":"result","id":"","verdict":"killed"})", "result: \"id\" is empty"},
      {R"({"type":"result","verdict":"killed"})", "result: \"id\" is missing"},
      {R"({"type":"result","id":"a","verdict":"killed","seq":-1})", "result: \"seq\" is not a non-negative integer"},
      {R"({"type":"result","id":"a","verdict":"killed","attempts":2147483648})", "result: \"attempts\" is not an integer"},
      {R"({"type":"result","id":"a","verdict":"killed","exit_code":1.5})", "result: \"exit_code\" is not an integer"},
      {R"({"type":"result","id":"a","verdict":"killed","duration_s":"1"})", "result: \"duration_s\" is not a number"},
      {R"({"type":"result","id":"a","verdict":"killed"} x)", "not a JSON record"},
      {R"({"type":"result","id":"a","verdict":"killed",})", "not a JSON record"},
      {R"({"type":"resulting","id":"a","verdict":"killed"})", "unknown record type \"resulting\""},
  };
  for (const auto& [line, message] : bad) {
    WriteAll(path_, JournalLine(Header()) + "\n" + line + "\n" + JournalLine(Result("b", Verdict::kKilled, 1)) + "\n");
    JournalContents c;
    std::string err;
    EXPECT_FALSE(LoadJournal(path_, &c, &err)) << line;
    EXPECT_EQ(err.rfind(path_ + ":2: " + message, 0), 0u) << line << " gave " << err;
  }
  WriteAll(path_, JournalLine(Header()) + "\n" +
                      R"({"type":"result","id":"a","verdict":"killed","exit_code":1,"exit_code":null,"id":"b"})" +
                      "\n");
  JournalContents c;
  std::string err;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].id, "b");
  EXPECT_FALSE(c.results[0].exit_code);
}

// The line ordered_json wrote before records were written directly: the
// bytes must not change (tools and older mutcells read them).
std::string ReferenceLine(const ResultRecord& r) {
  using ojson = nlohmann::ordered_json;
  auto or_null = [](const auto& v) { return v ? ojson(*v) : ojson(nullptr); };
  ojson j;
  j["type"] = "result";
  j["id"] = r.id;
  j["fingerprint"] = r.fingerprint;
  j["verdict"] = std::string(VerdictName(r.verdict));
  j["exit_code"] = or_null(r.exit_code);
  j["signal"] = or_null(r.signal);
  j["duration_s"] = r.duration_s;
  j["peak_memory_bytes"] = r.peak_memory_bytes;
  j["cell_limit_bytes"] = r.cell_limit_bytes;
  j["backend"] = r.backend;
  j["attempts"] = r.attempts;
  j["error"] = r.error;
  j["zygote_generation"] = or_null(r.zygote_generation);
  j["zygote_memory_bytes"] = or_null(r.zygote_memory_bytes);
  j["seq"] = r.seq;
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

TEST_F(JournalTest, ResultLinesAreTheBytesTheyWereBefore) {
  std::vector<ResultRecord> records;
  for (Verdict v : {Verdict::kKilled, Verdict::kSurvived, Verdict::kTimeout, Verdict::kOom, Verdict::kError})
    records.push_back(Result("pkg.mod.x_f__mutmut_" + std::string(VerdictName(v)), v, 3));
  ResultRecord odd = Result("ünïcode \"q\"\t\x01 bad \xff", Verdict::kError, 18446744073709551615ull);
  odd.exit_code = -2147483647 - 1;
  odd.signal = 2147483647;
  odd.zygote_generation = -1;
  odd.zygote_memory_bytes = 18446744073709551615ull;
  odd.attempts = 0;
  records.push_back(odd);
  for (double d : {0.0, -0.0, 1.0, 0.1, 1e-7, 123456789.125, 1e300, 0.001}) {
    ResultRecord r = Result("d", Verdict::kKilled, 1);
    r.duration_s = d;
    records.push_back(r);
  }
  for (const ResultRecord& r : records) EXPECT_EQ(JournalLine(r), ReferenceLine(r));
}

TEST_F(JournalTest, AppendWithoutOpenFails) {
  JournalWriter w;
  std::string err;
  EXPECT_FALSE(w.Append(Result("a", Verdict::kKilled, 0), &err));
  EXPECT_NE(err.find("not open"), std::string::npos);
  EXPECT_TRUE(w.Sync(&err));
  EXPECT_TRUE(w.Close(&err));
}

TEST_F(JournalTest, UnwritableDirectoryIsAClearError) {
  JournalWriter w;
  std::string err;
  EXPECT_FALSE(w.Open(dir_ + "/no/such/dir/journal.jsonl", Header(), &err));
  EXPECT_NE(err.find(dir_ + "/no/such/dir/journal.jsonl: cannot open the journal"), std::string::npos) << err;
}

// issue 4: the state directory on a tiny tmpfs that fills up: a clear error,
// the journal still loads, and it holds exactly what was recorded.
class JournalDiskFullTest : public JournalTest {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    mnt_ = dir_ + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    if (mount("mutcell-test", mnt_.c_str(), "tmpfs", 0, "size=64k") != 0) {
      skip_ = std::string("cannot mount a tmpfs (needs root / CAP_SYS_ADMIN): ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
    path_ = mnt_ + "/journal.jsonl";
  }
  void TearDown() override {
    if (mounted_) {
      EXPECT_EQ(umount2(mnt_.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    }
    JournalTest::TearDown();
  }
  std::string mnt_, skip_;
  bool mounted_ = false;
};

TEST_F(JournalDiskFullTest, FullDiskGivesAClearErrorAndKeepsWhatWasRecorded) {
  if (!mounted_) GTEST_SKIP() << skip_;
  JournalWriter w;
  std::string err;
  ASSERT_TRUE(w.Open(path_, Header(), &err)) << err;
  size_t recorded = 0;
  bool failed = false;
  for (uint64_t i = 0; i < 100000 && !failed; ++i) {
    // Long ids so records do not fit page boundaries evenly.
    ResultRecord r = Result("mutant-" + std::to_string(i) + std::string(i % 300, 'x'), Verdict::kKilled, i);
    if (w.Append(r, &err)) {
      ++recorded;
      if (i % 10 == 0) {
        ASSERT_TRUE(w.Sync(&err)) << err;
      }
    } else {
      failed = true;
    }
  }
  ASSERT_TRUE(failed) << "a 64 KiB tmpfs never filled up";
  EXPECT_NE(err.find(path_ + ": cannot append to the journal: No space left on device"), std::string::npos)
      << err;
  EXPECT_NE(err.find("was not recorded"), std::string::npos) << err;
  // A record that does not fit keeps failing cleanly; a smaller one may still
  // fit in the last page, and then it counts as recorded.
  std::string err2;
  EXPECT_FALSE(w.Append(Result("late" + std::string(8192, 'y'), Verdict::kKilled, 0), &err2));
  if (w.Append(Result("small", Verdict::kKilled, 0), &err2)) ++recorded;
  bool complete = w.MarkComplete(&err2);
  EXPECT_TRUE(w.Close(&err2)) << err2;

  JournalContents c;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];  // the partial record was cut off
  EXPECT_EQ(c.results.size(), recorded);
  EXPECT_EQ(c.complete, complete);
  EXPECT_GT(recorded, 50u);
  std::string text = ReadAll(path_);
  EXPECT_EQ(text.back(), '\n');
  std::printf("disk full after %zu records, journal %zu bytes\n", recorded, text.size());
}

TEST_F(JournalDiskFullTest, FullDiskAtOpenLeavesTheJournalLoadable) {
  if (!mounted_) GTEST_SKIP() << skip_;
  WriteSession({Result("a", Verdict::kKilled, 0)}, false);
  std::string before = ReadAll(path_);
  // Fill the rest of the file system.
  {
    int fd = open((mnt_ + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    std::string block(4096, 'f');
    while (write(fd, block.data(), block.size()) > 0) {
    }
    close(fd);
  }
  JournalWriter w;
  std::string err;
  JournalHeader big = Header();
  big.plan_fingerprint = std::string(8192, 'p');  // cannot fit even in a partial page
  EXPECT_FALSE(w.Open(path_, big, &err));
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_EQ(ReadAll(path_), before);
  JournalContents c;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  EXPECT_EQ(c.results.size(), 1u);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(UtcTimestampTest, IsIso8601Utc) {
  std::string t = UtcTimestamp();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

// The cost of journaling one mutant: an append (one write) and, at worst, an
// fsync of its own. Printed, not asserted: speed is the benchmarks' business
// (bench/run.sh --only 5), and a time bound here would fail on a loaded or
// sanitized build. What is asserted is that every record appended loads.
TEST_F(JournalTest, CostPerMutantIsPrintedAndEveryRecordLoads) {
  constexpr int kRecords = 2000;
  JournalWriter w;
  std::string err;
  ASSERT_TRUE(w.Open(path_, Header(kRecords), &err)) << err;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i)
    ASSERT_TRUE(w.Append(Result("pkg.mod.x_func__mutmut_" + std::to_string(i), Verdict::kKilled, i), &err));
  ASSERT_TRUE(w.Sync(&err)) << err;
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords / 10; ++i) {
    ASSERT_TRUE(w.Append(Result("pkg.mod.y_func__mutmut_" + std::to_string(i), Verdict::kKilled, i), &err));
    ASSERT_TRUE(w.Sync(&err)) << err;
  }
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(w.Close(&err)) << err;
  double append_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / kRecords;
  double synced_us = std::chrono::duration<double, std::micro>(t2 - t1).count() / (kRecords / 10);
  auto t3 = std::chrono::steady_clock::now();
  JournalContents c;
  ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
  auto t4 = std::chrono::steady_clock::now();
  double load_us = std::chrono::duration<double, std::micro>(t4 - t3).count() / c.results.size();
  std::printf("journal: append %.1f us/record (group fsync), append+fsync %.1f us/record, load %.1f us/record\n",
              append_us, synced_us, load_us);
  EXPECT_EQ(c.results.size(), static_cast<size_t>(kRecords + kRecords / 10));
}

}  // namespace
}  // namespace mutcell

namespace mutcell {
namespace {

// Where a verdict came from and the limits that decided it survive a load,
// by the fast reader and by nlohmann alike; each record knows its session.
TEST_F(JournalTest, OriginLimitsAndSessionRoundTrip) {
  ResultRecord r = Result("pkg.mod.x_f__mutmut_1", Verdict::kOom, 7);
  r.origin = "mutmut";
  r.timeout_limit_s = 15.25;
  r.pids_limit = 512;
  r.pids_max_hits = 2;
  const std::string fast = JournalLine(r);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(fast);
  j.erase("type");
  j["type"] = "result";
  for (const std::string& line : {fast, j.dump()}) {
    WriteAll(path_, JournalLine(Header()) + "\n" + JournalLine(Result("a", Verdict::kKilled, 1)) + "\n" +
                        JournalLine(Header()) + "\n" + line + "\n");
    JournalContents c;
    std::string err;
    ASSERT_TRUE(LoadJournal(path_, &c, &err)) << err;
    ASSERT_EQ(c.results.size(), 2u);
    EXPECT_EQ(c.results[0].session, 0u);
    EXPECT_TRUE(c.results[0].origin.empty());
    EXPECT_FALSE(c.results[0].timeout_limit_s);
    const ResultRecord& a = c.results[1];
    EXPECT_EQ(a.session, 1u);
    EXPECT_EQ(a.origin, "mutmut");
    EXPECT_EQ(a.timeout_limit_s, 15.25);
    EXPECT_EQ(a.pids_limit, 512u);
    EXPECT_EQ(a.pids_max_hits, 2u);
  }
  // Records without the new fields are written as before.
  EXPECT_EQ(JournalLine(Result("a", Verdict::kKilled, 1)).find("origin"), std::string::npos);
}

}  // namespace
}  // namespace mutcell
