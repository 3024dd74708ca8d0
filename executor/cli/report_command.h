#pragma once
// `mutcell report`: the results of the plan last run in a state directory.

#include <cstdint>
#include <optional>
#include <string>

namespace mutcell {

struct ReportArgs {
  std::string state_dir = ".mutcell";
  std::string format = "table";   ///< table, json, csv, mutation-testing-json, markdown
  std::string project;            ///< mutmut project for locations; "" = "." when it has mutants/
  std::string python;             ///< runs mutcell_locate.py; "" = beside the binary, else python3
  size_t top = 0;                 ///< >0: only the N largest peaks
  std::string html_path;          ///< also write the HTML page here
  bool require_complete = false;  ///< exit kExitIncomplete unless every mutant has a final verdict
  std::optional<double> fail_under;       ///< exit kExitScoreTooLow when the score is below (percent)
  std::optional<uint64_t> max_survived;   ///< exit kExitTooManySurvivors when more survived
};

/// Prints the report to stdout; to stderr the completion line, the mutation
/// score, a warning when the limits decided most verdicts, and any failed
/// gate. Covers every mutant of the plan last run; for `mutcell mutmut`,
/// every mutant of the project as mutants/ lists it now, with what its .meta
/// holds now joined to the journal (a later plain `mutmut run` shows as
/// origin mutmut). Reads only. Returns an exit status from exit_codes.h.
int ReportCommand(const ReportArgs& args);

}  // namespace mutcell
