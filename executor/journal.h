#pragma once
// The journal: an append-only JSON Lines file in the state directory, one
// record per finished mutant, behind a header that pins what the results
// belong to. A torn last record (crash mid-write) is ignored on load.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "executor/verdict.h"

namespace mutcell {

/// Format version written in every header.
constexpr int kJournalVersion = 1;

/// First record of a journal, and of every later session appended to it.
struct JournalHeader {
  std::string plan_fingerprint;
  std::string config_fingerprint;
  std::string mutcell_version;
  std::string backend;
  uint64_t cell_memory_bytes = 0;
  uint64_t mutant_count = 0;
  std::string started_at;  ///< ISO 8601 UTC
};

/// One finished mutant.
struct ResultRecord {
  std::string id;
  std::string fingerprint;        ///< the mutant's fingerprint when it ran
  Verdict verdict = Verdict::kError;
  std::optional<int> exit_code;
  std::optional<int> signal;
  double duration_s = 0;
  uint64_t peak_memory_bytes = 0;
  uint64_t cell_limit_bytes = 0;
  std::string backend;
  int attempts = 1;
  std::string error;              ///< reason, for error verdicts
  std::optional<int> zygote_generation;
  std::optional<uint64_t> zygote_memory_bytes;
  uint64_t seq = 0;               ///< run order
};

/// What a journal holds after load.
struct JournalContents {
  std::vector<JournalHeader> headers;   ///< one per session, oldest first
  std::vector<ResultRecord> results;    ///< in file order; a later record for an id wins
  bool complete = false;                ///< the last session recorded completion
  std::vector<std::string> warnings;    ///< e.g. "journal.jsonl:57: torn last record ignored"
};

/// Loads `path`. A missing file is an empty journal. A torn or unparsable
/// *last* line is reported in warnings and ignored; a bad line anywhere else,
/// or a newer format version, is an error "PATH:LINE: problem" (nothing is
/// rewritten either way).
bool LoadJournal(const std::string& path, JournalContents* out, std::string* err);

/// Appends to a journal; group-commits with fsync.
class JournalWriter {
 public:
  JournalWriter() = default;
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Opens (creating) `path` for appending and writes `header` as a session
  /// record. If the file ends in a torn record, a newline is written first so
  /// new records start on their own line.
  bool Open(const std::string& path, const JournalHeader& header, std::string* err);
  /// Appends one result (written to the file at once; fsync deferred).
  bool Append(const ResultRecord& r, std::string* err);
  /// Records that every mutant of the plan has a verdict.
  bool MarkComplete(std::string* err);
  /// fsyncs if anything was appended since the last sync.
  bool Sync(std::string* err);
  /// Sync, then close. Idempotent.
  bool Close(std::string* err);

 private:
  int fd_ = -1;
  bool dirty_ = false;
  std::string path_;
};

}  // namespace mutcell
