#include "executor/common/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sandbox/cgroup_files.h"

namespace mutcell {
namespace {

constexpr char kTempMark[] = ".tmp-";

// The PID a temp file name ends with ("x.meta.tmp-123" → 123), or 0.
pid_t TempFilePid(const std::string& name, const std::string& suffix) {
  const size_t mark = name.rfind(kTempMark);
  if (mark == std::string::npos || mark < suffix.size() ||
      name.compare(mark - suffix.size(), suffix.size(), suffix) != 0)
    return 0;
  const std::string digits = name.substr(mark + sizeof kTempMark - 1);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<pid_t>(std::atol(digits.c_str()));
}

// A live process that may still be writing the file: alive, and a mutcell
// binary (its command name starts with "mutcell"; tests' binaries too).
bool LiveWriter(pid_t pid) {
  if (pid == getpid()) return false;
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  std::string comm, ignored;
  if (!ReadWholeFile("/proc/" + std::to_string(pid) + "/comm", &comm, &ignored)) return errno != ENOENT;
  return comm.rfind("mutcell", 0) == 0;
}

}  // namespace

void RemoveStaleTempFiles(const std::string& dir, const std::string& suffix, bool recursive,
                          std::vector<std::string>* removed) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto consider = [&](const fs::directory_entry& e) {
    std::error_code fec;
    if (!e.is_regular_file(fec)) return;
    const pid_t pid = TempFilePid(e.path().filename().string(), suffix);
    if (pid <= 0 || LiveWriter(pid)) return;
    if (unlink(e.path().c_str()) == 0) removed->push_back(e.path().string());
  };
  if (recursive) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) consider(*it);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) consider(*it);
  }
}

bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* err) {
  std::string tmp = path + kTempMark + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = tmp + ": " + std::strerror(errno);
    return false;
  }
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = tmp + ": " + std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    *err = tmp + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *err = path + ": rename: " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* content, std::string* err) {
  // Room for the whole file first (clear() keeps it): a large journal is
  // read without regrowing the string.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && st.st_size > 0) content->reserve(static_cast<size_t>(st.st_size));
  return ReadFileToString(path, content, err);
}

}  // namespace mutcell
