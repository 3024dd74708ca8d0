#pragma once
// Rewriting a file so that a crash leaves either the old or the new content.

#include <string>
#include <vector>

namespace mutcell {

/// Writes `content` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory. On failure *err names the file and
/// errno, and `path` is untouched.
bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* err);

/// Removes the temporary files WriteFileAtomically left behind (a kill
/// between write and rename): every `*<suffix>.tmp-PID` in `dir` (and below
/// it with `recursive`) whose writer is gone: PID is not alive, or alive but
/// not a mutcell process (the PID was reused), or this process (call it
/// before this process writes any). A file of a live mutcell process (a
/// concurrent writer, e.g. `mutcell merge --mutmut-project`) is kept. Adds
/// the removed paths to *removed; a file that cannot be removed is skipped.
void RemoveStaleTempFiles(const std::string& dir, const std::string& suffix, bool recursive,
                          std::vector<std::string>* removed);

/// Reads a whole file (sandbox's ReadFileToString, with room reserved for
/// the file's size). False with *err ("PATH: reason", or "PATH: read:
/// reason") if it cannot be read, errno left as the failing call set it
/// (callers tell ENOENT apart).
bool ReadWholeFile(const std::string& path, std::string* content, std::string* err);

}  // namespace mutcell
