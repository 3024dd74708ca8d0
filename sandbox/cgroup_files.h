#pragma once
// Small readers and parsers for cgroup and /proc files, shared by the cgroup
// backends. Parsers take text so tests can feed them fake content; the file
// helpers name the file and errno in every message.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mutcell {

/// The value "max" (v2) reads as this; v1's "unlimited" is a plain large number.
constexpr uint64_t kCgroupUnlimited = UINT64_MAX;

/// Parses `s`, decimal digits only (no sign, no spaces), into *out. False,
/// *out untouched, for anything else, "" or a value above UINT64_MAX.
bool ParseDecimal(std::string_view s, uint64_t* out);

/// Reads a whole (small) file. False with "<path>: <strerror>" in *err and
/// errno left as the failing call set it (callers tell ENOENT apart).
bool ReadFileToString(const std::string& path, std::string* out, std::string* err);

/// Reads a cgroup or /proc file through an open descriptor, from offset 0
/// (pread(2)), so a descriptor kept open can be read again and again: the
/// kernel generates the text afresh on every read from offset 0. A read of
/// such a file (seq_file) stops early only when its next line would not fit
/// the kernel's page buffer, so a read that leaves more room than any line
/// needs (512 bytes; true of cgroup files, not of mountinfo) ends the text:
/// a small file costs one read instead of reading on until EOF. False with
/// errno set when a read fails.
bool PreadKernelFile(int fd, std::string* out);

/// ReadFileToString for cgroup and /proc files: one open, one read (see
/// PreadKernelFile), one close, instead of reading on until EOF. Same errors.
bool ReadKernelFile(const std::string& path, std::string* out, std::string* err);

/// Writes `value` to `path` in one write(2), as cgroup files expect. False
/// with "write '<value>' to <path>: <strerror>" in *err.
bool WriteStringToFile(const std::string& path, std::string_view value, std::string* err);

/// True when `path` exists (any type).
bool PathExists(const std::string& path);

/// Parses a cgroup value: a decimal number or "max" (kCgroupUnlimited), with
/// surrounding whitespace allowed. False with the bad text in *err.
bool ParseCgroupValue(std::string_view text, uint64_t* out, std::string* err);

/// Reads a file holding one cgroup value (a number or "max"). False with *err.
bool ReadCgroupValue(const std::string& path, uint64_t* out, std::string* err);

/// Parses a flat keyed file ("key value" per line: memory.events,
/// memory.oom_control, memory.stat, pids.events). Empty lines are skipped; a
/// line without a numeric value is an error naming its line number.
bool ParseFlatKeyed(std::string_view text, std::map<std::string, uint64_t>* out,
                    std::string* err);

/// Reads a flat keyed file and returns `key`'s value, 0 when the file lacks the
/// key. False with *err when the file cannot be read or parsed.
bool ReadFlatKey(const std::string& path, const std::string& key, uint64_t* out,
                 std::string* err);

/// One line of /proc/<pid>/cgroup.
struct ProcCgroupLine {
  int hierarchy_id = 0;                  ///< 0 for the unified (v2) hierarchy
  std::vector<std::string> controllers;  ///< v1: "memory", "name=systemd"; v2: empty
  std::string path;                      ///< the cgroup's path inside its hierarchy ("/a/b")
};

/// Parses /proc/<pid>/cgroup ("N:controllers:/path", v2 "0::/path").
bool ParseProcCgroup(std::string_view text, std::vector<ProcCgroupLine>* out, std::string* err);

/// One cgroup or cgroup2 mount from /proc/<pid>/mountinfo.
struct CgroupMount {
  std::string root;         ///< the mount's root inside its hierarchy (field 4), unescaped
  std::string mount_point;  ///< where it is mounted (field 5), unescaped
  std::string fs_type;      ///< "cgroup" or "cgroup2"
  std::vector<std::string> super_options;  ///< v1: includes the controllers ("rw", "memory")
};

/// Parses /proc/<pid>/mountinfo, keeping only cgroup and cgroup2 mounts.
bool ParseCgroupMounts(std::string_view text, std::vector<CgroupMount>* out, std::string* err);

/// Finds the directory of our own cgroup in the v1 hierarchy that carries
/// `controller` ("memory", "pids"), from the texts of /proc/self/mountinfo and
/// /proc/self/cgroup. False with the reason in *err (not mounted, not in the
/// mount's view).
bool FindV1CgroupDir(std::string_view mountinfo, std::string_view proc_cgroup,
                     const std::string& controller, std::string* dir, std::string* err);

/// Same for the unified (cgroup2) hierarchy: our "0::/path" under a cgroup2 mount.
bool FindV2CgroupDir(std::string_view mountinfo, std::string_view proc_cgroup, std::string* dir,
                     std::string* err);

/// Parses a cgroup.procs / tasks file: one pid per line.
bool ParsePidList(std::string_view text, std::vector<pid_t>* out, std::string* err);

/// Reads the pids of a cgroup.procs file. A missing file (cgroup already
/// removed) yields an empty list and true.
bool ReadPidList(const std::string& path, std::vector<pid_t>* out, std::string* err);

/// The directory name of a run cgroup: "mutcell-<owner pid>-<run_id>". The
/// owner pid in the name is how a later start tells a dead run's leftovers from
/// a live run (cgroupfs holds no ordinary files to put a pid file in).
/// `run_id` must be non-empty and consist of [A-Za-z0-9._-]; false otherwise.
bool RunCgroupName(pid_t owner, const std::string& run_id, std::string* name, std::string* err);

/// Parses a name made by RunCgroupName; false for anything else.
bool ParseRunCgroupName(std::string_view name, pid_t* owner);

/// True when a process `pid` exists (kill(pid, 0) succeeds or fails with EPERM).
bool ProcessAlive(pid_t pid);

/// Names of the subdirectories of `dir` starting with `prefix`, sorted.
std::vector<std::string> ListSubdirs(const std::string& dir, std::string_view prefix);

/// `counter` (a memory usage file) of cgroup `dir` less the same counter of
/// each of its live child cgroups: what `dir` holds for removed children
/// (their charges stay with the parent) or itself. 0 when unreadable.
uint64_t LeftBehind(const std::string& dir, const std::string& counter);

/// The fields of /proc/<pid>/stat the none backend needs.
struct ProcStat {
  pid_t pid = 0;
  char state = '?';          ///< 'R', 'S', 'Z' (zombie), 'X' (dead), ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  uint64_t num_threads = 0;
  uint64_t start_time = 0;   ///< clock ticks after boot: with pid, identifies a process
  uint64_t rss_pages = 0;
};

/// Parses one /proc/<pid>/stat line. The command name may contain spaces and
/// parentheses, so fields are counted after its last ')'.
bool ParseProcStat(std::string_view text, ProcStat* out, std::string* err);

/// SIGKILLs every process listed in any of `procs_files` (cgroup.procs of the
/// same cell in several hierarchies) and rereads them until all are empty,
/// for at most `timeout_ms`. A fork bomb converges because pids.max caps it.
/// False with *err naming the file and how many processes were left.
bool KillAllListed(const std::vector<std::string>& procs_files, int timeout_ms, std::string* err);

/// rmdir(2) of one cgroup directory, retried for up to `timeout_ms` while the
/// kernel still reports EBUSY (exiting tasks). A missing directory is success.
bool RemoveCgroupDir(const std::string& dir, int timeout_ms, std::string* err);

/// Kills the processes of `dir` and of every cgroup below it, then removes
/// them deepest first. A missing directory is success. For leftovers and Stop().
bool RemoveCgroupTree(const std::string& dir, std::string* err);

}  // namespace mutcell
