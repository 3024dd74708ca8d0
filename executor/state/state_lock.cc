#include "executor/state/state_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>

#include "executor/common/atomic_file.h"

namespace mutcell {
namespace {

namespace fs = std::filesystem;

// POSIX record locks do not exclude the process that holds them, so two
// StateLocks of one process would both "succeed"; this set makes the second
// one fail like a second process would.
std::mutex g_mu;
std::set<std::string> g_held;

std::string InUse(const std::string& dir, const std::string& holder) {
  return "state directory " + dir + " is in use by mutcell " + holder +
         "; wait for it to finish or use another --state-dir";
}

// The pid in lock.pid, or 0. A pid that is no longer alive is stale (left by
// a crashed run, or not yet replaced by the new holder) and counts as none.
pid_t ReadPidFile(const std::string& path) {
  std::string text, ignored;
  if (!ReadWholeFile(path, &text, &ignored)) return 0;
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || pid <= 0 || pid > (1 << 22)) return 0;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return 0;
  return static_cast<pid_t>(pid);
}

// The kernel's view of who holds the lock, for when lock.pid says nothing.
pid_t HolderFromKernel(const std::string& lock_path) {
  int fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  pid_t pid = 0;
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) pid = fl.l_pid;
  close(fd);
  return pid;
}

// Boost opens the lock file without O_CLOEXEC and does not expose the
// descriptor; find it by inode so mutants do not inherit it.
void SetCloexecOnLockFd(const std::string& lock_path) {
  struct stat want;
  if (stat(lock_path.c_str(), &want) != 0) return;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(d)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino) {
      int flags = fcntl(static_cast<int>(fd), F_GETFD);
      if (flags >= 0) fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
    }
  }
  closedir(d);
}

}  // namespace

StateLock::StateLock() = default;

StateLock::~StateLock() { Release(); }

bool StateLock::TryAcquire(const std::string& state_dir, std::string* err) {
  if (lock_) {
    *err = "state lock already held for " + dir_;
    return false;
  }
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) {
    *err = "cannot create state directory " + state_dir + ": " + ec.message();
    return false;
  }
  std::string dir = fs::canonical(state_dir, ec).string();
  if (ec) {
    *err = "state directory " + state_dir + ": " + ec.message();
    return false;
  }
  std::lock_guard<std::mutex> guard(g_mu);
  if (g_held.count(dir)) {
    *err = InUse(state_dir, "pid " + std::to_string(getpid()) + " (this process)");
    return false;
  }
  std::string lock_path = dir + "/lock";
  std::string pid_path = dir + "/lock.pid";
  // file_lock needs an existing file. This descriptor is closed before the
  // lock is taken: closing one afterwards would drop the lock.
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = "cannot create " + lock_path + ": " + std::strerror(errno);
    return false;
  }
  close(fd);
  auto lock = std::make_unique<boost::interprocess::file_lock>();
  bool acquired = false;
  try {
    boost::interprocess::file_lock fl(lock_path.c_str());
    acquired = fl.try_lock();
    if (acquired) lock->swap(fl);
  } catch (const boost::interprocess::interprocess_exception& e) {
    *err = "cannot lock " + lock_path + ": " + e.what();
    return false;
  }
  if (!acquired) {
    // The holder writes lock.pid just after locking; give it a moment.
    pid_t pid = 0;
    for (int i = 0; i < 10 && pid == 0; ++i) {
      pid = ReadPidFile(pid_path);
      if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid == 0) pid = HolderFromKernel(lock_path);
    *err = InUse(state_dir, pid > 0 ? "pid " + std::to_string(pid) : "(pid unknown)");
    return false;
  }
  SetCloexecOnLockFd(lock_path);
  std::string werr;
  if (!WriteFileAtomically(pid_path, std::to_string(getpid()) + "\n", &werr)) {
    *err = "cannot record the run's pid: " + werr;
    return false;  // `lock` is destroyed here, which releases it
  }
  lock_ = std::move(lock);
  dir_ = dir;
  owner_ = getpid();
  struct stat st;
  if (stat(lock_path.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  g_held.insert(dir);
  return true;
}

bool StateLock::Reassert(std::string* err) {
  if (!lock_) {
    *err = "state lock not held";
    return false;
  }
  struct stat st;
  if (stat((dir_ + "/lock").c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) return true;
  const std::string dir = dir_;
  Release();  // the lock on a file nobody can open any more protects nothing
  return TryAcquire(dir, err);
}

void StateLock::Release() {
  if (!lock_) return;
  // A forked child has a copy of this object but not the lock; it must not
  // delete the parent's pid file.
  if (getpid() == owner_) {
    unlink((dir_ + "/lock.pid").c_str());
    try {
      lock_->unlock();
    } catch (const boost::interprocess::interprocess_exception&) {
      // Closing the descriptor below releases it anyway.
    }
    std::lock_guard<std::mutex> guard(g_mu);
    g_held.erase(dir_);
  }
  lock_.reset();
  dir_.clear();
}

}  // namespace mutcell
