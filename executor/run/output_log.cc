#include "executor/run/output_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "limits/size.h"

namespace mutcell {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool ReserveOutputLog(const std::string& path, uint64_t bytes, uint64_t* start, std::string* err) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {
    // A mutant may have deleted the state directory (it lives in the
    // project); the session restores the rest at its next journal write.
    std::error_code ec;
    std::filesystem::create_directories(DirOf(path), ec);
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  }
  if (fd < 0) {
    *err = "log-write: cannot create the output log " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  *start = fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  int r = bytes ? fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(*start), static_cast<off_t>(bytes)) : 0;
  int saved = errno;
  close(fd);
  if (r != 0 && saved != EOPNOTSUPP && saved != ENOSYS) {
    *err =
        "log-write: cannot reserve " + FormatSize(bytes) + " for the output log " + path + ": " + std::strerror(saved);
    return false;
  }
  return true;
}

bool CheckOutputLog(const std::string& path, uint64_t start, uint64_t reserved, std::string* err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    // Gone: the mutant deleted it (or the state directory). Its writes went to
    // the unlinked file and did not fail, so the verdict still stands.
    if (errno == ENOENT) return true;
    *err = "log-write: the output log " + path + ": " + std::strerror(errno);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) <= start + reserved) return true;  // every byte landed in reserved space
  struct statvfs vfs;
  if (statvfs(DirOf(path).c_str(), &vfs) != 0) return true;
  const uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (avail >= reserved) return true;
  *err = "log-write: the output (" + FormatSize(static_cast<uint64_t>(st.st_size) - start) +
         ") outgrew its reserved space and the state directory's filesystem is full (" + FormatSize(avail) +
         " free): output may have been lost, and the tests may have failed on it";
  return false;
}

bool TrimOutputLog(const std::string& path, std::string* err) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return true;
  if (fd < 0) {
    *err = "the output log " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  // Truncating to the size it has frees the reserved blocks beyond it.
  bool ok = fstat(fd, &st) == 0 && ftruncate(fd, st.st_size) == 0;
  const int saved = errno;
  close(fd);
  if (!ok) *err = "giving back the reserved space of the output log " + path + ": " + std::strerror(saved);
  return ok;
}

}  // namespace mutcell
