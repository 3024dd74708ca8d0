#include "executor/mutmut/mutmut_command.h"

#include <poll.h>
#include <signal.h>
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

/// Runs mutmut's preparation in this directory; its output goes to ours.
int Prepare(const Config& cfg, const MutmutArgs& args, const std::string& script, int jobs,
            const std::string& summary_path, nlohmann::json* summary) {
  std::string err;
  std::vector<std::string> argv = {cfg.python, script, "--out", summary_path,
                                   "--max-children", std::to_string(jobs)};
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
    execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "mutcell: cannot run %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  int status = 0;
  if (pid < 0 || !WaitInterruptibly(pid, &status)) {
    if (pid > 0 && InterruptCount() > 0) {
      spdlog::warn("received {} during mutmut's preparation: stopped it; run the same command again to resume",
                   strsignal(LastInterruptSignal()));
      return ExitForSignal(LastInterruptSignal());
    }
    spdlog::error("cannot run mutmut's preparation: {}", std::strerror(errno));
    return kExitInternal;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == 127) {
      spdlog::error("cannot run {} (set `python` in [tool.mutcell] or --python)", cfg.python);
      return kExitBadInput;
    }
    spdlog::error("mutmut's preparation failed (exit {}); see its output above", code);
    return code == 2 ? kExitBadInput : kExitInternal;
  }
  std::string text;
  if (!ReadWholeFile(summary_path, &text, &err)) {
    spdlog::error("{}", err);
    return kExitInternal;
  }
  *summary = nlohmann::json::parse(text, nullptr, false);
  return kExitOk;
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
  nlohmann::json prepared = nlohmann::json::object();
  if (!args.skip_prepare) {
    int code = Prepare(cfg, args, prepare_script, jobs, StatePaths(cfg.state_dir).dir + "/prepare.json", &prepared);
    if (code != kExitOk) return code;
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
    if (!runner->StartAndWaitReady(600, rerr)) return nullptr;
    return runner;
  };
  if (cfg.strategy == "collected" && cfg.strategy_check > 0) {
    // The strategy check (docs/strategies.md): a sample run both ways with a
    // pytest-main fork server of its own; a difference switches the run to it.
    hooks.check_runner = [&](Runner* current, CellBackend* backend, const SchedulerOptions& opts,
                             const std::vector<const Mutant*>& todo, std::unique_ptr<Runner>* replacement,
                             std::string* note, std::string* cerr) {
      const std::vector<const Mutant*> sample = PickStrategySample(todo, static_cast<size_t>(cfg.strategy_check));
      if (sample.empty()) return true;
      spdlog::info("strategy check: running {} mutants both ways (collected, pytest-main) before trusting collected "
                   "(strategy_check = 0 turns this off)",
                   sample.size());
      ZygoteOptions po = zopts;
      po.command = {cfg.python, zygote_script, "--project", project, "--strategy", "pytest-main"};
      po.log_path = StatePaths(cfg.state_dir).logs + "/zygote-pytest-main.log";
      po.first_generation = 1001;  // its cells never meet the collected generations' names
      auto pytest_main = std::make_unique<ZygoteRunner>(po);
      if (!pytest_main->StartAndWaitReady(600, cerr)) return false;
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
  if (prepared.contains("clean_run_maxrss_bytes") && prepared["clean_run_maxrss_bytes"].is_number_unsigned()) {
    const uint64_t peak = prepared["clean_run_maxrss_bytes"].get<uint64_t>();
    spdlog::info("clean test run: {:.2f} s, peak {}", prepared.value("clean_run_s", 0.0), FormatSize(peak));
    hooks.clean_run_peak = peak;
    // The fork server is about as large as the clean run's process; two
    // generations overlap while one replaces the other.
    hooks.reserved_bytes = 2 * peak;
  }
  return RunSession(cfg, plan, args.fresh, lock, hooks);
}

}  // namespace mutcell
