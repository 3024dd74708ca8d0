#pragma once
// Where an installed mutcell finds its own files, relative to the running
// binary, so one build works wherever it is unpacked or installed: the CMake
// install prefix and the release tarball (<prefix>/bin/mutcell,
// <prefix>/share/mutcell/), the wheel (<venv>/bin/mutcell, <venv>/share/mutcell/),
// and the build tree (<build>/mutcell, <build>/share/mutcell/, copied there at
// build time). The build machine's source path is never used.

#include <string>
#include <vector>

namespace mutcell {

/// The running binary's path (/proc/self/exe, symlinks resolved), or "" if unreadable.
std::string RunningBinary();

/// The directories that may hold mutcell's scripts for a binary at `exe`, in
/// the order they are tried: <bindir>/../share/mutcell, then <bindir>/share/mutcell.
std::vector<std::string> ScriptDirCandidates(const std::string& exe);

/// Finds script `name` (e.g. "mutcell_zygote.py") beside the binary at `exe`.
/// False, with *err naming every place looked, when no candidate holds it.
bool FindScriptFor(const std::string& exe, const std::string& name, std::string* path, std::string* err);

/// FindScriptFor(RunningBinary(), ...).
bool FindScript(const std::string& name, std::string* path, std::string* err);

/// The default interpreter of `mutcell mutmut` for a binary at `exe`: the
/// python3 (else python) beside it when it sits in a virtual environment's
/// bin/ (pyvenv.cfg one level up: the wheel installed with pip), else
/// "python3", looked up on PATH. The python path is returned as <bindir>/python3,
/// not resolved: the venv's python is a symlink out of the venv, and only
/// through the link does it find the venv's packages.
std::string DefaultPythonFor(const std::string& exe);

/// DefaultPythonFor(RunningBinary()).
std::string DefaultPython();

}  // namespace mutcell
