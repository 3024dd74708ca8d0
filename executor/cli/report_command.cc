#include "executor/cli/report_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string_view>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"
#include "executor/common/exit_codes.h"
#include "executor/state/gates.h"
#include "executor/state/journal.h"
#include "executor/report/mutant_sources.h"
#include "executor/mutmut/mutmut_adopt.h"
#include "executor/mutmut/mutmut_files.h"
#include "executor/common/printable.h"
#include "executor/report/report.h"
#include "executor/report/report_html.h"
#include "executor/report/report_markdown.h"
#include "executor/report/report_schema.h"
#include "executor/shard/shard.h"
#include "executor/state/state_dir.h"

namespace mutcell {
namespace {

// The python3 of the venv mutcell was installed into, else the one on PATH.
std::string DefaultPython() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path beside = exe.parent_path() / "python3";
    if (access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return "python3";
}

// A `mutcell run` plan's optional "file" and "line": the whole line is the
// mutant's place. Files are read relative to the current directory; one
// that cannot be read leaves its mutants with file:line but no source.
SourceIndex FromPlan(const std::vector<PlanEntry>& plan) {
  SourceIndex index;
  std::map<std::string, std::vector<std::string>> lines;
  for (const PlanEntry& e : plan) {
    if (e.file.empty()) continue;
    MutantSource s;
    s.file = e.file;
    s.line = s.end_line = std::max(e.line, 1);
    s.column = 1;
    if (!index.files.count(e.file) && !lines.count(e.file)) {
      std::string text, ignored;
      auto& split = lines[e.file];
      if (ReadWholeFile(e.file, &text, &ignored)) {
        index.files[e.file] = text;
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) split.push_back(l);
      }
    }
    const auto& split = lines[e.file];
    if (e.line >= 1 && static_cast<size_t>(e.line) <= split.size()) {
      s.original = split[e.line - 1];
      s.end_column = static_cast<int>(split[e.line - 1].size()) + 1;
    } else {
      s.end_column = 1;  // outside the file: the schema report lists it without a place
    }
    index.mutants[e.id] = std::move(s);
  }
  return index;
}

// Files, lines and diffs for the reports that show code: from mutmut's
// mutants/ when the project has them, else from the plan. Without either,
// the reports still list every mutant, only without a place.
SourceIndex Locate(const ReportArgs& args, const std::string& mutmut_project, const StatePaths& paths,
                   const std::vector<PlanEntry>& plan) {
  SourceIndex index;
  std::string project = !args.project.empty() ? args.project : !mutmut_project.empty() ? mutmut_project : ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(project) / "mutants", ec)) {
    if (!args.project.empty()) spdlog::warn("{}: no mutants/ directory; the report has no file locations", project);
    return FromPlan(plan);
  }
  std::vector<std::string> warnings;
  std::string err;
  if (!LocateMutmutMutants(project, args.python.empty() ? DefaultPython() : args.python, paths.dir, &index,
                           &warnings, &err)) {
    spdlog::warn("cannot locate the mutants in the source ({}); the report has no file locations", err);
    return FromPlan(plan);
  }
  for (const std::string& w : warnings) spdlog::warn("{}", w);
  return index;
}

// In a mutmut project, what .meta holds now joins the journal the way it
// does at the start of a run (AdoptMutmutResults), so a plain `mutmut run`
// made after mutcell's last run is in the report, with origin mutmut; and
// the plan is every mutant mutants/ lists now (a shard: its part, the ids of
// plan.json). Only in memory: the report writes nothing.
bool JoinMutmutProject(const StatePaths& paths, const std::string& project, JournalContents* journal,
                       std::vector<PlanEntry>* plan, std::string* err) {
  MutmutTimeouts timeouts;
  std::vector<MutmutMutant> listed;
  if (!LoadMutmutTimeouts(project, &timeouts, err) || !ListMutmutMutants(project, timeouts, &listed, err)) return false;
  std::vector<Mutant> mutants = MutmutPlanMutants(listed, project);
  ShardRecord shard;
  bool sharded = false;
  if (!ReadShardRecord(paths, &shard, &sharded, err)) return false;
  if (sharded && shard.spec.count > 1) {
    std::unordered_set<std::string> part;
    for (const PlanEntry& e : *plan) part.insert(e.id);
    std::erase_if(mutants, [&](const Mutant& m) { return !part.count(m.id); });
  }
  const int oom_code = journal->headers.empty() ? kDefaultOomExitCode
                                                : journal->headers.back().oom_exit_code.value_or(kDefaultOomExitCode);
  for (ResultRecord& r : AdoptMutmutResults(*journal, mutants, listed, oom_code)) {
    r.session = journal->headers.size();
    journal->results.push_back(std::move(r));
  }
  plan->clear();
  for (const Mutant& m : mutants) plan->push_back(PlanEntry{m.id, m.fingerprint, "", 0});
  return true;
}

}  // namespace

int ReportCommand(const ReportArgs& args) {
  ReportFormat format;
  std::string err;
  if (!ParseReportFormat(args.format, &format, &err)) {
    spdlog::error("--format: {}", err);
    return kExitBadInput;
  }
  StatePaths paths(args.state_dir);
  std::vector<PlanEntry> plan;
  std::string plan_path, mutmut_project;
  if (!ReadPlanIndex(paths, &plan, &err, &plan_path)) {
    spdlog::error("{} (no run has started in {}?)", err, paths.dir);
    return kExitBadInput;
  }
  JournalContents journal;
  if (!LoadJournal(paths.journal, &journal, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  for (const std::string& w : journal.warnings) spdlog::warn("{}", w);
  if (MutmutProjectOfPlan(plan_path, &mutmut_project) &&
      !JoinMutmutProject(paths, mutmut_project, &journal, &plan, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  std::vector<ResultRecord> results = CurrentResults(journal, plan);
  const size_t latest_session = journal.headers.empty() ? 0 : journal.headers.size() - 1;
  for (ResultRecord& r : results) r.source = SourceOf(r, latest_session);
  const Tally tally = TallyResults(results, plan.size());

  std::vector<ResultRecord> shown = results;
  if (args.top > 0) {
    std::stable_sort(shown.begin(), shown.end(), [](const ResultRecord& a, const ResultRecord& b) {
      return a.peak_memory_bytes > b.peak_memory_bytes;
    });
    if (shown.size() > args.top) shown.resize(args.top);
  }
  const bool shows_code = format == ReportFormat::kMutationTestingJson || format == ReportFormat::kMarkdown ||
                          !args.html_path.empty();
  const SourceIndex sources = shows_code ? Locate(args, mutmut_project, paths, plan) : SourceIndex();
  if (!args.html_path.empty()) {
    HtmlReportOptions options;
    options.sources = &sources;
    if (!ReadElementsBundle(&options.elements_js, &err)) spdlog::warn("--html: {}", err);
    std::ostringstream page;
    WriteHtmlReport(results, options, page);
    if (!WriteFileAtomically(args.html_path, page.str(), &err)) {
      spdlog::error("--html: {}", err);
      return kExitInternal;
    }
    std::fprintf(stderr, "wrote %s (%zu mutants)\n", args.html_path.c_str(), results.size());
  }
  if (format == ReportFormat::kMutationTestingJson) WriteSchemaReport(shown, sources, std::cout);
  else if (format == ReportFormat::kMarkdown) WriteMarkdownReport(shown, sources, std::cout);
  else WriteReport(shown, format, std::cout);
  std::cout.flush();
  std::fprintf(stderr, "%s\n%s\n", CompletionLine(tally).c_str(), ScoreLine(tally).c_str());
  if (tally.with_result < plan.size()) {
    std::unordered_set<std::string_view> have;
    for (const ResultRecord& r : results) have.insert(r.id);
    std::string missing;
    size_t listed = 0;
    for (const PlanEntry& e : plan) {
      if (have.count(e.id)) continue;
      if (listed++ == 10) {
        missing += ", ...";
        break;
      }
      missing += (missing.empty() ? "" : ", ") + Printable(e.id);
    }
    std::fprintf(stderr, "without a result: %s\n", missing.c_str());
  }
  if (!journal.headers.empty()) {
    const JournalHeader& h = journal.headers.back();
    const std::string loud = LimitsDecidedWarning(tally, h.cell_memory_bytes, h.clean_run_peak_bytes);
    if (!loud.empty()) std::fprintf(stderr, "%s\n", loud.c_str());
  }
  GateSpec gates;
  gates.require_complete = args.require_complete;
  gates.fail_under = args.fail_under;
  gates.max_survived = args.max_survived;
  return CheckGatesAndSay(gates, tally, stderr);
}

}  // namespace mutcell
