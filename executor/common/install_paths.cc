#include "executor/common/install_paths.h"

#include <unistd.h>

#include <filesystem>

namespace mutcell {
namespace fs = std::filesystem;

std::string RunningBinary() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

std::vector<std::string> ScriptDirCandidates(const std::string& exe) {
  const fs::path bindir = fs::path(exe).parent_path();
  return {(bindir.parent_path() / "share" / "mutcell").string(), (bindir / "share" / "mutcell").string()};
}

bool FindScriptFor(const std::string& exe, const std::string& name, std::string* path, std::string* err) {
  if (exe.empty()) {
    *err = "cannot find " + name + ": the path of the running mutcell (/proc/self/exe) is unreadable";
    return false;
  }
  std::string looked;
  for (const std::string& dir : ScriptDirCandidates(exe)) {
    const std::string p = dir + "/" + name;
    if (access(p.c_str(), R_OK) == 0) {
      *path = p;
      return true;
    }
    looked += (looked.empty() ? "" : ", ") + p;
  }
  *err = "cannot find " + name + " beside " + exe + " (looked in " + looked +
         "); mutcell's share/mutcell directory must stay next to its bin directory";
  return false;
}

bool FindScript(const std::string& name, std::string* path, std::string* err) {
  return FindScriptFor(RunningBinary(), name, path, err);
}

std::string DefaultPythonFor(const std::string& exe) {
  if (exe.empty()) return "python3";
  const fs::path bindir = fs::path(exe).parent_path();
  std::error_code ec;
  if (!fs::is_regular_file(bindir.parent_path() / "pyvenv.cfg", ec)) return "python3";
  for (const char* name : {"python3", "python"}) {
    const fs::path p = bindir / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "python3";
}

std::string DefaultPython() { return DefaultPythonFor(RunningBinary()); }

}  // namespace mutcell
