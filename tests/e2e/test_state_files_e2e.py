"""The files a run leaves and reads, against the real binary (issue 14's
smaller items): --fresh never overwrites an earlier backup and takes the
attempt logs with it; a temp file a killed mutcell left beside a .meta is
removed at the next start unless a live mutcell is writing it; a corrupt
.meta is refused (exit 2, named, nothing changed) before mutmut's
preparation reads it; control characters in mutant names never reach the
terminal or the log raw."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MUTCELL = os.environ.get("MUTCELL_BINARY", str(ROOT / "build" / "mutcell"))
VENV_BIN = str(Path(sys.executable).parent)
ENV = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))


def run_plan(tmp_path: Path, lines: list[dict], *args: str) -> subprocess.CompletedProcess:
    plan = tmp_path / "plan.jsonl"
    plan.write_text("".join(json.dumps(m) + "\n" for m in lines))
    return subprocess.run([MUTCELL, "run", "--plan", str(plan), "--state-dir", str(tmp_path / "state"),
                           "--jobs", "2", *args], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)


def tiny_plan(code: int = 1) -> list[dict]:
    return [{"id": f"m.{i}", "argv": ["sh", "-c", f"echo attempt of m.{i}; exit {code}"]} for i in range(2)]


def test_fresh_never_overwrites_an_earlier_backup_and_keeps_the_logs_with_their_journal(tmp_path):
    r = run_plan(tmp_path, tiny_plan())
    assert r.returncode == 0, r.stderr
    state = tmp_path / "state"
    first_journal = (state / "journal.jsonl").read_bytes()
    first_logs = sorted(p.name for p in (state / "logs").glob("cell-*.log"))
    assert first_logs
    # Every name a --fresh in the next minute would pick under the old scheme
    # (.bak-<seconds>) is taken: none of them may be replaced.
    now = int(time.time())
    planted = {}
    for t in range(now - 2, now + 60):
        p = state / f"journal.jsonl.bak-{t}"
        p.write_text(f"planted {t}\n")
        planted[p.name] = p.read_bytes()
    for _ in range(2):  # two --fresh in (most likely) one second
        r = run_plan(tmp_path, tiny_plan(), "--fresh")
        assert r.returncode == 0, r.stderr
    for name, data in planted.items():
        assert (state / name).read_bytes() == data, f"{name} was overwritten"
    backups = [p for p in state.glob("journal.jsonl.bak-*") if p.name not in planted]
    assert len(backups) == 2, sorted(p.name for p in state.glob("journal.jsonl.bak-*"))
    assert first_journal in {p.read_bytes() for p in backups}
    # The first session's logs went with its journal; logs/ holds the last session's only.
    kept = [d for d in state.glob("logs.bak-*") if d.is_dir()]
    assert len(kept) == 2
    assert first_logs in [sorted(p.name for p in d.glob("cell-*.log")) for d in kept]
    assert len(list((state / "logs").glob("cell-*.log"))) == len(first_logs)


def test_stale_temp_files_are_removed_at_start_but_not_a_live_writers(tmp_path):
    r = run_plan(tmp_path, tiny_plan())
    assert r.returncode == 0, r.stderr
    state = tmp_path / "state"
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid is not alive
    other = subprocess.Popen(["sleep", "300"])  # alive, but not a mutcell: a reused pid
    # A live mutcell writing: a process whose name is mutcell's (comm).
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(shutil.which("sleep"), bindir / "mutcell")
    writer = subprocess.Popen([str(bindir / "mutcell"), "300"])
    try:
        stale = [state / f"plan.json.tmp-{dead.pid}", state / f"journal.jsonl.tmp-{other.pid}"]
        live = state / f"plan.json.tmp-{writer.pid}"
        for p in stale + [live]:
            p.write_text("half written\n")
        r = run_plan(tmp_path, tiny_plan())
        assert r.returncode == 0, r.stderr
        for p in stale:
            assert not p.exists(), f"{p.name} left behind"
        assert live.exists(), "a live writer's temp file was removed"
    finally:
        other.kill()
        writer.kill()
        other.wait()
        writer.wait()


@pytest.fixture(scope="module")
def finished_clean(tmp_path_factory) -> Path:
    """examples/clean after a finished `mutcell mutmut` (each test copies it)."""
    project = tmp_path_factory.mktemp("finished") / "clean"
    shutil.copytree(ROOT / "examples" / "clean", project, ignore=shutil.ignore_patterns("mutants", ".mutcell"))
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    return project


def mutcell_mutmut(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=ENV, capture_output=True,
                          text=True, timeout=900)


def copy_of(project: Path, dest: Path) -> tuple[Path, list[str]]:
    shutil.copytree(project, dest, symlinks=True)
    metas = sorted(glob.glob(str(dest / "mutants" / "**" / "*.meta"), recursive=True))
    assert metas
    return dest, metas


def test_a_meta_temp_file_a_killed_mutcell_left_is_removed_at_the_next_start(finished_clean, tmp_path):
    project, metas = copy_of(finished_clean, tmp_path / "clean")
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = Path(metas[0] + f".tmp-{dead.pid}")
    leftover.write_text('{"exit_code_by_key": {')  # a kill between write and rename
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    assert not leftover.exists(), "the temp file a killed mutcell left is still there"


def test_a_corrupt_meta_is_refused_naming_it_before_mutmuts_preparation(finished_clean, tmp_path):
    project, metas = copy_of(finished_clean, tmp_path / "clean")
    journal = (project / ".mutcell" / "journal.jsonl").read_bytes()
    others = {p: Path(p).read_bytes() for p in metas[1:]}
    broken = Path(metas[0])
    broken.write_text('{"exit_code_by_key": {"x": 1,,}}')
    r = mutcell_mutmut(project)
    # exit 2 naming the file and the place, before mutmut reads it (no
    # traceback); nothing recorded changes.
    assert r.returncode == 2, r.stderr[-3000:]
    assert str(broken) in r.stderr and "line 1" in r.stderr, r.stderr[-3000:]
    assert "Traceback" not in r.stdout + r.stderr, r.stderr[-3000:]
    assert (project / ".mutcell" / "journal.jsonl").read_bytes() == journal
    assert broken.read_text() == '{"exit_code_by_key": {"x": 1,,}}'
    assert all(Path(p).read_bytes() == data for p, data in others.items())


def test_control_characters_in_mutant_names_never_reach_the_log_raw(tmp_path):
    forged = "m.a\n[9/9] killed    m.forged  (0.01 s, peak 1 MiB)"
    colour = "m.b\x1b[2K\x1b[31mred"
    plan = [{"id": forged, "argv": ["sh", "-c", "exit 0"]},  # survived: named on its own line
            {"id": colour, "argv": ["sh", "-c", "exit 0"]}]
    r = run_plan(tmp_path, plan, "--backend", "none")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stderr and "\r" not in r.stderr, repr(r.stderr)
    assert not any(line.startswith("[9/9]") for line in r.stderr.splitlines()), r.stderr
    assert "m.a\\x0a[9/9] killed" in r.stderr and "m.b\\x1b[2K\\x1b[31mred" in r.stderr, r.stderr
    # The same names on a terminal (the redrawn status line), via CLICOLOR_FORCE-free pty.
    import pty
    out = bytearray()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(MUTCELL, [MUTCELL, "run", "--plan", str(tmp_path / "plan.jsonl"), "--state-dir",
                            str(tmp_path / "state-tty"), "--jobs", "2", "--backend", "none"],
                  dict(ENV, NO_COLOR="1"))
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    text = out.decode(errors="replace")
    assert "m.b\\x1b[2K\\x1b[31mred" in text, text
    # The only escape sequences are mutcell's own line redraws (\r\x1b[K).
    assert text.replace("\r\x1b[K", "").count("\x1b") == 0, repr(text)
    assert "\n[9/9]" not in text.replace("\r\n", "\n"), repr(text)
