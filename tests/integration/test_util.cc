#include "tests/integration/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mutcell::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  char tmpl[] = "/tmp/mutcell-test.XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<int>& LaunchedPids() {
  static std::vector<int> pids;
  return pids;
}

pid_t Launch(const std::vector<std::string>& args, const std::string& cwd, const std::string& out_path,
             const std::string& err_path) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid > 0) LaunchedPids().push_back(pid);
  if (pid == 0) {
    setpgid(0, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = MUTCELL_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int WaitMutcell(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

CommandResult RunMutcell(const std::vector<std::string>& args, const std::string& cwd) {
  TempDir io;
  auto start = std::chrono::steady_clock::now();
  pid_t pid = Launch(args, cwd, io.path() + "/out", io.path() + "/err");
  CommandResult r;
  r.exit_code = WaitMutcell(pid);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.out = Slurp(io.path() + "/out");
  r.err = Slurp(io.path() + "/err");
  return r;
}

int StartMutcell(const std::vector<std::string>& args, const std::string& cwd, const std::string& log_path) {
  return Launch(args, cwd, log_path, log_path + ".err");
}

std::vector<std::string> LeftoverCgroups() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory(ec)) continue;
    if (it.depth() > 8) it.disable_recursion_pending();
    const std::string name = it->path().filename().string();
    if (name.rfind("mutcell-", 0) == 0) {
      // Run cgroups are named mutcell-<pid>-…: count only those of the
      // mutcell processes this test binary started (other runs may be live).
      for (int pid : LaunchedPids())
        if (name.rfind("mutcell-" + std::to_string(pid) + "-", 0) == 0) out.push_back(it->path().string());
      it.disable_recursion_pending();
    }
  }
  return out;
}

std::vector<int> ProcessesWith(const std::string& needle) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = Slurp(e.path().string() + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    std::string stat = Slurp(e.path().string() + "/stat");
    size_t close = stat.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    if (!zombie && cmd.find(needle) != std::string::npos && std::stoi(name) != getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

long OwnCgroupOomKills() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string file;
    if (ctrls == "memory") file = "/sys/fs/cgroup/memory" + path + "/memory.oom_control";
    else if (ctrls.empty() && fs::exists("/sys/fs/cgroup" + path + "/memory.events"))
      file = "/sys/fs/cgroup" + path + "/memory.events";
    if (file.empty()) continue;
    std::istringstream in(Slurp(file));
    std::string key;
    long value;
    while (in >> key >> value)
      if (key == "oom_kill") return value;
  }
  return -1;
}

std::string HelpersDir() { return fs::path(MUTCELL_BINARY).parent_path().string() + "/helpers"; }

std::string Json(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace mutcell::testing
