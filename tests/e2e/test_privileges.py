"""`sudo mutcell ...` (root with SUDO_UID/SUDO_GID set): cells are made as root,
but mutmut's preparation, the fork servers and every mutant run as the
invoking user, and every file mutcell writes is theirs. The user here is
nobody (65534), so no account is created; the projects live in a directory
nobody owns. Needs root (skips otherwise)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MUTCELL = os.environ.get("MUTCELL_BINARY", str(ROOT / "build" / "mutcell"))
NOBODY = 65534
SUDO_ENV = dict(os.environ, SUDO_UID=str(NOBODY), SUDO_GID=str(NOBODY), SUDO_USER="nobody")
RUNAWAY = "blocks.core.x_read_blocks__mutmut_8"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sudo mode needs root (run as root to test it)")


def as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@pytest.fixture
def home():
    """A directory nobody owns, below a world-searchable one."""
    d = Path(tempfile.mkdtemp(prefix="mutcell-sudo-"))
    d.chmod(0o755)
    os.chown(d, NOBODY, NOBODY)
    yield d
    shutil.rmtree(d)


def give_to_nobody(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        os.lchown(p, NOBODY, NOBODY)


def not_owned_by_nobody(path: Path) -> list[str]:
    return [str(p) for p in [path, *path.rglob("*")] if p.lstat().st_uid != NOBODY or p.lstat().st_gid != NOBODY]


def python_for_nobody(home: Path) -> str:
    """This venv's Python as nobody can start it: itself when nobody can, else
    the system Python of the same version with the venv's packages."""
    probe = [sys.executable, "-c", "import mutmut, pytest"]
    try:
        if subprocess.run(probe, preexec_fn=as_nobody, capture_output=True).returncode == 0:
            return sys.executable
    except PermissionError:
        pass  # e.g. a pyenv Python below /root
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/bin")
    if system is None:
        pytest.skip(f"{sys.executable} is not usable by nobody and /usr/bin has no python"
                    f"{sys.version_info.major}.{sys.version_info.minor}")
    wrapper = home / "python"
    wrapper.write_text(f"#!/bin/sh\nexport PYTHONPATH={sysconfig.get_paths()['purelib']}\nexec {system} \"$@\"\n")
    wrapper.chmod(0o755)
    r = subprocess.run([str(wrapper), *probe[1:]], preexec_fn=as_nobody, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no Python with mutmut that nobody can run: {r.stderr[-300:]}")
    return str(wrapper)


def report(project: Path) -> list[dict]:
    r = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_plan_mutants_run_as_the_sudo_user_and_every_file_is_theirs(home):
    project = home / "plan"
    project.mkdir()
    (project / "plan.jsonl").write_text("\n".join(json.dumps(m) for m in [
        {"id": "whoami", "argv": ["sh", "-c", "id -u > uid.txt; id -g > gid.txt; id -G > groups.txt; "
                                  "echo \"$HOME $USER $LOGNAME\" > env.txt; exit 1"]},
        {"id": "survivor", "argv": ["true"]},
        {"id": "hog", "argv": ["sh", "-c", "x=a; while :; do x=$x$x; done"]},
    ]) + "\n")
    give_to_nobody(project)
    r = subprocess.run([MUTCELL, "run", "--plan", "plan.jsonl", "--cell-memory", "64M", "-j", "2"], cwd=project,
                       env=SUDO_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (project / "uid.txt").read_text().split() == [str(NOBODY)]
    assert "sudo mode" in r.stderr
    assert (project / "gid.txt").read_text().split() == [str(NOBODY)]
    assert "0" not in (project / "groups.txt").read_text().split(), "root's groups were kept"
    assert (project / "env.txt").read_text().split()[1:] == ["nobody", "nobody"]
    assert not_owned_by_nobody(project) == []
    verdicts = {x["id"]: x["verdict"] for x in report(project)}
    assert verdicts == {"whoami": "killed", "survivor": "survived", "hog": "oom"}


def test_mutmut_under_sudo_tests_as_the_user_with_the_verdicts_of_a_root_run(home):
    python = python_for_nobody(home)
    uids = home / "uids.txt"
    projects = {}
    for name in ("sudo", "root"):
        project = home / name
        shutil.copytree(ROOT / "examples" / "runaway", project, ignore=shutil.ignore_patterns("mutants", ".mutcell"))
        # Every pytest process (clean run, fork server, each mutant) says who it is.
        (project / "tests" / "conftest.py").write_text(
            "import os\n"
            f"with open({str(uids) + '.' + name!r}, 'a') as f:\n"
            "    f.write(f'{os.getpid()} {os.getuid()} {os.getgid()}\\n')\n")
        give_to_nobody(project)
        projects[name] = project
    base = [MUTCELL, "mutmut", "--max-children", "2", "--python", python]
    r = subprocess.run(base, cwd=projects["sudo"], env=SUDO_ENV, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    ref = subprocess.run([*base, "--as-root"], cwd=projects["root"], env=SUDO_ENV, capture_output=True, text=True,
                         timeout=900)
    assert ref.returncode == 0, ref.stdout[-2000:] + ref.stderr[-3000:]

    seen = [line.split() for line in Path(str(uids) + ".sudo").read_text().splitlines()]
    assert len(seen) >= 3, seen  # stats and clean runs, the fork server, mutants
    assert {(u, g) for _, u, g in seen} == {(str(NOBODY), str(NOBODY))}
    assert {u for _, u, _ in (x.split() for x in Path(str(uids) + ".root").read_text().splitlines())} == {"0"}
    assert not_owned_by_nobody(projects["sudo"]) == []

    def verdicts(project: Path) -> dict[str, str]:
        return {x["id"]: x["verdict"] for x in report(project)}

    got = verdicts(projects["sudo"])
    assert got[RUNAWAY] == "oom"
    assert got == verdicts(projects["root"])
    codes = {}
    for meta in glob.glob(str(projects["sudo"] / "mutants" / "**" / "*.meta"), recursive=True):
        with open(meta) as f:
            codes.update(json.load(f)["exit_code_by_key"])
    assert codes and all(v is not None for v in codes.values())


def run_as_nobody(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    return subprocess.run(cmd, cwd=cwd, env=env, preexec_fn=as_nobody, capture_output=True, text=True, timeout=300)


def test_without_cells_require_cells_refuses_and_otherwise_it_warns_loudly(home):
    """nobody here has no writable cgroup (v1 below ours is root's), so the
    backend would be none."""
    project = home / "nocells"
    project.mkdir()
    (project / "plan.jsonl").write_text(json.dumps({"id": "m", "argv": ["false"]}) + "\n")
    give_to_nobody(project)
    try:
        r = run_as_nobody([MUTCELL, "run", "--plan", "plan.jsonl", "--require-cells"], project)
    except PermissionError:
        pytest.skip(f"nobody cannot run {MUTCELL}")
    if "backend v" in r.stderr and r.returncode == 0:
        pytest.skip("nobody has writable cgroups here: " + r.stderr[-300:])
    assert r.returncode == 2, r.stderr
    assert "--require-cells: no cgroup cells can be made here" in r.stderr
    assert "sudo mutcell run --plan plan.jsonl --require-cells" in r.stderr
    assert "systemd-run --user --scope -p Delegate=yes -- mutcell run --plan plan.jsonl --require-cells" in r.stderr
    assert not (project / ".mutcell" / "journal.jsonl").exists(), "a refused run recorded something"

    r = run_as_nobody([MUTCELL, "run", "--plan", "plan.jsonl"], project)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("NO CELLS") == 2, r.stderr  # at the start and after the summary
    assert [x["verdict"] for x in report(project)] == ["killed"]
