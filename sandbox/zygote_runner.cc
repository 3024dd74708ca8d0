#include "sandbox/zygote_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "sandbox/cell.h"
#include "sandbox/pid_namespace.h"
#include "sandbox/run_as.h"

namespace mutcell {

constexpr int kZygoteProtocol = 1;
// Exit statuses a zygote's child uses for its own failures (docs/zygote-protocol.md).
constexpr int kChildJoinFailed = 121;
constexpr int kChildSetupFailed = 122;
// 110 + N: the child's pytest ended with N (2..5) without running the tests.
constexpr int kChildPytestStatusBase = 110;

struct ZygoteRunner::Zygote {
  int generation = 0;
  pid_t pid = 0;
  int fd = -1;
  bool ready = false;
  bool retiring = false;   // a successor was started for it
  bool draining = false;   // shutdown sent: serves no new attempts
  bool dead = false;
  bool eof = false;        // its end of the socket is closed: stop polling it
  uint64_t ready_rss = 0, last_rss = 0, served = 0;
  uint64_t assigned = 0;   // run requests sent (served lags behind by the ones in flight)
  std::string buf;
  std::string ended;
  std::map<uint64_t, Cell*> inflight;          // token → cell, until "exited"
  std::map<uint64_t, uint64_t> rss_at_fork;    // token → zygote RSS when it forked
  std::unique_ptr<Cell> cell;                  // its own cgroup, when the runner has a backend
};

namespace {

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "ended";
}

bool SendAll(int fd, const std::string& data, std::string* err) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 5000) <= 0) {
        *err = "zygote does not read its socket";
        return false;
      }
      continue;
    }
    *err = std::string("send to zygote: ") + std::strerror(errno);
    return false;
  }
  return true;
}

std::string Frame(const nlohmann::json& msg) {
  std::string body = msg.dump();
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string out(4, '\0');
  out[0] = static_cast<char>((n >> 24) & 0xff);
  out[1] = static_cast<char>((n >> 16) & 0xff);
  out[2] = static_cast<char>((n >> 8) & 0xff);
  out[3] = static_cast<char>(n & 0xff);
  return out + body;
}

/// A non-negative integer field, or false.
bool UintField(const nlohmann::json& j, const char* key, uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return false;
  *out = it->get<uint64_t>();
  return true;
}

}  // namespace

ZygoteRunner::ZygoteRunner(ZygoteOptions opts) : opts_(std::move(opts)), next_generation_(opts_.first_generation) {}

ZygoteRunner::~ZygoteRunner() { Shutdown(); }

bool ZygoteRunner::Spawn(std::string* err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *err = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  const int generation = next_generation_++;
  std::unique_ptr<Cell> cell;
  if (opts_.backend) {
    cell = opts_.backend->CreateZygoteCell(generation, opts_.cell_limits, err);
    if (!cell) {
      close(sv[0]);
      close(sv[1]);
      return false;
    }
  }
  std::vector<std::string> args = opts_.command;
  args.push_back("--fd");
  args.push_back("3");
  args.push_back("--generation");
  args.push_back(std::to_string(generation));
  if (!opts_.log_path.empty()) {
    args.push_back("--log");
    args.push_back(opts_.log_path);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  // PID 1 of its own PID namespace where the kernel allows one: the
  // zygote's children (the mutants) then cannot address mutcell, and cannot
  // SIGKILL/SIGSTOP the zygote (their init), which also reaps their orphans.
  ChildNamespace ns = ChildNamespace::kNone;
  pid_t pid = ForkIsolated(&ns);
  if (pid < 0) {
    *err = std::string("fork: ") + std::strerror(errno);
    close(sv[0]);
    close(sv[1]);
    return false;
  }
  if (pid == 0) {
    // A raw clone when in a namespace: async-signal-safe calls only until exec.
    if (!EnterNamespaceInChild(ns)) _exit(kChildSetupFailed);
    // The zygote must not outlive mutcell, and gets signals back to default
    // (mutcell blocks its own while it waits). In a namespace getppid() is 0:
    // a mutcell that died before the prctl leaves a zygote that the next
    // run's clean-up of dead runs' cgroups kills.
    const bool in_namespace = ns != ChildNamespace::kNone;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!in_namespace && getppid() != parent) _exit(127);
    setpgid(0, 0);
    if (cell && !cell->JoinFromChild()) _exit(kChildJoinFailed);  // before it allocates anything
    if (CurrentRunAs().active) {  // sudo mode: the fork server is the user's
      if (!DropToRunAsInChild()) _exit(127);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // the uid change cleared it
      if (!in_namespace && getppid() != parent) _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) signal(s, SIG_DFL);
    if (dup2(sv[1], 3) < 0) _exit(127);  // dup2 clears close-on-exec on fd 3
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(sv[1]);
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  if (cell) cell->Adopt(pid);
  auto z = std::make_unique<Zygote>();
  z->generation = generation;
  z->pid = pid;
  z->fd = sv[0];
  z->cell = std::move(cell);
  spdlog::debug("zygote generation {} started (pid {}{})", generation, pid,
                ns == ChildNamespace::kNone ? "" : ", PID 1 of its own PID namespace");
  zygotes_.push_back(std::move(z));
  return true;
}

bool ZygoteRunner::StartAndWaitReady(double timeout_s, std::string* err) {
  return StartWarmUp(err) && FinishWarmUp(timeout_s, err);
}

bool ZygoteRunner::StartWarmUp(std::string* err) {
  if (!Spawn(err)) return false;
  begun_ = true;
  return true;
}

bool ZygoteRunner::FinishWarmUp(double timeout_s, std::string* err) {
  for (int attempt = 1;; ++attempt) {
    bool killed = false;
    // The first zygote was spawned by StartWarmUp; each retry spawns anew.
    if (!begun_ && !Spawn(err)) return false;
    begun_ = false;
    if (WaitReady(timeout_s, &killed, err)) return true;
    // A warm-up killed by a signal from outside (an OOM killer above our
    // cgroups, a CI agent, an operator) is the environment's doing, not the
    // project's: tried again with back-off, as later generations are. An exit
    // (an import error), a timeout or an interrupt is reported at once.
    if (!killed || attempt >= opts_.max_failed_warmups) return false;
    const double wait = opts_.warmup_backoff_s * static_cast<double>(uint64_t{1} << (attempt - 1));
    spdlog::warn("{}; starting a new zygote in {:.1f} s (attempt {} of {})", *err, wait, attempt + 1,
                 opts_.max_failed_warmups);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (std::chrono::steady_clock::now() < until) {
      if (opts_.should_stop && opts_.should_stop()) {
        *err = "the zygote did not start: interrupted during warm-up";
        return false;
      }
      struct timespec ts = {0, 50 * 1000 * 1000};
      ppoll(nullptr, 0, &ts, opts_.wait_mask);  // the interrupts get through here
    }
  }
}

bool ZygoteRunner::WaitReady(double timeout_s, bool* killed, std::string* err) {
  Zygote& z = *zygotes_.back();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!z.ready && !z.dead) {
    if (std::chrono::steady_clock::now() > deadline) {
      Fail(z, "not ready within " + std::to_string(static_cast<int>(timeout_s)) + " s");
      break;
    }
    if (opts_.should_stop && opts_.should_stop()) {
      Fail(z, "interrupted during warm-up");
      break;
    }
    pollfd p{z.fd, POLLIN, 0};
    struct timespec ts = {0, 50 * 1000 * 1000};
    ppoll(&p, 1, &ts, opts_.wait_mask);  // the interrupts get through here
    ReadFrom(z);
    int status;
    if (!z.dead && waitpid(z.pid, &status, WNOHANG) == z.pid) {
      ReadFrom(z);
      z.pid = 0;
      *killed = WIFSIGNALED(status);
      Fail(z, DescribeStatus(status) + " during warm-up");
      Reaped(z);
    }
    CheckMemory(z);
    CheckStopped(z);
  }
  if (!z.ready) {
    *err = "the zygote did not start: " + z.ended +
           (opts_.log_path.empty() ? "" : " (its output: " + opts_.log_path + ")");
    return false;
  }
  return true;
}

ZygoteRunner::Zygote* ZygoteRunner::Active() {
  for (auto it = zygotes_.rbegin(); it != zygotes_.rend(); ++it) {
    Zygote& z = **it;
    if (z.ready && !z.dead && !z.draining) return &z;
  }
  return nullptr;
}

bool ZygoteRunner::CanStart() {
  if (Active()) return true;
  // Warm-ups that keep failing must not burn every mutant's attempts in
  // milliseconds: wait longer after each failure, then give up (Failed).
  if (failed_warmups_ >= opts_.max_failed_warmups) return false;
  bool warming = false;
  for (auto& z : zygotes_) warming = warming || (!z->dead && !z->ready);
  if (!warming && std::chrono::steady_clock::now() >= next_warmup_) {
    std::string err;
    if (!Spawn(&err)) {
      spdlog::error("cannot start a zygote: {}", err);
      last_warmup_failure_ = err;
      WarmupFailed();
    }
  }
  return false;
}

void ZygoteRunner::WarmupFailed() {
  failed_warmups_++;
  for (auto it = zygotes_.rbegin(); it != zygotes_.rend(); ++it) {
    if ((*it)->dead && !(*it)->ready && !(*it)->ended.empty()) {
      last_warmup_failure_ = (*it)->ended;
      break;
    }
  }
  const double wait = opts_.warmup_backoff_s * static_cast<double>(uint64_t{1} << std::min(failed_warmups_ - 1, 20));
  next_warmup_ = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(wait));
  if (failed_warmups_ < opts_.max_failed_warmups)
    spdlog::warn("zygote warm-up failed ({} in a row): next try in {:.1f} s", failed_warmups_, wait);
}

bool ZygoteRunner::Failed(std::string* why) {
  if (failed_warmups_ < opts_.max_failed_warmups || Active()) return false;
  *why = "zygote: " + std::to_string(failed_warmups_) + " warm-ups in a row failed (last: " + last_warmup_failure_ +
         ")" + (opts_.log_path.empty() ? "" : "; its output: " + opts_.log_path);
  return true;
}

bool ZygoteRunner::Start(uint64_t token, const RunRequest& req, Cell* cell, std::string* err) {
  Zygote* z = Active();
  if (!z) {
    *err = "zygote: none is available (" + std::to_string(failed_warmups_) + " failed to warm up)";
    return false;
  }
  nlohmann::json msg = {{"type", "run"},   {"id", token},     {"mutant", req.name},
                        {"tests", req.tests}, {"env", req.env}, {"cgroup_procs", cell->ProcsFiles()}};
  if (!req.log_path.empty()) msg["output"] = req.log_path;
  if (!req.failure_report.empty()) msg["failure_report"] = req.failure_report;
  if (req.timeout_s > 0) msg["timeout_s"] = req.timeout_s;
  std::string frame = Frame(msg);
  if (frame.size() - 4 > opts_.max_message_bytes) {
    *err = "zygote: run request of " + std::to_string(frame.size()) + " bytes exceeds the protocol's limit";
    return false;
  }
  if (!SendAll(z->fd, frame, err)) {
    // A zygote that broke the protocol and exited makes the send fail with
    // EPIPE; what it sent before says why, so read that first.
    ReadFrom(*z);
    Fail(*z, *err);
    if (z->ended != *err) *err += " (" + z->ended + ")";
    *err = "zygote: " + *err;
    return false;
  }
  z->inflight[token] = cell;
  z->assigned++;
  MaybeRecycle(*z);
  return true;
}

void ZygoteRunner::PollFds(std::vector<int>* fds) {
  for (auto& z : zygotes_) {
    if (!z->dead && !z->eof && z->fd >= 0) fds->push_back(z->fd);
    if (!z->dead && z->cell && z->cell->NotifyFd() >= 0) fds->push_back(z->cell->NotifyFd());
  }
}

bool ZygoteRunner::OnChildExit(pid_t pid, int status) {
  for (auto& z : zygotes_) {
    if (z->pid != pid || pid == 0) continue;
    ReadFrom(*z);  // what it said before it died still counts
    CheckMemory(*z);
    z->pid = 0;
    if (!z->dead) {
      if (z->draining && z->inflight.empty()) {
        z->dead = true;
        z->ended = "drained";
        if (z->fd >= 0) close(z->fd);
        z->fd = -1;
      } else {
        Fail(*z, DescribeStatus(status));
        if (!z->ready) WarmupFailed();
      }
    }
    Reaped(*z);
    return true;
  }
  return false;
}

void ZygoteRunner::Collect(std::vector<std::pair<uint64_t, RunExit>>* done) {
  const auto now = std::chrono::steady_clock::now();
  const bool check_state = now >= next_state_check_;
  if (check_state) next_state_check_ = now + std::chrono::milliseconds(100);
  for (auto& z : zygotes_) {
    if (!z->dead) ReadFrom(*z);
    CheckMemory(*z);
    if (check_state) CheckStopped(*z);
  }
  for (auto& f : finished_) done->push_back(std::move(f));
  finished_.clear();
}

void ZygoteRunner::Forget(uint64_t token) {
  for (auto& z : zygotes_) {
    z->inflight.erase(token);
    z->rss_at_fork.erase(token);
  }
}

void ZygoteRunner::Overdue(uint64_t token) {
  for (auto& z : zygotes_) {
    if (z->dead || !z->inflight.count(token)) continue;
    Fail(*z, "zygote: did not report the end of an attempt by its deadline (stopped or hung)");
  }
  Forget(token);
}

void ZygoteRunner::CheckStopped(Zygote& z) {
  if (z.dead || z.pid <= 0) return;
  // A child can SIGSTOP its parent, the zygote: it would then never fork nor
  // report again. Seen in /proc/<pid>/stat's state (after the parenthesised
  // command, which may itself contain spaces and parentheses).
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(z.pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  const char* close_paren = std::strrchr(buf, ')');
  if (close_paren == nullptr || close_paren[1] != ' ') return;
  const char state = close_paren[2];
  if (state == 'T' || state == 't')
    Fail(z, "zygote: stopped (process state " + std::string(1, state) + "; a child may have sent it SIGSTOP)");
}

void ZygoteRunner::ReadFrom(Zygote& z) {
  if (z.fd < 0 || z.dead) return;
  char chunk[65536];
  while (true) {
    ssize_t n = recv(z.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      z.buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EOF or error: the zygote is gone (or going); frames already read still
    // count, and its exit status (OnChildExit) says why.
    z.eof = true;
    break;
  }
  while (!z.dead && z.buf.size() >= 4) {
    const auto* b = reinterpret_cast<const unsigned char*>(z.buf.data());
    uint32_t len = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    if (len > opts_.max_message_bytes) {
      Fail(z, "protocol error: message of " + std::to_string(len) + " bytes exceeds the limit");
      return;
    }
    if (z.buf.size() < 4 + static_cast<size_t>(len)) break;
    std::string body = z.buf.substr(4, len);
    z.buf.erase(0, 4 + static_cast<size_t>(len));
    std::string why;
    if (!HandleMessage(z, body, &why)) {
      Fail(z, "protocol error: " + why);
      return;
    }
  }
  if (z.eof && !z.dead && !z.buf.empty()) Fail(z, "protocol error: the socket closed inside a message");
}

bool ZygoteRunner::HandleMessage(Zygote& z, const std::string& body, std::string* why) {
  nlohmann::json msg = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
    *why = "not a JSON object with a string \"type\"";
    return false;
  }
  const std::string type = msg["type"];
  uint64_t rss = 0;
  if (type == "ready") {
    uint64_t protocol = 0;
    if (z.ready || !UintField(msg, "protocol", &protocol) || !UintField(msg, "rss_bytes", &rss)) {
      *why = "unexpected or malformed ready";
      return false;
    }
    if (protocol != kZygoteProtocol) {
      *why = "protocol version " + std::to_string(protocol) + ", mutcell speaks " + std::to_string(kZygoteProtocol);
      return false;
    }
    z.ready = true;
    z.ready_rss = z.last_rss = rss;
    failed_warmups_ = 0;
    spdlog::info("zygote generation {} ready (pid {}, {} MiB)", z.generation, z.pid, rss >> 20);
    // What the zygote says about its strategy (e.g. mutants it runs the pytest-main way), once.
    if (z.generation == opts_.first_generation && msg.contains("note") && msg["note"].is_string())
      spdlog::info("zygote: {}", msg["note"].get<std::string>().substr(0, 2000));
    // A successor is ready: the generations it replaces stop taking mutants.
    for (auto& older : zygotes_) {
      if (older.get() == &z || older->dead || older->draining || !older->retiring) continue;
      older->draining = true;
      std::string err;
      if (!SendAll(older->fd, Frame({{"type", "shutdown"}}), &err)) {
        ReadFrom(*older);  // the true cause, when it already broke the protocol
        Fail(*older, err);
      }
    }
    return true;
  }
  uint64_t id = 0;
  if (!UintField(msg, "id", &id) || !z.inflight.count(id)) {
    if (type == "stats" && UintField(msg, "rss_bytes", &rss)) {
      z.last_rss = rss;
      return true;
    }
    *why = "\"" + type + "\" for an unknown request";
    return false;
  }
  if (type == "started") {
    uint64_t pid = 0, served = 0;
    if (!UintField(msg, "pid", &pid) || pid == 0 || !UintField(msg, "rss_bytes", &rss)) {
      *why = "malformed started";
      return false;
    }
    UintField(msg, "served", &served);
    z.inflight[id]->Adopt(static_cast<pid_t>(pid));
    z.rss_at_fork[id] = rss;
    z.last_rss = rss;
    z.served = std::max(z.served + 1, served);
    MaybeRecycle(z);
    return true;
  }
  if (type == "exited") {
    RunExit exit;
    auto code = msg.find("exit_code");
    auto sig = msg.find("signal");
    if (code != msg.end() && code->is_number_integer()) exit.exit_code = code->get<int>();
    if (sig != msg.end() && sig->is_number_integer()) exit.signal = sig->get<int>();
    if (exit.exit_code.has_value() == exit.signal.has_value()) {
      *why = "exited needs exactly one of exit_code and signal";
      return false;
    }
    // The zygote's own set-up failures in the child are mutcell's, not the mutant's.
    if (exit.exit_code == kChildJoinFailed) exit.error = "spawn: the zygote's child could not join its cell";
    if (exit.exit_code == kChildSetupFailed) exit.error = "spawn: the zygote's child failed to set up";
    if (exit.exit_code && *exit.exit_code >= kChildPytestStatusBase + 2 &&
        *exit.exit_code <= kChildPytestStatusBase + 5) {
      exit.exit_code = *exit.exit_code - kChildPytestStatusBase;
      exit.pytest_status = true;
    }
    exit.zygote_generation = z.generation;
    if (z.rss_at_fork.count(id)) exit.zygote_memory_bytes = z.rss_at_fork[id];
    finished_.emplace_back(id, exit);
    z.inflight.erase(id);
    z.rss_at_fork.erase(id);
    return true;
  }
  *why = "unexpected message type \"" + type + "\"";
  return false;
}

void ZygoteRunner::MaybeRecycle(Zygote& z) {
  // Counted by requests sent, not `started` replies: with several jobs, more
  // requests can be on their way than the zygote has answered.
  const bool count_hit = opts_.recycle_after > 0 && z.assigned >= opts_.recycle_after;
  const bool count_near = opts_.recycle_after > 0 && z.assigned * 4 >= opts_.recycle_after * 3;
  const bool memory_hit = (opts_.recycle_memory > 0 && z.last_rss > opts_.recycle_memory) ||
                          (opts_.recycle_growth > 0 && z.last_rss > z.ready_rss + opts_.recycle_growth);
  if ((count_near || memory_hit) && !z.retiring) {
    z.retiring = true;
    // Say which threshold fired: a recycle long before recycle_after is
    // otherwise a mystery.
    std::string why;
    if (opts_.recycle_memory > 0 && z.last_rss > opts_.recycle_memory)
      why = "memory above recycle_memory " + std::to_string(opts_.recycle_memory >> 20) + " MiB";
    else if (memory_hit)
      why = "grew " + std::to_string((z.last_rss - z.ready_rss) >> 20) + " MiB since warm-up, above recycle_growth " +
            std::to_string(opts_.recycle_growth >> 20) + " MiB";
    else
      why = std::to_string(z.assigned) + " of recycle_after " + std::to_string(opts_.recycle_after) +
            " children assigned";
    spdlog::info("zygote generation {}: {} served, {} MiB (ready at {} MiB): recycled because {}; warming its successor",
                 z.generation, z.served, z.last_rss >> 20, z.ready_rss >> 20, why);
    std::string err;
    if (!Spawn(&err)) spdlog::error("cannot start a zygote: {}", err);
  }
  if (count_hit && !z.draining) {
    // Exactly recycle_after children: no more, even if the successor is still warming.
    z.draining = true;
    std::string err;
    if (!SendAll(z.fd, Frame({{"type", "shutdown"}}), &err)) {
      ReadFrom(z);  // the true cause, when the zygote already broke the protocol
      Fail(z, err);
    }
  }
}

void ZygoteRunner::CheckMemory(Zygote& z) {
  if (z.dead || !z.cell || !z.cell->MemoryLimitReached()) return;
  // Caught by mutcell, like a mutant's cell: the kernel's OOM killer (which
  // an OOMPolicy=stop unit would answer by stopping the whole run) stays out.
  Fail(z,
       "the zygote reached its cell's memory limit of " + std::to_string(opts_.cell_limits.memory_bytes >> 20) +
           " MiB (" + z.cell->Describe() + ")",
       /*blame_unknown=*/false);
  if (!z.ready) WarmupFailed();
}

void ZygoteRunner::Reaped(Zygote& z) {
  if (!z.cell) return;
  std::string err;
  if (!z.cell->Destroy(&err)) spdlog::error("zygote generation {}: {}", z.generation, err);
  z.cell.reset();
}

void ZygoteRunner::Fail(Zygote& z, const std::string& why, bool blame_unknown) {
  if (z.dead) return;
  z.dead = true;
  z.ended = why;
  spdlog::warn("zygote generation {} ({}): {}; {} running mutants will be retried", z.generation,
               z.pid ? "pid " + std::to_string(z.pid) : "gone", why, z.inflight.size());
  if (z.pid > 0) kill(z.pid, SIGKILL);
  if (z.cell) z.cell->SignalAll(SIGKILL);  // children still inside it, before they joined their cells
  if (z.fd >= 0) close(z.fd);
  z.fd = -1;
  for (auto& [token, cell] : z.inflight) {
    RunExit exit;
    exit.error = "zygote: generation " + std::to_string(z.generation) + " failed: " + why;
    exit.zygote_generation = z.generation;
    exit.zygote_died = blame_unknown;
    finished_.emplace_back(token, exit);
  }
  z.inflight.clear();
  z.rss_at_fork.clear();
}

void ZygoteRunner::Shutdown() {
  for (auto& z : zygotes_) {
    if (!z->dead && z->fd >= 0) {
      std::string err;
      if (!z->draining) SendAll(z->fd, Frame({{"type", "shutdown"}}), &err);
      close(z->fd);  // EOF tells it we are gone
      z->fd = -1;
    }
    z->dead = true;
    if (z->ended.empty()) z->ended = "shut down";
  }
  for (auto& z : zygotes_) {
    if (z->pid <= 0) continue;
    int status;
    if (!z->ready) {
      // Still warming up: it reads no shutdown request before it is ready,
      // and it holds no mutant, so it goes at once (an interrupt, or a clean
      // run that failed while it warmed).
      kill(z->pid, SIGKILL);
      if (z->cell) z->cell->SignalAll(SIGKILL);
    }
    for (int i = 0; i < 200 && waitpid(z->pid, &status, WNOHANG) == 0; ++i) usleep(10000);
    if (waitpid(z->pid, &status, WNOHANG) == 0) {
      kill(z->pid, SIGKILL);
      waitpid(z->pid, &status, 0);
    }
    z->pid = 0;
  }
  for (auto& z : zygotes_) Reaped(*z);
}

std::vector<ZygoteGenerationInfo> ZygoteRunner::Generations() const {
  std::vector<ZygoteGenerationInfo> out;
  for (const auto& z : zygotes_) out.push_back({z->generation, z->pid, z->ready_rss, z->served, z->ended});
  return out;
}

pid_t ZygoteRunner::ActivePid() const {
  for (auto it = zygotes_.rbegin(); it != zygotes_.rend(); ++it)
    if ((*it)->ready && !(*it)->dead && !(*it)->draining) return (*it)->pid;
  return 0;
}

}  // namespace mutcell
