#pragma once
// The journal: an append-only JSON Lines file in the state directory, one
// record per finished mutant, behind a header that pins what the results
// belong to. A torn last record (crash mid-write) is ignored on load.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "executor/plan/verdict.h"

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
  uint64_t budget_bytes = 0;       ///< the run's memory budget (0: not recorded)
  uint64_t effective_limit_bytes = 0;  ///< the memory discovery found mutcell may use
  std::string memory;              ///< the discovery line printed at start
  uint64_t clean_run_peak_bytes = 0;   ///< the clean test run's peak (0: unknown; written when set)
  /// The code this session stores in mutmut's .meta for `oom` (mutmut
  /// projects; written when set), so a report joins .meta as the run did.
  std::optional<int> oom_exit_code;
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
  uint64_t log_dropped_bytes = 0; ///< output cut from the attempt's log by the log limit (written when > 0)
  /// Forks the cell refused at its process limit (pids.events "max"); > 0
  /// makes the attempt an `error` ("pids-limit: ..."). Written only when > 0.
  uint64_t pids_max_hits = 0;
  /// Unreclaimable memory (shmem: files in /dev/shm or a tmpfs, memfds passed
  /// on) the cell still held once its processes were gone, which stays
  /// charged to the run cgroup. Written only when > 0.
  uint64_t left_behind_bytes = 0;
  /// Where the verdict comes from: "" = decided by mutcell in the session of
  /// this record; "mutcell" = an earlier session's verdict, carried over
  /// unchanged under the mutant's current fingerprint; "mutmut" = taken from
  /// mutmut's .meta (tested by mutmut itself). Written only when not "".
  std::string origin;
  /// The limits the attempt ran under (written when set; older journals lack
  /// them), so a raised limit re-runs what it decided.
  std::optional<double> timeout_limit_s;
  std::optional<uint64_t> pids_limit;
  /// Not stored: the session (index into JournalContents::headers) whose
  /// part of the journal holds this record.
  size_t session = 0;
  /// Not stored: where the verdict comes from, for reports ("this run",
  /// "earlier mutcell run", "mutmut"); set by SourceOf's callers.
  std::string source;
};

/// What a journal holds after load.
struct JournalContents {
  std::vector<JournalHeader> headers;   ///< one per session, oldest first
  std::vector<ResultRecord> results;    ///< in file order; a later record for an id wins
  bool complete = false;                ///< the last session recorded completion
  std::vector<std::string> warnings;    ///< e.g. "journal.jsonl:57: torn last record ignored"
};

/// Loads `path`. A missing file is an empty journal. A torn or unparsable
/// *last* line is reported in warnings and ignored, and so is one directly
/// before a header (the torn end of an earlier session, which Open closed
/// with a newline). A bad line anywhere else, a result before any header, or
/// a newer format version is an error "PATH:LINE: problem". Nothing is
/// rewritten either way. Unknown fields of known records are ignored.
bool LoadJournal(const std::string& path, JournalContents* out, std::string* err);

/// The current time as ISO 8601 UTC with seconds ("2026-11-27T20:52:10Z"),
/// for JournalHeader::started_at.
std::string UtcTimestamp();

/// Appends to a journal, one JSON line per record, each written by one
/// write() call; fsync is deferred to Sync (group commit). Not thread-safe.
/// The caller holds the state directory's lock (StateLock), so no other
/// process appends at the same time. Records:
///   {"type":"header","version":1,"plan_fingerprint":...,...}
///   {"type":"result","id":...,"verdict":"killed",...}
///   {"type":"complete","at":"2026-..."}
class JournalWriter {
 public:
  JournalWriter() = default;
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Opens (creating) `path` for appending, writes `header` as a session
  /// record and fsyncs it (and the directory when the file is new). If the
  /// file ends in a torn record, a newline is written first so new records
  /// start on their own line.
  bool Open(const std::string& path, const JournalHeader& header, std::string* err);
  /// Appends one result (written to the file at once; fsync deferred). When
  /// the write fails (disk full), the partial bytes are cut off again, so the
  /// journal stays loadable and holds only whole records; *err says which
  /// mutant was not recorded.
  bool Append(const ResultRecord& r, std::string* err);
  /// Records that every mutant of the plan has a verdict, and syncs.
  bool MarkComplete(std::string* err);
  /// fsyncs if anything was appended since the last sync.
  bool Sync(std::string* err);
  /// Sync, then close. Idempotent.
  bool Close(std::string* err);

  /// Called after the writer restored a journal that was unlinked or
  /// replaced under it (e.g. a mutant ran `rm -rf` on the state directory):
  /// the session recreates what else lives there (logs/, the lock).
  void SetOnRestore(std::function<void()> fn) { on_restore_ = std::move(fn); }
  /// How many times the journal was restored this session.
  int restores() const { return restores_; }

 private:
  /// Before every append and sync: when the open file is not at path_ any
  /// more (unlinked, or another file put there), copies it (it still holds
  /// every record: the descriptor keeps the inode) to a new file renamed
  /// over path_, recreating the directory, and appends there from now on.
  bool EnsureInPlace(std::string* err);
  /// `what` names the record in an error message (built only then).
  bool AppendLine(const std::string& line, const std::function<std::string()>& what, std::string* err);

  int fd_ = -1;
  bool dirty_ = false;
  bool broken_ = false;   ///< a failed write could not be cut off again
  uint64_t size_ = 0;     ///< bytes in the file that are whole records (or the closing newline)
  std::string path_;
  std::function<void()> on_restore_;
  int restores_ = 0;
};

/// Serialises one record as its journal line (without the newline); exposed
/// for tests and tools that build journals.
std::string JournalLine(const JournalHeader& h);
std::string JournalLine(const ResultRecord& r);

}  // namespace mutcell
