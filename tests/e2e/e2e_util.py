"""What the end-to-end tests share: where mutcell and the venv are, copies of
the bundled examples, mutmut's stored exit codes, and what a run may leave
behind (processes in a project, run cgroups)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTCELL = os.environ.get("MUTCELL_BINARY", str(ROOT / "build" / "mutcell"))
VENV_BIN = str(Path(sys.executable).parent)
ENV = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))


def copy_example(name: str, dest: Path) -> Path:
    """A fresh copy of examples/NAME (without results of earlier runs)."""
    shutil.copytree(ROOT / "examples" / name, dest, ignore=shutil.ignore_patterns("mutants", ".mutcell"))
    return dest


def exit_codes(project: Path) -> dict[str, int | None]:
    """Every mutant's exit code as mutmut's `.meta` files hold it."""
    out: dict[str, int | None] = {}
    for meta in glob.glob(str(project / "mutants" / "**" / "*.meta"), recursive=True):
        with open(meta) as f:
            out.update(json.load(f)["exit_code_by_key"])
    return out


def live_processes():
    """(pid, ppid, cwd, command line) of every live (not zombie) process; those
    that exit while being read are left out."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cwd = os.readlink(d / "cwd")
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            yield int(d.name), int(fields[1]), cwd, cmdline


def processes_in(project: Path, needle: str = "") -> list[int]:
    """Live processes whose cwd is in `project` (and whose command line has `needle`)."""
    return [pid for pid, _, cwd, cmdline in live_processes() if cwd.startswith(str(project)) and needle in cmdline]


def run_cgroups(pids: list[int]) -> list[str]:
    """The run cgroups (`mutcell-<pid>-...`) of these mutcell processes, in any hierarchy."""
    prefixes = tuple(f"mutcell-{pid}-" for pid in pids)
    found = []
    for top, dirs, _ in os.walk("/sys/fs/cgroup"):
        for d in list(dirs):
            if d.startswith(prefixes):
                found.append(os.path.join(top, d))
                dirs.remove(d)
            elif top.count(os.sep) > 12:
                dirs.remove(d)
    return found


def zygotes_of(parent: int, project: Path) -> list[int]:
    """Live zygotes of `project` that are children of `parent` (mutcell).

    By parent, not by command line alone: the zygote's children (the mutants)
    share its command line, and pid order does not tell them apart once pids
    wrap (pid_max is 32768 on the team's machines; a long suite wraps it)."""
    return [pid for pid, ppid, _, cmdline in live_processes()
            if ppid == parent and f"mutcell_zygote.py --project {project}" in cmdline]
