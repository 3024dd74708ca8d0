#pragma once
// One run per state directory: an advisory lock on <state_dir>/lock, held for
// the whole run, with the holder's pid in <state_dir>/lock.pid for messages.

#include <sys/types.h>

#include <memory>
#include <string>

namespace boost::interprocess {
class file_lock;
}

namespace mutcell {

/// The run lock of a state directory. The lock is a POSIX record lock
/// (Boost.Interprocess file_lock): the kernel drops it when the holder dies,
/// so a crashed run never blocks the next one. Such locks belong to the
/// process and vanish when *any* descriptor of the file is closed, so nothing
/// else in mutcell may open <state_dir>/lock.
class StateLock {
 public:
  StateLock();
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  /// Creates `state_dir` (and parents) if needed and takes its lock without
  /// waiting. False with *err "state directory DIR is in use by mutcell pid
  /// N" when another process (or another StateLock of this process) holds
  /// it, or with the failing call and path on other errors.
  bool TryAcquire(const std::string& state_dir, std::string* err);

  /// Removes lock.pid and releases the lock. Idempotent; also done by the
  /// destructor.
  void Release();

  /// Takes the lock again when <state_dir>/lock is not the file locked any
  /// more (the state directory was deleted or the file replaced under the
  /// run, which would let a second run in). True when the lock is held on
  /// the file at that path now.
  bool Reassert(std::string* err);

  /// True between a successful TryAcquire and Release.
  bool held() const { return lock_ != nullptr; }

 private:
  std::unique_ptr<boost::interprocess::file_lock> lock_;
  std::string dir_;  ///< canonical path of the locked directory
  pid_t owner_ = 0;  ///< the process that took the lock
  dev_t dev_ = 0;    ///< the locked file's identity, for Reassert
  ino_t ino_ = 0;
};

}  // namespace mutcell
