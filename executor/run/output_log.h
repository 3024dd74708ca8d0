#pragma once
// An attempt's output log, made by mutcell before the attempt starts: its
// space is reserved (fallocate, size kept), so a full state directory is found
// before the mutant runs, not by the mutant's tests failing on ENOSPC, which
// would look like the mutant's doing. After the attempt the reservation
// beyond what was written is given back (TrimOutputLog).

#include <cstdint>
#include <string>

namespace mutcell {

/// Space reserved for each log; output beyond it is written normally.
constexpr uint64_t kLogReserveBytes = 64ull << 10;

/// Creates `path` (or keeps what it holds: the attempt appends) and reserves
/// `bytes` beyond its end, which it stores in *start. False with *err
/// ("log-write: ...") when the space cannot be had (ENOSPC, EDQUOT, a log
/// directory that cannot be written); a filesystem without fallocate only
/// gets the file.
bool ReserveOutputLog(const std::string& path, uint64_t bytes, uint64_t* start, std::string* err);

/// After the attempt, part of its verdict: false with *err ("log-write: ...")
/// when the output may not have been captured: it outgrew the reservation
/// and the filesystem is full now (a write failed with ENOSPC, the tests saw
/// it). A log that is gone (the mutant deleted it) is not an error: writes to
/// an unlinked file do not fail. Cheap (fstat, statvfs).
bool CheckOutputLog(const std::string& path, uint64_t start, uint64_t reserved, std::string* err);

/// Gives back the reservation beyond the output (truncates the log to its
/// size). Not part of any verdict: everything written is in the file. On a
/// busy ext4 the truncate waits for a journal transaction (1-7 ms measured
/// per log), so the scheduler does it once the next attempt has started.
/// False with *err when the log exists and cannot be truncated; a log that
/// is gone is not an error.
bool TrimOutputLog(const std::string& path, std::string* err);

}  // namespace mutcell
