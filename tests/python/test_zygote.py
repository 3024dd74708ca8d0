"""The Python zygote, driven standalone over a socketpair by a fake mutcell.

A tiny mutmut project is prepared once with the real `mutmut run` (from the
venv running these tests); its .meta verdicts are the reference the zygote's
exit codes must reproduce, for both strategies.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ZYGOTE = REPO / "sandbox" / "zygote" / "mutcell_zygote.py"
MUTMUT = Path(sys.executable).parent / "mutmut"

LIB = '''
def add(a, b):
    return a + b


def clamp(x):
    return max(0, x)


class Box:
    def __init__(self, n):
        self.n = n

    def double(self):
        return self.n * 2


def untested(x):
    return x - 1
'''

TESTS = '''
from tiny.core import add, clamp, Box


def test_add():
    assert add(1, 2) == 3


def test_clamp():
    assert clamp(5) == 5


def test_box():
    assert Box(3).double() == 6
'''


def mutmut_project(root: Path, lib: str, tests: str, conftest: str | None = None) -> Path:
    """A tiny src/tiny project at `root`, after a real `mutmut run`."""
    if not MUTMUT.exists():
        pytest.skip(f"mutmut is not installed next to {sys.executable}")
    (root / "src" / "tiny").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "tiny" / "__init__.py").write_text("")
    (root / "src" / "tiny" / "core.py").write_text(lib)
    if conftest is not None:
        (root / "tests" / "conftest.py").write_text(conftest)
    (root / "tests" / "test_core.py").write_text(tests)
    (root / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["src/tiny"]\n')
    r = subprocess.run([str(MUTMUT), "run", "--max-children", "2"], cwd=root,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    return mutmut_project(tmp_path_factory.mktemp("proj") / "tiny", LIB, TESTS)


CALLSITE_LIB = '''
def at_import(x):
    return x + 1


def in_hook(x):
    return x * 2
'''

CALLSITE_CONFTEST = '''
from tiny.core import in_hook


def pytest_generate_tests(metafunc):
    if "h" in metafunc.fixturenames:
        metafunc.parametrize("h", [in_hook(2)])
'''

CALLSITE_TESTS = '''
import pytest

from tiny.core import at_import, in_hook

# Module level of a test module: imported once per process.
DATA = [at_import(1)]


@pytest.mark.parametrize("v", DATA)
def test_import(v):
    assert at_import(1) == v


def test_hook(h):
    assert h == 4 and in_hook(0) == 0
'''


@pytest.fixture(scope="session")
def callsite_project(tmp_path_factory) -> Path:
    """The code under test called at a test module's import and from a
    collection hook, checked against the values it returns when the tests
    run. (Not at a conftest's import: mutmut's forced-fail run cannot get
    past a conftest that raises, so mutmut refuses such a project.)"""
    return mutmut_project(tmp_path_factory.mktemp("callsite") / "tiny", CALLSITE_LIB, CALLSITE_TESTS,
                          CALLSITE_CONFTEST)


def reference(project: Path) -> dict:
    meta = json.loads((project / "mutants/src/tiny/core.py.meta").read_text())
    return meta["exit_code_by_key"]


def covering_tests(project: Path, key: str) -> list[str]:
    stats = json.loads((project / "mutants/mutmut-stats.json").read_text())
    return stats["tests_by_mangled_function_name"].get(key.partition("__mutmut_")[0], [])


def frame(msg) -> bytes:
    """One protocol message: a 4-byte big-endian length, then the JSON."""
    body = json.dumps(msg).encode()
    return struct.pack("!I", len(body)) + body


class Driver:
    """A fake mutcell: owns one end of the socketpair and the zygote process."""

    def __init__(self, project: Path, strategy: str, extra_env: dict | None = None,
                 script: Path = ZYGOTE, extra_args: list[str] | None = None,
                 prefix: list[str] | None = None) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            [*(prefix or []), sys.executable, str(script), "--fd", str(theirs.fileno()), "--project", str(project),
             "--strategy", strategy, "--generation", "7", *(extra_args or [])],
            pass_fds=[theirs.fileno()], env=env, stderr=subprocess.PIPE)
        theirs.close()
        self.sock.settimeout(60)
        self.buf = b""

    def send(self, msg) -> None:
        self.sock.sendall(frame(msg))

    def recv(self) -> dict:
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack("!I", self.buf[:4])[0]:
            chunk = self.sock.recv(65536)
            assert chunk, f"zygote closed the socket; stderr: {self.stderr()}"
            self.buf += chunk
        (n,) = struct.unpack("!I", self.buf[:4])
        body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return json.loads(body)

    def stderr(self) -> str:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def wait(self, timeout: float = 15) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()


@pytest.fixture(params=["pytest-main", "collected"])
def strategy(request) -> str:
    return request.param


def run_one(d: Driver, rid, mutant: str, tests: list[str], **extra) -> dict:
    d.send({"type": "run", "id": rid, "mutant": mutant, "tests": tests, **extra})
    started = d.recv()
    assert started["type"] == "started" and started["id"] == rid, started
    exited = d.recv()
    assert exited["type"] == "exited" and exited["id"] == rid, exited
    assert exited["pid"] == started["pid"]
    return exited


def test_ready_reports_pid_memory_generation_and_protocol(project, strategy):
    d = Driver(project, strategy)
    try:
        ready = d.recv()
        assert ready["type"] == "ready"
        assert ready["protocol"] == 1
        assert ready["pid"] == d.proc.pid
        assert ready["generation"] == 7
        assert ready["rss_bytes"] > 1 << 20
        assert ready["strategy"] == strategy
        if strategy == "collected":
            assert ready["collected_items"] == 3
        d.send({"type": "stats"})
        stats = d.recv()
        assert stats["type"] == "stats" and stats["rss_bytes"] > 0 and stats["running"] == 0
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare(1) to start the zygote in a PID namespace of its own")
def test_as_pid_1_of_its_own_namespace_it_reports_child_pids_as_proc_numbers_them(project, tmp_path):
    """mutcell starts zygotes so; /proc stays the host's. The child blocks
    on opening a FIFO named as its cell file, so it is alive while looked at."""
    fifo = tmp_path / "cell.fifo"
    os.mkfifo(fifo)
    d = Driver(project, "collected", prefix=["unshare", "--pid", "--fork", "--kill-child"])
    try:
        ready = d.recv()
        assert ready["type"] == "ready", ready
        # Its own memory, not /proc/1's (the host's init): the same as a plain zygote's, roughly.
        assert 8 << 20 < ready["rss_bytes"] < 1 << 30, ready
        key = sorted(reference(project))[0]
        d.send({"type": "run", "id": 1, "mutant": key, "tests": covering_tests(project, key),
                "cgroup_procs": [str(fifo)]})
        started = d.recv()
        assert started["type"] == "started", started
        status = Path(f"/proc/{started['pid']}/status").read_text()
        nspid = next(line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:"))
        assert len(nspid) == 2 and nspid[0] == str(started["pid"]), (
            f"pid {started['pid']} is not the zygote's child as /proc numbers it: {status[:400]}")
        with open(fifo, "rb"):
            pass  # lets the child go on
        exited = d.recv()
        assert exited["type"] == "exited" and exited["pid"] == started["pid"], exited
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def test_exit_codes_equal_mutmut_run_for_every_mutant(project, strategy):
    ref = reference(project)
    assert 1 in ref.values() and 0 in ref.values(), f"the project needs killed and survived mutants: {ref}"
    d = Driver(project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        got = {}
        for i, key in enumerate(sorted(ref)):
            tests = covering_tests(project, key)
            if not tests:
                got[key] = 33  # mutmut does not run these either
                continue
            exited = run_one(d, i, key, tests, timeout_s=30)
            assert exited["signal"] is None, exited
            assert exited["maxrss_bytes"] > 0 and exited["utime_s"] >= 0
            got[key] = exited["exit_code"]
        assert got == ref
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def test_only_functions_a_new_pytest_session_runs_again_take_the_pytest_main_way(callsite_project):
    """A test module's module-level code runs once per process (a later
    pytest.main finds the module in sys.modules), so mutmut's children and
    collected items alike see its unmutated results: those mutants run
    collected. What a new session runs again (a collection hook) runs the
    pytest-main way. Verdicts equal mutmut's."""
    ref = reference(callsite_project)
    d = Driver(callsite_project, "collected")
    try:
        ready = d.recv()
        assert ready["type"] == "ready", ready
        note = ready.get("note", "")
        assert "tiny.core.x_in_hook" in note, ready
        assert "tiny.core.x_at_import" not in note, ready
        got = {}
        for i, key in enumerate(sorted(ref)):
            got[key] = run_one(d, i, key, covering_tests(callsite_project, key), timeout_s=30)["exit_code"]
        assert got == ref
        assert {k.partition("__mutmut_")[0] for k, v in ref.items() if v == 1} >= {
            "tiny.core.x_at_import", "tiny.core.x_in_hook"}, ref
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def test_child_joins_the_cell_files_first_and_sees_env(project, strategy, tmp_path):
    procs = [tmp_path / "memory.procs", tmp_path / "pids.procs"]
    for p in procs:
        p.write_text("")
    out = tmp_path / "out.log"
    d = Driver(project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        key = "tiny.core.x_add__mutmut_1"
        exited = run_one(d, "a", key, covering_tests(project, key), env={"MUTCELL_TEST_ENV": "yes"},
                         cgroup_procs=[str(p) for p in procs], output=str(out))
        for p in procs:
            assert p.read_text() == "0"  # "0": the writer itself (see join_cells)
        assert exited["exit_code"] == 1
        # A cell that cannot be joined: the child runs nothing and exits 121.
        exited = run_one(d, "b", key, covering_tests(project, key),
                         cgroup_procs=[str(tmp_path / "missing" / "cgroup.procs")])
        assert exited["exit_code"] == 121
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def test_relative_output_is_relative_to_the_project(project, strategy):
    out = project / "logs" / f"{strategy}.log"
    out.parent.mkdir(exist_ok=True)
    d = Driver(project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        key = "tiny.core.x_add__mutmut_1"
        exited = run_one(d, 1, key, covering_tests(project, key), output=f"logs/{strategy}.log")
        assert exited["exit_code"] == 1
        assert out.exists()
    finally:
        d.close()


def test_shutdown_then_close_still_exits_cleanly(project):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        d.send({"type": "shutdown"})
        d.sock.shutdown(socket.SHUT_WR)
        assert d.wait() == 0
    finally:
        d.close()


def test_message_after_shutdown_ends_the_zygote(project):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        # One write: sent separately, the zygote may read `shutdown` alone and,
        # with nothing running, exit 0 as asked before `stats` arrives (seen
        # 1 in 3 on a loaded machine); then the second send meets EPIPE.
        _raw(d, frame({"type": "shutdown"}) + frame({"type": "stats"}))
        assert d.wait() == 2
    finally:
        d.close()


def test_children_run_concurrently_and_are_all_reported(project, strategy):
    d = Driver(project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        key = "tiny.core.x_clamp__mutmut_1"
        for i in range(4):
            d.send({"type": "run", "id": i, "mutant": key, "tests": covering_tests(project, key)})
        seen_started, seen_exited = set(), set()
        while len(seen_exited) < 4:
            m = d.recv()
            (seen_started if m["type"] == "started" else seen_exited).add(m["id"])
        assert seen_started == seen_exited == {0, 1, 2, 3}
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def _raw(d: Driver, data: bytes) -> None:
    d.sock.sendall(data)


@pytest.mark.parametrize("bad", [
    pytest.param(b"\x00\x00\x00\x05hello", id="not-json"),
    pytest.param(struct.pack("!I", 2) + b"[]", id="not-an-object"),
    pytest.param(struct.pack("!I", (1 << 20) + 1), id="oversized"),
    pytest.param(struct.pack("!I", 0xFFFFFFFF) + b"x" * 100, id="huge-length"),
    pytest.param(b"\x00\x00\x00\x0e" + json.dumps({"type": "dance"}).encode()[:14], id="unknown-type"),
    pytest.param(b"\x00\x00\x00\x02\xff\xfe", id="not-utf8"),
])
def test_garbage_ends_the_zygote_with_protocol_error(project, bad):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        _raw(d, bad)
        assert d.wait() == 2
    finally:
        d.close()


@pytest.mark.parametrize("msg", [
    {"type": "run", "mutant": "x", "tests": []},                          # no id
    {"type": "run", "id": 1, "mutant": 3, "tests": []},                   # wrong type
    {"type": "run", "id": 1, "mutant": "m", "tests": ["t"], "bogus": 1},  # unknown key
    {"type": "run", "id": 1, "mutant": "m", "tests": ["t"], "cgroup_procs": ["relative"]},
    {"type": "run", "id": True, "mutant": "m", "tests": ["t"]},           # bool is not an id
    {"type": "ready"},                                                    # wrong direction
    {"type": "shutdown", "now": True},
])
def test_invalid_messages_end_the_zygote(project, msg):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        d.send(msg)
        assert d.wait() == 2
    finally:
        d.close()


def test_duplicate_request_id_ends_the_zygote(project):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        key = "tiny.core.x_add__mutmut_1"
        run_one(d, 5, key, covering_tests(project, key))
        d.send({"type": "run", "id": 5, "mutant": key, "tests": covering_tests(project, key)})
        assert d.wait() == 2
    finally:
        d.close()


def test_truncated_message_then_eof_ends_the_zygote(project):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        _raw(d, struct.pack("!I", 100) + b'{"type":')
        d.sock.shutdown(socket.SHUT_WR)
        assert d.wait() == 2
    finally:
        d.close()


def test_truncated_message_without_eof_times_out_instead_of_hanging(project):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        t0 = time.monotonic()
        _raw(d, struct.pack("!I", 100) + b'{"type":')
        assert d.wait(timeout=20) == 2
        assert time.monotonic() - t0 < 15
    finally:
        d.close()


def _dead(pid: int) -> bool:
    """The process has exited: it is gone or a zombie (state Z or X)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def test_eof_kills_running_children(project, tmp_path):
    d = Driver(project, "pytest-main")
    try:
        assert d.recv()["type"] == "ready"
        # A child that sleeps: a test that is not in the project would fail
        # fast, so hang the child in joining a FIFO nobody opens.
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        d.send({"type": "run", "id": 1, "mutant": "tiny.core.x_add__mutmut_1", "tests": [],
                "cgroup_procs": [str(fifo)]})
        started = d.recv()
        assert started["type"] == "started"
        d.sock.close()
        assert d.wait() == 4
        # Dead means gone or a zombie: the orphan is reaped by whoever inherits
        # it, and this machine's init reaps orphans only every ~2 s.
        deadline = time.monotonic() + 30
        while not _dead(started["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _dead(started["pid"]), f"child {started['pid']} outlived its zygote"
    finally:
        d.close()


def test_missing_mutants_directory_fails_warmup(tmp_path):
    d = Driver(tmp_path, "pytest-main")
    try:
        assert d.wait(timeout=30) == 3
    finally:
        d.close()


# ------------------------------------------------------- a real memory cell

RUNAWAY = REPO / "examples" / "runaway"
RUNAWAY_MUTANT = "blocks.core.x_read_blocks__mutmut_8"  # remaining + BLOCK: endless 1 MiB a turn


def _own_memory_cgroup() -> tuple[str, Path] | None:
    """('v1'|'v2', directory of our own memory cgroup) if we may create cells below it."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        hid, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            d = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if d.is_dir() and os.access(d, os.W_OK):
                return "v1", d
        if hid == "0" and controllers == "":
            d = Path("/sys/fs/cgroup") / path.lstrip("/")
            ctl = d / "cgroup.controllers"
            if ctl.exists() and "memory" in ctl.read_text().split() and os.access(d, os.W_OK):
                return "v2", d
    return None


@pytest.fixture
def memory_cell():
    found = _own_memory_cgroup()
    if found is None:
        pytest.skip("no writable cgroup memory controller below our own cgroup: "
                    "the real-cell test needs root and cgroup v1 memory or v2 with memory")
    kind, parent = found
    cell = parent / f"mutcell-pytest-{os.getpid()}"
    try:
        cell.mkdir()
    except OSError as e:
        pytest.skip(f"cannot create {cell}: {e}")
    limit = 128 << 20
    try:
        if kind == "v1":
            (cell / "memory.limit_in_bytes").write_text(str(limit))
            sw = cell / "memory.memsw.limit_in_bytes"
            if sw.exists():
                sw.write_text(str(limit))
        else:
            (cell / "memory.max").write_text(str(limit))
            (cell / "memory.swap.max").write_text("0")
        yield kind, cell, limit
    finally:
        procs = cell / "cgroup.procs"
        for _ in range(100):
            pids = procs.read_text().split() if procs.exists() else []
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        cell.rmdir()


@pytest.fixture(scope="session")
def runaway_project(tmp_path_factory) -> Path:
    if not MUTMUT.exists():
        pytest.skip(f"mutmut is not installed next to {sys.executable}")
    root = tmp_path_factory.mktemp("runaway") / "runaway"
    shutil.copytree(RUNAWAY, root, ignore=shutil.ignore_patterns("mutants", "__pycache__"))
    # Prepare everything but run one harmless mutant: never the runaway
    # without a limit.
    r = subprocess.run([str(MUTMUT), "run", "blocks.core.x_describe__mutmut_1"], cwd=root,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    meta = json.loads((root / "mutants/src/blocks/core.py.meta").read_text())
    assert RUNAWAY_MUTANT in meta["exit_code_by_key"]
    return root


def _oom_kills(kind: str, cell: Path) -> int:
    name = "memory.oom_control" if kind == "v1" else "memory.events"
    for line in (cell / name).read_text().splitlines():
        k, _, v = line.partition(" ")
        if k == "oom_kill":
            return int(v)
    return 0


def test_the_runaway_mutant_is_stopped_inside_its_cell(runaway_project, memory_cell, strategy):
    kind, cell, limit = memory_cell
    d = Driver(runaway_project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        t0 = time.monotonic()
        exited = run_one(d, 1, RUNAWAY_MUTANT, covering_tests(runaway_project, RUNAWAY_MUTANT),
                         cgroup_procs=[str(cell / "cgroup.procs")], memory_limit_bytes=limit,
                         timeout_s=0.5)  # CPU backstop of 1 s should the cell not hold
        # The kernel's OOM killer acted inside the cell, on the child only:
        # the zygote is alive and serves the next mutant.
        assert exited["signal"] == signal.SIGKILL, exited
        assert time.monotonic() - t0 < 30
        assert _oom_kills(kind, cell) >= 1
        if kind == "v1":
            assert int((cell / "memory.max_usage_in_bytes").read_text()) >= limit * 0.9
        key = "blocks.core.x_describe__mutmut_1"
        again = run_one(d, 2, key, covering_tests(runaway_project, key),
                        cgroup_procs=[str(cell / "cgroup.procs")])
        assert again["exit_code"] == 1
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()
