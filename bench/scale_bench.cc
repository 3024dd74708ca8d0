// Scale benchmark: planning, journal append and journal load for N mutants,
// timed through mutcell's own code (libmutcell_core), one phase at a time.
// bench/run.sh compiles it against a build directory; it is not part of the
// CMake build. Usage: scale_bench PLAN STATE_DIR
// Reads PLAN (JSON Lines), writes STATE_DIR/journal.jsonl with one
// "survived" record per mutant (marked complete, so `mutcell run` of the same
// plan resumes with nothing to do) and prints one JSON object of timings.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "executor/state/journal.h"
#include "executor/plan/plan.h"

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

long MaxRssKib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PLAN STATE_DIR\n", argv[0]);
    return 2;
  }
  const std::string plan_path = argv[1];
  const std::string state_dir = argv[2];
  std::string err;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);

  auto t0 = std::chrono::steady_clock::now();
  mutcell::Plan plan;
  if (!mutcell::LoadPlan(plan_path, mutcell::PlanDefaults{}, &plan, &err)) {
    std::fprintf(stderr, "scale_bench: %s\n", err.c_str());
    return 1;
  }
  const double plan_s = Since(t0);
  const long rss_after_plan = MaxRssKib();

  const std::string journal_path = state_dir + "/journal.jsonl";
  mutcell::JournalWriter writer;
  mutcell::JournalHeader header;
  header.plan_fingerprint = plan.fingerprint;
  header.mutcell_version = "bench";
  header.backend = "none";
  header.mutant_count = plan.mutants.size();
  header.started_at = mutcell::UtcTimestamp();
  auto t1 = std::chrono::steady_clock::now();
  if (!writer.Open(journal_path, header, &err)) {
    std::fprintf(stderr, "scale_bench: %s\n", err.c_str());
    return 1;
  }
  uint64_t seq = 0;
  for (const mutcell::Mutant& m : plan.mutants) {
    mutcell::ResultRecord r;
    r.id = m.id;
    r.fingerprint = m.fingerprint;
    r.verdict = mutcell::Verdict::kSurvived;
    r.exit_code = 0;
    r.duration_s = 0.001;
    r.backend = "none";
    r.seq = ++seq;
    if (!writer.Append(r, &err)) {
      std::fprintf(stderr, "scale_bench: %s\n", err.c_str());
      return 1;
    }
  }
  if (!writer.MarkComplete(&err) || !writer.Close(&err)) {
    std::fprintf(stderr, "scale_bench: %s\n", err.c_str());
    return 1;
  }
  const double append_s = Since(t1);

  auto t2 = std::chrono::steady_clock::now();
  mutcell::JournalContents contents;
  if (!mutcell::LoadJournal(journal_path, &contents, &err)) {
    std::fprintf(stderr, "scale_bench: %s\n", err.c_str());
    return 1;
  }
  const double load_s = Since(t2);
  std::printf(
      "{\"mutants\": %zu, \"plan_load_s\": %.6f, \"journal_append_s\": %.6f, \"journal_load_s\": %.6f, "
      "\"journal_bytes\": %llu, \"loaded_results\": %zu, \"complete\": %s, \"maxrss_after_plan_kib\": %ld, "
      "\"maxrss_kib\": %ld}\n",
      plan.mutants.size(), plan_s, append_s, load_s,
      static_cast<unsigned long long>(std::filesystem::file_size(journal_path, ec)), contents.results.size(),
      contents.complete ? "true" : "false", rss_after_plan, MaxRssKib());
  return 0;
}
