#include "executor/report/mutant_sources.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "executor/common/atomic_file.h"
#include "executor/mutmut/mutmut_command.h"

namespace mutcell {

bool LoadLocateOutput(const std::string& path, SourceIndex* out, std::vector<std::string>* warnings, std::string* err) {
  std::string text;
  if (!ReadWholeFile(path, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    if (doc.at("version").get<int>() != 1) {
      *err = path + ": unsupported locate output version " + doc.at("version").dump();
      return false;
    }
    for (const auto& [file, f] : doc.at("files").items()) out->files[file] = f.at("source").get<std::string>();
    for (const auto& [id, m] : doc.at("mutants").items()) {
      MutantSource s;
      s.file = m.at("file").get<std::string>();
      s.line = m.at("start").at(0).get<int>();
      s.column = m.at("start").at(1).get<int>();
      s.end_line = m.at("end").at(0).get<int>();
      s.end_column = m.at("end").at(1).get<int>();
      s.original = m.value("original", "");
      s.replacement = m.value("replacement", "");
      s.diff = m.value("diff", "");
      s.mutator = m.value("mutator", "");
      if (s.line < 1 || s.column < 1 || s.end_line < s.line) {
        *err = path + ": mutant " + id + ": bad location";
        return false;
      }
      out->mutants[id] = std::move(s);
    }
    if (doc.contains("errors"))
      for (const auto& e : doc.at("errors")) warnings->push_back("no location: " + e.get<std::string>());
  } catch (const std::exception& e) {
    *err = path + ": malformed locate output: " + e.what();
    return false;
  }
  return true;
}

bool LocateMutmutMutants(const std::string& project, const std::string& python, const std::string& state_dir,
                         SourceIndex* out, std::vector<std::string>* warnings, std::string* err) {
  // Absolute paths: the script runs in `project`.
  auto absolute = [](const std::string& p) {
    if (!p.empty() && p[0] == '/') return p;
    char cwd[4096];
    return std::string(getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + p;
  };
  const std::string out_path = absolute(state_dir) + "/locations.json";
  const std::string cache_path = absolute(state_dir) + "/locations-cache.json";
  std::vector<std::string> argv = {python,    ZygoteScriptDir() + "/mutcell_locate.py", "--out", out_path, "--cache",
                                   cache_path};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *err = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // The report goes to stdout: the script must not write there.
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    if (chdir(project.c_str()) != 0) {
      std::fprintf(stderr, "mutcell: %s: %s\n", project.c_str(), std::strerror(errno));
      _exit(2);
    }
    execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "mutcell: cannot run %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *err = std::string("waitpid: ") + std::strerror(errno);
      return false;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *err = argv[1] + " failed (" +
           (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                              : "signal " + std::to_string(WTERMSIG(status))) +
           ")";
    return false;
  }
  return LoadLocateOutput(out_path, out, warnings, err);
}

}  // namespace mutcell
