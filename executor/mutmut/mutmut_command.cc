#include "executor/mutmut/mutmut_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"
#include "executor/common/exit_codes.h"
#include "executor/common/fingerprint.h"
#include "executor/common/install_paths.h"
#include "executor/common/interrupt.h"
#include "executor/mutmut/mutmut_adopt.h"
#include "executor/mutmut/mutmut_files.h"
#include "executor/plan/plan.h"
#include "executor/common/printable.h"
#include "executor/run/session.h"
#include "executor/shard/shard.h"
#include "executor/state/state_dir.h"
#include "executor/state/state_lock.h"
#include "executor/mutmut/strategy_check.h"
#include "executor/run/test_order.h"
#include "limits/size.h"
#include "sandbox/cell.h"
#include "sandbox/delegation.h"
#include "sandbox/run_as.h"
#include "sandbox/zygote_runner.h"

namespace mutcell {
namespace fs = std::filesystem;

std::string ZygoteScriptDir() {
  std::string path, err;
  if (FindScript("mutcell_zygote.py", &path, &err)) return fs::path(path).parent_path().string();
  const std::vector<std::string> dirs = ScriptDirCandidates(RunningBinary());
  return dirs.empty() ? std::string() : dirs.front();
}

namespace {

/// Waits for child `pid` (the leader of its own group) while watching for
/// SIGINT/SIGTERM/SIGHUP: on one, its group gets SIGTERM, then SIGKILL a
/// second later, and the result is false with InterruptCount() > 0.
bool WaitInterruptibly(pid_t pid, int* status) {
  for (;;) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) return true;
    if (w < 0 && errno != EINTR) return false;
    if (InterruptCount() > 0) break;
    struct timespec ts = {0, 50 * 1000 * 1000};
    ppoll(nullptr, 0, &ts, InterruptWaitMask());  // SIGCHLD or an interrupt wakes it
  }
  kill(-pid, SIGTERM);
  for (int i = 0; i < 20 && waitpid(pid, status, WNOHANG) == 0; ++i) usleep(50 * 1000);
  kill(-pid, SIGKILL);  // also whatever it started in its group
  while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
  return false;
}

/// How mutmut's preparation ended (`status` from waitpid): kExitOk with its
/// summary read from `summary_path`, else the run's exit code and *err.
int PreparationEnd(const Config& cfg, int status, const std::string& summary_path, nlohmann::json* summary,
                   std::string* err) {
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == 127) {
      *err = "cannot run " + cfg.python + " (set `python` in [tool.mutcell] or --python)";
      return kExitBadInput;
    }
    *err = "mutmut's preparation failed (exit " + std::to_string(code) + "); see its output above";
    return code == 2 ? kExitBadInput : kExitInternal;
  }
  std::string text;
  if (!ReadWholeFile(summary_path, &text, err)) return kExitInternal;
  *summary = nlohmann::json::parse(text, nullptr, false);
  return kExitOk;
}

/// Waits for the preparation `pid` to end (interruptibly) and judges it.
int WaitForPreparation(const Config& cfg, pid_t pid, const std::string& summary_path, nlohmann::json* summary,
                       std::string* err) {
  int status = 0;
  if (!WaitInterruptibly(pid, &status)) {
    if (InterruptCount() > 0) {
      spdlog::warn("received {} during mutmut's preparation: stopped it; run the same command again to resume",
                   strsignal(LastInterruptSignal()));
      *err = "interrupted during mutmut's preparation";
      return ExitForSignal(LastInterruptSignal());
    }
    *err = std::string("cannot wait for mutmut's preparation: ") + std::strerror(errno);
    return kExitInternal;
  }
  return PreparationEnd(cfg, status, summary_path, summary, err);
}

/// mutmut's preparation going on after its stats stage (the clean run and
/// the forced-fail test, while the fork server warms up): killed with its
/// whole group unless Finish()ed first, so no path leaves it running.
class PreparationTail {
 public:
  PreparationTail() = default;
  PreparationTail(const PreparationTail&) = delete;
  PreparationTail& operator=(const PreparationTail&) = delete;
  ~PreparationTail() { Abandon(); }

  void Start(const Config* cfg, pid_t pid, const std::string& summary_path) {
    cfg_ = cfg;
    pid_ = pid;
    summary_path_ = summary_path;
  }
  bool Running() const { return pid_ > 0; }
  /// Waits for its end: kExitOk with the final summary, else the run's exit
  /// code (128+signal when interrupted) and *err.
  int Finish(nlohmann::json* summary, std::string* err) {
    const pid_t pid = pid_;
    pid_ = 0;  // reaped, or killed with its group, by the wait
    return WaitForPreparation(*cfg_, pid, summary_path_, summary, err);
  }
  void Abandon() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);  // its group: the clean run and whatever its tests started
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
  }

 private:
  const Config* cfg_ = nullptr;
  pid_t pid_ = 0;
  std::string summary_path_;
};

/// The first non-space line of `fd` (the preparation's stage line), reading
/// until a newline or EOF; false on EOF before a whole line, or interrupt.
bool ReadStageLine(int fd, pid_t pid, std::string* line) {
  std::string buf;
  for (;;) {
    if (InterruptCount() > 0) return false;
    pollfd p{fd, POLLIN, 0};
    struct timespec ts = {0, 50 * 1000 * 1000};
    ppoll(&p, 1, &ts, InterruptWaitMask());
    if (p.revents == 0) {
      int status;
      // Gone without a line (its write end closed with it too, but a
      // grandchild of its tests could hold a copy): judged by its status.
      if (waitpid(pid, &status, WNOHANG | WNOWAIT) == pid) return false;
      continue;
    }
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    if (size_t nl = buf.find('\n'); nl != std::string::npos) {
      *line = buf.substr(0, nl);
      return true;
    }
    if (buf.size() > (1u << 20)) return false;
  }
}

/// Runs mutmut's preparation in this directory; its output goes to ours.
/// Turns address-space randomization off for the programs this process
/// starts from now on (personality ADDR_NO_RANDOMIZE, kept across exec;
/// unprivileged, but a seccomp filter such as Docker's default refuses it).
bool SameAddressLayoutForChildren(std::string* err) {
  const int current = personality(0xffffffff);
  if (current == -1 || personality(static_cast<unsigned long>(current) | ADDR_NO_RANDOMIZE) == -1) {
    *err = std::string("cannot turn off address-space randomization for mutmut's preparation and the fork "
                       "servers (personality: ") + std::strerror(errno) + ")";
    return false;
  }
  return true;
}

/// When the preparation says its stats stage is done (mutants/ and mutmut's
/// stats final: what a fork server needs) and the clean run and forced-fail
/// test are still to come, it returns kExitOk at once with the stage's
/// summary and the rest running in *tail; otherwise after its end.
int Prepare(const Config& cfg, const MutmutArgs& args, const std::string& script, int jobs,
            const std::string& summary_path, const std::string& tail_log, nlohmann::json* summary,
            PreparationTail* tail) {
  std::string err;
  int stage[2] = {-1, -1};
  if (pipe2(stage, O_CLOEXEC) != 0) {
    spdlog::error("cannot run mutmut's preparation: pipe: {}", std::strerror(errno));
    return kExitInternal;
  }
  std::vector<std::string> argv = {cfg.python, script, "--out", summary_path,
                                   "--max-children", std::to_string(jobs), "--stage-fd", std::to_string(stage[1]),
                                   "--tail-log", tail_log};
  for (const std::string& n : args.names) argv.push_back(n);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Its own group, so an interrupt reaches all of it through mutcell, and
    // it dies with mutcell instead of writing mutants/ on after a kill.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // sudo mode: mutmut writes mutants/ and its caches as the invoking user.
    if (!DropToRunAsInChild()) {
      std::fprintf(stderr, "mutcell: cannot switch to the invoking user: %s\n", std::strerror(errno));
      _exit(127);
    }
    // The uid change cleared the parent-death signal.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    fcntl(stage[1], F_SETFD, 0);  // the stage line's way back, kept across exec
    execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "mutcell: cannot run %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  close(stage[1]);
  if (pid < 0) {
    close(stage[0]);
    spdlog::error("cannot run mutmut's preparation: {}", std::strerror(errno));
    return kExitInternal;
  }
  setpgid(pid, pid);
  std::string line;
  const bool staged = ReadStageLine(stage[0], pid, &line);
  close(stage[0]);
  if (staged) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("stage", "") == "stats") {
      *summary = std::move(j);
      tail->Start(&cfg, pid, summary_path);
      return kExitOk;
    }
    spdlog::warn("mutmut's preparation: unexpected stage line {}; waiting for its end",
                 Printable(line.substr(0, 200)));
  }
  const int code = WaitForPreparation(cfg, pid, summary_path, summary, &err);
  if (code != kExitOk && InterruptCount() == 0) spdlog::error("{}", err);
  return code;
}

/// Logs the preparation's phases (seconds, from its summary).
void LogPreparationPhases(const nlohmann::json& summary, const char* what) {
  if (!summary.contains("phases_s") || !summary["phases_s"].is_object()) return;
  std::string line;
  const nlohmann::json& phases = summary["phases_s"];
  for (const char* name : {"import", "generate", "type_check", "stats", "clean_run", "forced_fail"})
    if (phases.contains(name) && phases[name].is_number())
      line += fmt::format("{}{} {:.2f} s", line.empty() ? "" : ", ", name, phases[name].get<double>());
  spdlog::info("mutmut's preparation{}: {}", what, line);
}

int JobsFor(const Config& cfg) {
  if (cfg.jobs > 0) return cfg.jobs;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

/// mutmut's emoji per status, for a summary line like its own.
const std::map<std::string, std::string>& Emoji() {
  static const std::map<std::string, std::string> e = {
      {"killed", "🎉"}, {"no tests", "🫥"}, {"timeout", "⏰"}, {"suspicious", "🤔"},
      {"survived", "🙁"}, {"skipped", "🔇"}, {"segfault", "💥"}, {"caught by type check", "🧙"},
  };
  return e;
}

}  // namespace

int MutmutCommand(const Config& cfg, const MutmutArgs& args) {
  const std::string project = fs::current_path().string();
  if (!fs::exists("pyproject.toml") && !fs::exists("setup.cfg")) {
    spdlog::error("{}: no pyproject.toml or setup.cfg here; run `mutcell mutmut` in a mutmut project", project);
    return kExitBadInput;
  }
  std::string err;
  // Both scripts before anything runs: a broken installation fails at once.
  std::string prepare_script, zygote_script;
  if (!FindScript("mutcell_prepare.py", &prepare_script, &err) || !FindScript("mutcell_zygote.py", &zygote_script, &err)) {
    spdlog::error("{}", err);
    return kExitInternal;
  }
  StateLock lock;
  if (!lock.TryAcquire(cfg.state_dir, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  if (cfg.require_cells) {
    // Refuse before mutmut's preparation (minutes), not after it.
    CellBackendChoice choice;
    choice.forced = cfg.backend;
    choice.require_cells = true;
    choice.fix_commands = CellFixCommands(cfg.invocation);
    if (!MakeCellBackend(choice, &err)) {
      spdlog::error("{}", err);
      return kExitBadInput;
    }
  }
  // Left by a mutcell killed between writing a .meta and renaming it; a
  // live concurrent writer's (a merge into this project) stays.
  std::vector<std::string> stale;
  RemoveStaleTempFiles(project + "/mutants", ".meta", true, &stale);
  for (const std::string& f : stale) spdlog::info("removed {}, left by a mutcell that is gone", f);
  // mutmut's preparation reads every .meta and fails on a corrupt one with a
  // traceback that does not name it: check them first, touching nothing.
  if (!CheckMutmutMetaFiles(project, &err)) {
    spdlog::error("{} (mutmut cannot read it either: fix or delete that file; the journal in {} keeps "
                  "mutcell's verdicts)",
                  err, cfg.state_dir);
    return kExitBadInput;
  }
  const int jobs = JobsFor(cfg);
  // From here on SIGINT/SIGTERM are counted, not fatal: preparation and
  // warm-up stop on them within a second, and the exit is 128+signal.
  InstallInterruptHandlers();
  // One hash seed for mutmut's preparation and every zygote (both inherit
  // this environment): test ids built from a set's order (parametrized over a
  // set) follow the seed, and a zygote drawing another seed than the
  // preparation's would not find the tests mutmut recorded. A seed the user
  // set is kept.
  if (std::getenv("PYTHONHASHSEED") == nullptr) setenv("PYTHONHASHSEED", "0", 1);
  // One address layout too: before Python 3.12 hash(None) is None's
  // address, so a set of tuples holding None (isodate's test cases) iterates
  // in an order that address-space randomization changes in every process,
  // whatever the seed. mutmut's own children share their parent's layout;
  // mutcell's preparation and zygotes are separate processes, so they all
  // start without randomization (inherited across exec, by mutants too).
  if (!SameAddressLayoutForChildren(&err))
    spdlog::info("{}: test ids built from the order of a set holding None (Python before 3.12) can differ "
                 "between mutmut's preparation and the fork servers, and such tests end error pytest-exit-4",
                 err);
  nlohmann::json prepared = nlohmann::json::object();
  // The clean run and the forced-fail test, when they go on while the fork
  // server warms up: finished before any mutant starts (make_runner), or
  // after the session when it needed no fork server; killed on any other way out.
  PreparationTail tail;
  int tail_code = kExitOk;
  auto finish_tail = [&](std::string* ferr) {
    nlohmann::json final_summary;
    tail_code = tail.Finish(&final_summary, ferr);
    if (tail_code != kExitOk) return false;
    LogPreparationPhases(final_summary, "");
    if (final_summary.contains("clean_run_maxrss_bytes") && final_summary["clean_run_maxrss_bytes"].is_number_unsigned())
      spdlog::info("clean test run: {:.2f} s, peak {}", final_summary.value("clean_run_s", 0.0),
                   FormatSize(final_summary["clean_run_maxrss_bytes"].get<uint64_t>()));
    return true;
  };
  if (!args.skip_prepare) {
    const std::string tail_log = StatePaths(cfg.state_dir).dir + "/prepare-clean-run.log";
    int code = Prepare(cfg, args, prepare_script, jobs, StatePaths(cfg.state_dir).dir + "/prepare.json", tail_log,
                       &prepared, &tail);
    if (code != kExitOk) return code;
    if (tail.Running()) {
      LogPreparationPhases(prepared, " (stats stage)");
      spdlog::info("mutmut's stats run passed (peak {}): its clean run and forced-fail test go on while the fork "
                   "server warms up (their output: {}, shown if they fail); no mutant starts before they pass",
                   FormatSize(prepared.value("stats_maxrss_bytes", uint64_t{0})), tail_log);
    } else {
      LogPreparationPhases(prepared, "");
    }
  }

  MutmutTimeouts timeouts;
  if (!LoadMutmutTimeouts(project, &timeouts, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  std::vector<MutmutMutant> mutants;
  if (!ListMutmutMutants(project, timeouts, &mutants, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }
  Plan plan;
  plan.path = project + "/mutants";
  plan.mutants = MutmutPlanMutants(mutants, project);
  std::string all;
  Plan whole;  // every mutant, stored result or not: what --shard splits
  size_t matched = 0;
  for (const Mutant& m : plan.mutants) {
    if (MutantSelected(m.id, args.names)) matched++;
    // Shards balance by count here: estimates are measured on each machine,
    // and a split that differs between machines would overlap and leave gaps.
    // Round robin over sorted names spreads each function's mutants evenly.
    whole.mutants.push_back(m);
    whole.mutants.back().estimate_s.reset();
    // Every mutant is in the plan, so the report, the gates and merge see the
    // whole project; which of them run is the session's reuse decision.
    all += m.fingerprint;
  }
  plan.fingerprint = Fingerprint(all);
  if (!args.names.empty() && matched == 0) {
    spdlog::error("no mutant matches {}", nlohmann::json(args.names).dump());
    return kExitBadInput;
  }

  {
    // Over the sorted names: the listing is fastest first, by durations
    // measured on this machine, and every shard must name the same plan.
    std::map<std::string, std::string> by_id;
    for (const Mutant& m : whole.mutants) by_id[m.id] = m.fingerprint;
    std::string fingerprints;
    for (const auto& [id, fp] : by_id) fingerprints += fp + "\n";
    whole.fingerprint = Fingerprint(fingerprints);
  }
  if (!ApplyShard(args.shard, StatePaths(cfg.state_dir), whole, &plan, &err)) {
    spdlog::error("{}", err);
    return kExitBadInput;
  }

  ZygoteOptions zopts;
  zopts.command = {cfg.python, zygote_script, "--project", project, "--strategy", cfg.strategy};
  zopts.log_path = StatePaths(cfg.state_dir).logs + "/zygote.log";
  zopts.recycle_after = cfg.recycle_after;
  zopts.recycle_memory = cfg.recycle_memory;
  zopts.recycle_growth = cfg.recycle_growth;

  SessionHooks hooks;
  // mutmut's mutants of one function share their tests, and a test that
  // killed one of them is the likeliest to kill the next.
  TestOrder test_order([](const std::string& id) { return MangledFunctionName(id); });
  if (cfg.test_order == "killer-first") hooks.test_order = &test_order;
  // Like `mutmut run NAME`: named mutants (and globs) are tested again; with
  // names, the others are left as they are.
  hooks.named = [&](const Mutant& m) { return !args.names.empty() && MutantSelected(m.id, args.names); };
  hooks.only_named = !args.names.empty();
  hooks.fail_under = cfg.fail_under;
  hooks.max_survived = cfg.max_survived;
  hooks.timeout_source = fmt::format("mutmut's formula (estimate + {:g} s) x {:g}", timeouts.timeout_constant,
                                     timeouts.timeout_multiplier);
  // mutmut's .meta, as its preparation left it, joins the journal: a stored
  // result the journal explains keeps the journal's record (the real verdict,
  // e.g. oom, and the limits that decided it); any other is mutmut's own.
  // A mutant mutmut reset (its function changed) has no stored result, and
  // its journal records carry the old fingerprint: it runs again.
  hooks.adopt = [&](const JournalContents& journal, const Plan& p) {
    return AdoptMutmutResults(journal, p.mutants, mutants, cfg.oom_exit_code);
  };
  hooks.oom_exit_code = cfg.oom_exit_code;
  hooks.decide_without_running = [](const Mutant& m) -> std::optional<Verdict> {
    if (m.tests.empty()) return Verdict::kNoTests;
    return std::nullopt;
  };
  // The strategy check's pytest-main fork server (docs/strategies.md), begun
  // in make_runner beside the main one and used (or shut down) by check_runner.
  const bool check_wanted = cfg.strategy == "collected" && cfg.strategy_check > 0;
  std::unique_ptr<ZygoteRunner> check_zygote;
  std::string check_zygote_err;
  auto check_options = [&] {
    ZygoteOptions po = zopts;
    po.command = {cfg.python, zygote_script, "--project", project, "--strategy", "pytest-main"};
    po.log_path = StatePaths(cfg.state_dir).logs + "/zygote-pytest-main.log";
    po.first_generation = 1001;  // its cells never meet the collected generations' names
    return po;
  };
  hooks.make_runner = [&](CellBackend* backend, const BudgetPlan& budget, std::string* rerr) -> std::unique_ptr<Runner> {
    // Each generation in a cell of its own inside the run cgroup, limited to
    // the whole zygote reserve: far above a healthy fork server (about the
    // clean run's size), so only a runaway zygote meets it.
    // Not with the none backend: its cells follow descendants, so a zygote's
    // "cell" would take in every mutant it forks.
    if (std::string(backend->Name()) != "none") {
      zopts.backend = backend;
      zopts.cell_limits.memory_bytes = budget.zygote_reserve;
      // The same CPU cap and weight as a mutant's cell: a warm-up (or a
      // zygote a mutant took over) cannot starve the cells either.
      zopts.cell_limits.cpu_millis = CellCpuMillis(cfg.cell_cpu, budget.jobs, UsableCpus());
    }
    zopts.should_stop = [] { return InterruptCount() > 0; };
    zopts.wait_mask = InterruptWaitMask();
    auto runner = std::make_unique<ZygoteRunner>(zopts);
    bool ready = runner->StartWarmUp(rerr);
    if (ready && check_wanted) {
      // The strategy check's fork server warms up beside this one (they
      // are independent), not after it: its first use follows this one's
      // ready at once.
      check_zygote = std::make_unique<ZygoteRunner>(check_options());
      if (!check_zygote->StartWarmUp(&check_zygote_err)) check_zygote.reset();
    }
    ready = ready && runner->FinishWarmUp(600, rerr);
    // The clean run's verdict first: a suite that fails without mutants is
    // the reason, even when the fork server could not warm up either.
    if (tail.Running() && !finish_tail(rerr)) {
      runner->Shutdown();
      check_zygote.reset();
      return nullptr;
    }
    if (!ready) check_zygote.reset();
    if (!ready) return nullptr;
    return runner;
  };
  if (check_wanted) {
    // The strategy check (docs/strategies.md): a sample run both ways with a
    // pytest-main fork server of its own; a difference switches the run to it.
    hooks.check_runner = [&](Runner* current, CellBackend* backend, const SchedulerOptions& opts,
                             const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* replacement,
                             std::string* note, std::string* cerr) {
      const std::vector<const Mutant*> sample = PickStrategySample(todo, static_cast<size_t>(cfg.strategy_check));
      if (sample.empty()) {
        check_zygote.reset();
        return true;
      }
      spdlog::info("strategy check: running {} mutants both ways (collected, pytest-main) before trusting collected "
                   "(strategy_check = 0 turns this off)",
                   sample.size());
      std::unique_ptr<ZygoteRunner> pytest_main = std::move(check_zygote);
      if (!pytest_main) {  // not begun beside the main fork server
        if (!check_zygote_err.empty()) {
          *cerr = check_zygote_err;
          return false;
        }
        pytest_main = std::make_unique<ZygoteRunner>(check_options());
        if (!pytest_main->StartWarmUp(cerr)) return false;
      }
      if (!pytest_main->FinishWarmUp(600, cerr)) return false;
      StrategyCheckResult result;
      if (!RunStrategyCheck(opts, backend, current, pytest_main.get(), sample, StatePaths(cfg.state_dir).dir, &result,
                            cerr)) {
        pytest_main->Shutdown();
        return false;
      }
      *note = result.Describe();
      nlohmann::json j = {{"sampled", result.sampled},
                          {"compared", result.compared},
                          {"strategy", result.differences.empty() ? "collected" : "pytest-main"},
                          {"summary", *note},
                          {"differences", nlohmann::json::array()}};
      for (const StrategyDifference& d : result.differences)
        j["differences"].push_back({{"mutant", d.mutant},
                                    {"collected", std::string(VerdictName(d.collected))},
                                    {"pytest_main", std::string(VerdictName(d.pytest_main))},
                                    {"tests", d.tests},
                                    {"collected_log", d.collected_log},
                                    {"pytest_main_log", d.pytest_main_log},
                                    {"failing_test", d.failing_test}});
      std::string werr;
      if (!WriteFileAtomically(StatePaths(cfg.state_dir).dir + "/strategy-check.json",
                               j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", &werr))
        spdlog::warn("strategy check: {}", werr);
      if (result.differences.empty()) {
        spdlog::info("{}", *note);
        pytest_main->Shutdown();
      } else {
        spdlog::warn("{}", *note);
        *replacement = std::move(pytest_main);
      }
      return true;
    };
  }
  hooks.write_back = [&](const std::vector<ResultRecord>& current, std::string* werr) {
    size_t written = 0, files = 0;
    std::string missing;
    if (WriteResultsToMeta(current, mutants, cfg.oom_exit_code, &written, &files, &missing, werr)) return true;
    if (!missing.empty()) *werr = "mutant " + Printable(missing.substr(0, 200)) + " is not in mutants/ any more";
    return false;
  };
  hooks.summarize = [&](const std::vector<ResultRecord>& current, double seconds, size_t ran) {
    std::map<std::string, size_t> by_status;
    size_t oom = 0;
    for (const ResultRecord& r : current) {
      if (r.verdict == Verdict::kOom) oom++;
      by_status[MutmutStatus(MutmutExitCodeFor(r.verdict, r.exit_code, r.signal, cfg.oom_exit_code))]++;
    }
    std::string line;
    for (const char* s : {"killed", "no tests", "timeout", "suspicious", "survived", "skipped"})
      line += Emoji().at(s) + " " + std::to_string(by_status[s]) + "  ";
    std::fprintf(stdout, "%zu/%zu  %s(oom %zu)\n", current.size(), plan.mutants.size(), line.c_str(), oom);
    if (ran > 0 && seconds > 0) std::fprintf(stdout, "%.2f mutations/second\n", static_cast<double>(ran) / seconds);
    std::fflush(stdout);
  };
  // The peak of mutmut's process after the tests ran in it: after the clean
  // run, or (overlapped) after the full stats run, which ran every selected
  // test in the same process (the clean run runs the same or fewer).
  const char* peak_key = tail.Running() ? "stats_maxrss_bytes" : "clean_run_maxrss_bytes";
  if (prepared.contains(peak_key) && prepared[peak_key].is_number_unsigned()) {
    const uint64_t peak = prepared[peak_key].get<uint64_t>();
    if (!tail.Running())
      spdlog::info("clean test run: {:.2f} s, peak {}", prepared.value("clean_run_s", 0.0), FormatSize(peak));
    hooks.clean_run_peak = peak;
    // The fork server is about as large as the clean run's process; two
    // generations overlap while one replaces the other.
    hooks.reserved_bytes = 2 * peak;
  }
  const int code = RunSession(cfg, plan, args.fresh, lock, hooks);
  if (tail_code != kExitOk) return tail_code;  // the clean run failed (or was interrupted) in make_runner
  if (tail.Running() && InterruptCount() == 0) {
    // No fork server was needed (nothing to run) or the session stopped
    // before one (e.g. a cell too small for the peak): the preparation ends
    // as it did before it was overlapped (prepare.json complete), and a
    // failing clean run is still the run's outcome. Interrupted: killed.
    std::string ferr;
    if (!finish_tail(&ferr)) {
      if (InterruptCount() == 0) spdlog::error("{}", ferr);
      return tail_code;
    }
  }
  return code;
}

}  // namespace mutcell
