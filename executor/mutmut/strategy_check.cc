#include "executor/mutmut/strategy_check.h"

#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "executor/common/atomic_file.h"
#include "executor/state/journal.h"
#include "sandbox/runner.h"
#include "version.h"

namespace mutcell {
namespace {

std::string FunctionOf(const std::string& id) {
  return id.substr(0, id.find("__mutmut_"));
}

/// Keeps the results; prints nothing (the check is one line at its end).
class QuietProgress : public Progress {
 public:
  void OnResult(const ResultRecord& r, const Mutant& m) override {
    (void)m;
    results[r.id] = r;
  }
  void OnTick(size_t running) override { (void)running; }
  std::map<std::string, ResultRecord> results;
};

bool RunOneWay(const SchedulerOptions& base, const std::string& way, CellBackend* backend, Runner* runner,
               const std::vector<const Mutant*>& sample, const std::string& journal_dir,
               std::map<std::string, ResultRecord>* out, std::string* log_prefix, std::string* err) {
  SchedulerOptions opts = base;
  opts.log_prefix = "check-" + way + "-" + base.log_prefix;
  // Tokens the run's scheduler (from 1) never reaches: the runner that is
  // kept serves the run next, and a zygote refuses an id it has seen.
  opts.first_seq = (way == "collected" ? 1 : 2) * 1000000000ull;
  *log_prefix = opts.log_prefix;
  JournalWriter writer;
  JournalHeader header;
  header.mutcell_version = MUTCELL_VERSION;
  header.backend = base.backend_name;
  header.mutant_count = sample.size();
  header.memory = "strategy check, " + way;
  if (!writer.Open(journal_dir + "/strategy-check-" + way + ".jsonl", header, err)) return false;
  QuietProgress progress;
  Scheduler scheduler(opts, backend, runner, &writer, &progress);
  RunSummary summary;
  bool ok = scheduler.Run(sample, &summary, err);
  std::string cerr;
  if (!writer.Close(&cerr) && ok) {
    *err = cerr;
    ok = false;
  }
  *out = std::move(progress.results);
  return ok;
}

bool IsTestVerdict(Verdict v) {
  return v == Verdict::kKilled || v == Verdict::kSurvived;
}

std::string LogOf(const SchedulerOptions& opts, const std::string& prefix, const ResultRecord& r) {
  if (opts.log_dir.empty()) return "";
  return opts.log_dir + "/" + prefix + std::to_string(r.seq) + "-attempt-" + std::to_string(r.attempts) + ".log";
}

}  // namespace

std::string FailingTestInLog(const std::string& log_text) {
  std::istringstream in(log_text);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* tag : {"FAILED ", "ERROR "}) {
      if (line.rfind(tag, 0) != 0) continue;
      std::string rest = line.substr(std::char_traits<char>::length(tag));
      rest = rest.substr(0, rest.find(" - "));
      if (rest.find("::") != std::string::npos || rest.find('.') != std::string::npos) return rest.substr(0, 500);
    }
  }
  return "";
}

std::string StrategyCheckResult::Describe() const {
  if (differences.empty())
    return fmt::format(
        "strategy check: collected and pytest-main agreed on {} of {} sampled mutants "
        "({} without a test verdict both ways); the run uses collected",
        compared, sampled, sampled - compared);
  const StrategyDifference& d = differences.front();
  std::string tests;
  for (size_t i = 0; i < d.tests.size() && i < 5; ++i) tests += (i ? ", " : "") + d.tests[i];
  if (d.tests.size() > 5) tests += ", ...";
  const std::string failed = d.failing_test.empty() ? "" : ", failing test " + d.failing_test;
  return fmt::format(
      "strategy check: {} of {} sampled mutants differ; the run switches to pytest-main. "
      "First: {} is {} collected but {} by pytest-main, with tests [{}]{} (logs: {} and {})",
      differences.size(), sampled, d.mutant, VerdictName(d.collected), VerdictName(d.pytest_main), tests, failed,
      d.collected_log, d.pytest_main_log);
}

std::vector<const Mutant*> PickStrategySample(const std::vector<const Mutant*>& todo, size_t n) {
  std::vector<const Mutant*> out;
  if (n == 0 || todo.empty()) return out;
  std::set<size_t> taken;
  std::set<std::string> functions;
  // Two passes over the list in an even stride: new functions first.
  for (int pass = 0; pass < 2 && out.size() < n; ++pass) {
    const size_t stride = std::max<size_t>(1, todo.size() / n);
    for (size_t start = 0; start < stride && out.size() < n; ++start) {
      for (size_t i = start; i < todo.size() && out.size() < n; i += stride) {
        if (taken.count(i)) continue;
        const std::string f = FunctionOf(todo[i]->id);
        if (pass == 0 && functions.count(f)) continue;
        taken.insert(i);
        functions.insert(f);
        out.push_back(todo[i]);
      }
    }
  }
  return out;
}

bool RunStrategyCheck(const SchedulerOptions& opts, CellBackend* backend, Runner* collected, Runner* pytest_main,
                      const std::vector<const Mutant*>& sample, const std::string& journal_dir,
                      StrategyCheckResult* result, std::string* err) {
  *result = StrategyCheckResult();
  result->sampled = sample.size();
  std::map<std::string, ResultRecord> a, b;
  std::string prefix_a, prefix_b;
  if (!RunOneWay(opts, "collected", backend, collected, sample, journal_dir, &a, &prefix_a, err)) return false;
  if (!RunOneWay(opts, "pytest-main", backend, pytest_main, sample, journal_dir, &b, &prefix_b, err)) return false;
  for (const Mutant* m : sample) {
    auto ia = a.find(m->id), ib = b.find(m->id);
    if (ia == a.end() || ib == b.end()) continue;  // interrupted
    if (!IsTestVerdict(ia->second.verdict) || !IsTestVerdict(ib->second.verdict)) continue;
    result->compared++;
    if (ia->second.verdict == ib->second.verdict) continue;
    StrategyDifference d;
    d.mutant = m->id;
    d.collected = ia->second.verdict;
    d.pytest_main = ib->second.verdict;
    d.tests = m->tests;
    d.collected_log = LogOf(opts, prefix_a, ia->second);
    d.pytest_main_log = LogOf(opts, prefix_b, ib->second);
    std::string text, rerr;
    const std::string& killing_log = d.collected == Verdict::kKilled ? d.collected_log : d.pytest_main_log;
    if (!killing_log.empty() && ReadWholeFile(killing_log, &text, &rerr)) d.failing_test = FailingTestInLog(text);
    result->differences.push_back(std::move(d));
  }
  return true;
}

}  // namespace mutcell
