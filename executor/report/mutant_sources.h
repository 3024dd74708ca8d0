#pragma once
// Where each mutant is in the source: file, changed range, replacement and
// diff, for the reports that show code (mutation-testing JSON, HTML,
// markdown). For a mutmut project it comes from mutcell_locate.py run with
// the project's Python; for `mutcell run` plans from optional plan fields.

#include <map>
#include <string>
#include <vector>

namespace mutcell {

/// One mutant's place. Lines and columns are 1-based; the end is exclusive
/// (the mutation-testing-report-schema's convention). 0 means unknown.
struct MutantSource {
  std::string file;  ///< path relative to the project
  int line = 0, column = 0;
  int end_line = 0, end_column = 0;
  std::string original;     ///< the replaced text
  std::string replacement;  ///< what the mutant has there instead
  std::string diff;         ///< unified diff of the mutated function ("" unknown)
  std::string mutator;      ///< a category of the change ("OperatorMutation", ...)
};

/// What the reports know about the code: mutants by id and each file's text.
struct SourceIndex {
  std::map<std::string, MutantSource> mutants;
  std::map<std::string, std::string> files;  ///< path -> original source text
};

/// Parses mutcell_locate.py's output (its docstring has the format) into
/// *out. False with *err "PATH: problem" when the file is not that format.
/// Its "errors" (mutants it could not place) go to *warnings.
bool LoadLocateOutput(const std::string& path, SourceIndex* out, std::vector<std::string>* warnings, std::string* err);

/// Runs `python mutcell_locate.py --out OUT --cache CACHE` in `project`
/// (a mutmut project after its mutants were generated) and loads the result.
/// `state_dir` holds the cache and the output. False with *err when the script
/// cannot run or fails; the reports then go on without locations.
bool LocateMutmutMutants(const std::string& project, const std::string& python, const std::string& state_dir,
                         SourceIndex* out, std::vector<std::string>* warnings, std::string* err);

}  // namespace mutcell
