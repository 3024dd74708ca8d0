#pragma once
// Plans: the mutants of a run, from a JSON Lines plan file (one mutant per line).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mutcell {

/// One mutant to test.
struct Mutant {
  std::string id;                           ///< unique in the plan; untrusted text
  std::vector<std::string> argv;            ///< command of the test run (exec mode)
  std::map<std::string, std::string> env;   ///< extra environment
  std::string cwd;                          ///< working directory, "" = the plan's
  std::optional<double> timeout_s;          ///< overrides the configured timeout
  std::optional<double> estimate_s;         ///< estimated test time (ordering, sharding)
  std::vector<std::string> tests;           ///< tests to run (zygote mode)
  std::string fingerprint;                  ///< MutantFingerprint: what decides the verdict
  std::string file;                         ///< source file of the mutation, for reports ("" unknown)
  int line = 0;                             ///< its line in `file`, 1-based (0 unknown)
};

/// What a plan line may leave out.
struct PlanDefaults {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string cwd;
};

/// A loaded plan.
struct Plan {
  std::string path;
  std::vector<Mutant> mutants;   ///< in file order
  std::string fingerprint;       ///< digest of all mutant fingerprints in order
};

/// Longest plan line accepted, in bytes.
constexpr size_t kMaxPlanLineBytes = 1 << 20;

/// Loads `path`: each non-blank line a JSON object with "id" (non-empty
/// string), optional "argv" (array of strings, non-empty unless the defaults
/// give one), "env" (object of strings), "cwd" (string), "timeout_s"
/// (positive number), "estimate_s" (number >= 0), "tests" (array of strings),
/// "file" (string) and "line" (integer >= 1): where the mutation is, shown by
/// the reports and not part of the fingerprint.
/// Defaults fill in a missing argv and cwd; default env entries are merged
/// under the line's. Unknown or repeated keys, wrong types, NUL bytes in
/// strings, duplicate ids (the message names the first line too), lines over
/// kMaxPlanLineBytes (checked before parsing), non-JSON and a plan without
/// mutants are errors: false, with *err "PATH:LINE: problem" (or "PATH: ...").
bool LoadPlan(const std::string& path, const PlanDefaults& defaults, Plan* out, std::string* err);

/// Parses one plan line (for tests and other plan sources). `where` prefixes
/// error messages ("plan.jsonl:3").
bool ParsePlanLine(const std::string& line, const std::string& where, const PlanDefaults& defaults,
                   Mutant* out, std::string* err);

/// The fingerprint of everything that decides `m`'s verdict: id, argv, env,
/// cwd, timeout_s and tests (not estimate_s, which only orders the run),
/// over their canonical JSON. ParsePlanLine sets Mutant::fingerprint with it.
std::string MutantFingerprint(const Mutant& m);

}  // namespace mutcell
