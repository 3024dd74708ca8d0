#pragma once
// mutmut's files: mutants/**/*.meta (verdicts per mutant), mutants/mutmut-stats.json
// (tests per function, test durations) and the [tool.mutmut] timeouts. Only
// executor/ knows these formats; docs/mutmut-notes.md describes them
// (mutmut 3.8.1).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "executor/state/journal.h"
#include "executor/plan/verdict.h"

namespace mutcell {

/// mutmut's exit codes as it stores them (stats.py status_by_exit_code).
/// Negative values are "killed by signal -N" (os.waitstatus_to_exitcode).
namespace mutmut_code {
constexpr int kSurvived = 0;
constexpr int kKilled = 1;
constexpr int kNoTests = 33;
constexpr int kSkipped = 34;
constexpr int kSuspicious = 35;
constexpr int kTimeout = 36;
constexpr int kTypeCheck = 37;
}  // namespace mutmut_code

/// The code mutcell writes for `oom` unless configured otherwise: mutmut shows
/// it as "timeout" (a resource limit reached; counted as caught).
constexpr int kDefaultOomExitCode = mutmut_code::kTimeout;

/// mutmut's status name for a stored exit code ("killed", "no tests", ...;
/// nullopt = "not checked"), exactly as `mutmut results` prints it.
std::string MutmutStatus(std::optional<int> exit_code);

/// The settings of [tool.mutmut] that mutcell needs, with mutmut's defaults.
struct MutmutTimeouts {
  double timeout_multiplier = 15.0;
  double timeout_constant = 1.0;
};

/// Reads timeout_multiplier/timeout_constant like mutmut: [tool.mutmut] of
/// `project_dir`/pyproject.toml if that table exists, else [mutmut] of
/// setup.cfg, else the defaults. Wrong types are errors "FILE: key: problem".
bool LoadMutmutTimeouts(const std::string& project_dir, MutmutTimeouts* out, std::string* err);

/// mutants/mutmut-stats.json, the parts mutcell uses.
struct MutmutStats {
  std::map<std::string, std::vector<std::string>> tests_by_function;  ///< "<module>.<mangled>" → test ids
  std::map<std::string, double> duration_by_test;                     ///< test id → seconds
  std::string config_fingerprint;  ///< mutmut's config_fingerprint, compact JSON ("" when absent)
};

/// Loads a stats file. Unknown keys, wrong types, a test without a duration
/// and non-JSON are errors naming the file and the key.
bool LoadMutmutStats(const std::string& path, MutmutStats* out, std::string* err);

/// One mutants/<source>.meta file: mutant key → stored exit code, in file order.
struct MutmutMeta {
  std::string path;
  std::vector<std::pair<std::string, std::optional<int>>> exit_codes;
  std::map<std::string, std::string> hash_by_function_name;  ///< mutmut's hash of each mutated function's source
};

/// Loads and validates a .meta file (the keys mutmut writes and nothing else,
/// as mutmut's own loader demands).
bool LoadMutmutMeta(const std::string& path, MutmutMeta* out, std::string* err);

/// The function a mutant belongs to, as mutmut derives it: the text before
/// the first "__mutmut_"; "" when the name has none.
std::string MangledFunctionName(const std::string& mutant);

/// A mutant of a mutmut project.
struct MutmutMutant {
  std::string name;                   ///< the .meta key
  std::string meta_path;              ///< the .meta file holding it
  std::optional<int> exit_code;       ///< stored result; nullopt = not checked
  std::vector<std::string> tests;     ///< covering tests, fastest first (empty: no tests)
  double estimate_s = 0;              ///< sum of the tests' durations
  double timeout_s = 0;               ///< (estimate + constant) × multiplier
  /// mutmut's hash of the mutant's function (hash_by_function_name; "" when
  /// absent): mutmut drops a function's results when it changes.
  std::string function_hash;
  /// mutmut's config_fingerprint from mutmut-stats.json (compact JSON; ""
  /// when absent): mutmut drops results when parts of its config change.
  std::string mutmut_config;
};

/// What decides a mutmut mutant's verdict, as a fingerprint: its name, its
/// function's hash, mutmut's config fingerprint and its covering tests
/// (sorted: their order is by durations measured on this machine).
std::string MutmutFingerprint(const MutmutMutant& m);

/// The verdict for an exit code mutmut stored (its own run's or mutcell's
/// write-back), or nullopt for codes that are no verdict (2: interrupted).
/// 0 survived; 1, 3, other positive codes, 37 (type check) killed; 33, 5
/// no_tests; 34 skipped; 36, 24, -24, 152, 255 timeout; negative codes
/// crashed (signal -code); 35 crashed (mutmut's "suspicious").
std::optional<Verdict> VerdictForMutmutCode(int code);

/// Every mutant under `project_dir`/mutants (the .meta files whose source file
/// still exists in the project, like mutmut's walk), fastest estimate first
/// (ties: file path, then file order). False with *err naming the file on
/// any corrupt file; a missing stats file is an error too.
bool ListMutmutMutants(const std::string& project_dir, const MutmutTimeouts& timeouts,
                       std::vector<MutmutMutant>* out, std::string* err);

/// The .meta files under `project_dir`/mutants whose source file still
/// exists in the project (the ones mutmut's walk loads), sorted.
bool ListMutmutMetaFiles(const std::string& project_dir, std::vector<std::string>* out, std::string* err);

/// Validates every .meta file ListMutmutMetaFiles names, as LoadMutmutMeta
/// does; true when there is no mutants/ yet. False with *err "FILE: place:
/// problem" for the first corrupt one, before mutmut's own loader (which
/// would fail with a traceback not naming the file) reads it.
bool CheckMutmutMetaFiles(const std::string& project_dir, std::string* err);

/// True when `name` equals one of `patterns` or matches one as a glob the way
/// Python's fnmatch does (`*` crosses dots and slashes). Empty patterns: all.
bool MutantSelected(const std::string& name, const std::vector<std::string>& patterns);

/// One result to store.
struct MutmutResult {
  std::string key;                    ///< mutant key, must already be in the file
  int exit_code = 0;                  ///< mutmut's code
  double duration_s = 0;              ///< written to durations_by_key
  std::optional<double> estimate_s;   ///< written to estimated_durations_by_key when set
};

/// The code to store for a verdict, or nullopt for verdicts that must stay
/// "not checked" (error). killed/survived keep the raw exit code (as mutmut
/// does), crashed stores -signal, timeout 36, oom `oom_code`, no_tests 33,
/// skipped 34.
std::optional<int> MutmutExitCodeFor(Verdict v, std::optional<int> exit_code,
                                     std::optional<int> signal, int oom_code);

/// Stores `results` in the .meta file at `path` atomically (temp file in the
/// same directory, fsync, rename): sets exit_code_by_key and durations_by_key
/// (and estimated_durations_by_key) for each, keeps every other key and value
/// and the key order, and writes JSON the way Python's json.dump(indent=4)
/// does. A corrupt file or a key not in exit_code_by_key is an error naming
/// the file and key; then nothing is written.
bool WriteMutmutResults(const std::string& path, const std::vector<MutmutResult>& results,
                        std::string* err);

/// Stores mutcell's results in the .meta files of `mutants` (one write per
/// file): the code for each verdict as MutmutExitCodeFor gives it with
/// `oom_code`, its duration and the mutant's estimate; `error` results stay
/// "not checked". A result naming no mutant of `mutants` is refused: false
/// with that id in *missing, and nothing is written. A write failure is false
/// with *err. *written counts the verdicts stored, *files the files rewritten.
bool WriteResultsToMeta(const std::vector<ResultRecord>& results, const std::vector<MutmutMutant>& mutants,
                        int oom_code, size_t* written, size_t* files, std::string* missing, std::string* err);

}  // namespace mutcell
