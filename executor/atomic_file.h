#pragma once
// Rewriting a file so that a crash leaves either the old or the new content.

#include <string>

namespace mutcell {

/// Writes `content` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory. On failure *err names the file and
/// errno, and `path` is untouched.
bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* err);

/// Reads a whole file. False with *err ("PATH: reason") if it cannot be read.
bool ReadWholeFile(const std::string& path, std::string* content, std::string* err);

}  // namespace mutcell
