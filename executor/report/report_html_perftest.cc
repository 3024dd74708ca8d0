// Benchmark: how long the work of `mutcell report --html` takes on a journal
// of N records (default 100,000): loading the journal, then writing the page.
// Prints times; asserts nothing.
//
//   report_html_perftest [N] [--keep DIR]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "executor/state/journal.h"
#include "executor/report/report_html.h"

using namespace mutcell;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

ResultRecord Synthetic(uint64_t i) {
  ResultRecord r;
  r.id = "pkg.module_" + std::to_string(i % 97) + ".x_function_" + std::to_string(i % 1013) +
         "__mutmut_" + std::to_string(i);
  r.fingerprint = "f" + std::to_string(i);
  r.seq = i;
  r.verdict = i % 997 == 0 ? Verdict::kOom : i % 1499 == 0 ? Verdict::kTimeout
              : i % 4 == 0 ? Verdict::kSurvived : Verdict::kKilled;
  if (r.verdict == Verdict::kKilled) r.exit_code = 1;
  if (r.verdict == Verdict::kSurvived) r.exit_code = 0;
  if (r.verdict == Verdict::kOom || r.verdict == Verdict::kTimeout) r.signal = 9;
  r.duration_s = 0.05 + static_cast<double>(i % 50) / 100.0;
  r.cell_limit_bytes = 512ull << 20;
  r.peak_memory_bytes = r.verdict == Verdict::kOom ? r.cell_limit_bytes
                                                    : ((40 + (i * 7919) % 120) << 20) + i % 4096;
  r.backend = "v1";
  r.zygote_generation = static_cast<int>(i / 1000);
  r.zygote_memory_bytes = (60ull << 20) + (i % 1000) * 8192;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 100000;
  std::string keep;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg == "--keep" && a + 1 < argc) keep = argv[++a];
    else n = std::strtoull(argv[a], nullptr, 10);
  }
  char tmpl[] = "/tmp/mutcell-perf-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = keep.empty() ? std::string(tmpl) : keep;
  std::filesystem::create_directories(dir);
  const std::string journal = dir + "/journal.jsonl", page = dir + "/report.html";

  std::string err;
  {
    JournalWriter w;
    JournalHeader h;
    h.plan_fingerprint = "perf";
    h.config_fingerprint = "perf";
    h.mutcell_version = "perf";
    h.backend = "v1";
    h.cell_memory_bytes = 512ull << 20;
    h.mutant_count = n;
    h.started_at = "2026-01-01T00:00:00Z";
    if (!w.Open(journal, h, &err)) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (!w.Append(Synthetic(i), &err)) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
      }
    }
    if (!w.Close(&err)) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
  }

  auto t0 = Clock::now();
  JournalContents contents;
  if (!LoadJournal(journal, &contents, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  double load_s = Seconds(t0);

  auto t1 = Clock::now();
  std::ostringstream html;
  WriteHtmlReport(contents.results, html);
  double render_s = Seconds(t1);

  auto t2 = Clock::now();
  {
    std::ofstream out(page, std::ios::binary);
    out << html.str();
  }
  double write_s = Seconds(t2);

  std::printf("report_html_perftest: %zu records (journal %.1f MiB)\n", contents.results.size(),
              static_cast<double>(std::filesystem::file_size(journal)) / (1 << 20));
  std::printf("  load journal     %8.3f s\n", load_s);
  std::printf("  WriteHtmlReport  %8.3f s  (page %.1f MiB)\n", render_s,
              static_cast<double>(html.str().size()) / (1 << 20));
  std::printf("  write file       %8.3f s\n", write_s);
  std::printf("  total            %8.3f s\n", load_s + render_s + write_s);
  if (keep.empty()) std::filesystem::remove_all(dir);
  else std::printf("  kept %s and %s\n", journal.c_str(), page.c_str());
  return 0;
}
