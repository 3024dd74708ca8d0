#pragma once
// `mutcell report`: the results of the plan last run in a state directory.

#include <string>

namespace mutcell {

struct ReportArgs {
  std::string state_dir = ".mutcell";
  std::string format = "table";   ///< table, json, csv, mutation-testing-json, markdown
  std::string project;            ///< mutmut project for locations; "" = "." when it has mutants/
  std::string python;             ///< runs mutcell_locate.py; "" = beside the binary, else python3
  size_t top = 0;                 ///< >0: only the N largest peaks
  std::string html_path;          ///< also write the HTML page here
  bool require_complete = false;  ///< exit kExitIncomplete unless every mutant has a verdict
};

/// Prints the report to stdout and "complete" or "incomplete: N of M" to
/// stderr. Returns an exit status from exit_codes.h.
int ReportCommand(const ReportArgs& args);

}  // namespace mutcell
