#!/usr/bin/env python3
"""mutcell's Python fork server (zygote) for mutmut projects.

Protocol and behaviour: docs/zygote-protocol.md (protocol version 1).

    python mutcell_zygote.py --fd N --project DIR [--generation G]
                             [--strategy collected|pytest-main] [--log FILE]

The zygote warms up the way mutmut does before it forks mutants (inside the
project: mutmut's config, sys.path set-up and stats; pytest and the test
modules imported), freezes the GC, reports `ready`, then forks one child per
`run` request. Children join their cell first, then run the mutant's tests
and _exit with mutmut's exit code. The zygote never sees test results, only
exit statuses, so it does not grow with the run.

Any protocol violation ends the zygote with a non-zero status; mutcell
replaces it. The zygote never decides verdicts.
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import math
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 1 << 20
# A message whose first byte has arrived must be complete within this time,
# so a peer that stops mid-message cannot hang the zygote.
PARTIAL_MESSAGE_TIMEOUT_S = 5.0
# Idle time after which the zygote forks the next request's child ahead.
SPARE_IDLE_S = 0.002

# Zygote exit statuses (documented in docs/zygote-protocol.md).
EXIT_OK = 0
EXIT_PROTOCOL = 2
EXIT_WARMUP = 3
EXIT_PEER_GONE = 4
EXIT_INTERNAL = 5

# Child exit statuses reserved by the zygote (outside pytest's 0..5).
CHILD_JOIN_FAILED = 121
CHILD_SETUP_FAILED = 122
# 110 + N: pytest itself ended with N in PYTEST_DID_NOT_RUN, so the tests did
# not run to a verdict (mutcell: error "pytest-exit-N"). A distinct status,
# not N itself: a mutant's own os._exit(4) is the mutant's doing, not pytest's.
CHILD_PYTEST_STATUS_BASE = 110
PYTEST_DID_NOT_RUN = (2, 3, 4, 5)  # interrupted, internal error, usage error, no tests ran

STRATEGIES = ("pytest-main", "collected")


class ProtocolError(Exception):
    """The peer broke the protocol; the zygote must exit EXIT_PROTOCOL."""


class PeerGone(Exception):
    """The socket reached EOF between messages."""


def log(msg: str) -> None:
    try:
        os.write(2, f"mutcell-zygote[{os.getpid()}]: {msg}\n".encode())
    except OSError:
        pass


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_statm_fd = -1  # the zygote's /proc/self/statm, opened once: read before every fork


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (0 where unavailable)."""
    global _statm_fd
    try:
        if _statm_fd < 0:
            # self, not getpid(): as PID 1 of its own PID namespace the
            # zygote's getpid() is 1, which in /proc (the host's) is init.
            _statm_fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        # pread from 0: the kernel renders the numbers afresh on every read.
        return int(os.pread(_statm_fd, 256, 0).split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


# ---------------------------------------------------------------- framing


def encode(msg: dict) -> bytes:
    body = json.dumps(msg, separators=(",", ":")).encode()
    if len(body) > MAX_MESSAGE_BYTES:
        raise ValueError("outgoing message too large")
    return struct.pack("!I", len(body)) + body


class Channel:
    """Length-prefixed JSON messages over a non-blocking socket."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.partial_since: float | None = None

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, msg: dict) -> None:
        data = memoryview(encode(msg))
        while data:
            try:
                n = self.sock.send(data)
                data = data[n:]
            except BlockingIOError:
                select.select([], [self.sock], [], 1.0)
            except InterruptedError:
                continue
            except (BrokenPipeError, ConnectionResetError) as e:
                raise PeerGone() from e

    def read_available(self) -> bool:
        """Reads what is there; True when the peer has closed its end (the
        complete messages read before EOF still count: take them with
        messages(), then check that nothing is left)."""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
            if self.partial_since is None:
                self.partial_since = time.monotonic()
            if len(self.buf) >= 4:
                (size,) = struct.unpack("!I", self.buf[:4])
                if size > MAX_MESSAGE_BYTES:
                    raise ProtocolError(f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}")

    def messages(self) -> list[dict]:
        out = []
        while len(self.buf) >= 4:
            (size,) = struct.unpack("!I", self.buf[:4])
            if size > MAX_MESSAGE_BYTES:
                raise ProtocolError(f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}")
            if len(self.buf) < 4 + size:
                break
            body = bytes(self.buf[4 : 4 + size])
            del self.buf[: 4 + size]
            try:
                msg = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise ProtocolError(f"message is not UTF-8 JSON: {e}") from e
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                raise ProtocolError("message is not an object with a string 'type'")
            out.append(msg)
        self.partial_since = time.monotonic() if self.buf else None
        return out

    def partial_deadline(self) -> float | None:
        if self.partial_since is None:
            return None
        return self.partial_since + PARTIAL_MESSAGE_TIMEOUT_S


# ------------------------------------------------------------ validation


def _want(msg: dict, key: str, types, required: bool = True):
    if key not in msg:
        if required:
            raise ProtocolError(f"{msg.get('type')}: missing '{key}'")
        return None
    v = msg[key]
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ProtocolError(f"{msg.get('type')}: '{key}' has the wrong type")
    if not isinstance(v, types):
        raise ProtocolError(f"{msg.get('type')}: '{key}' has the wrong type")
    return v


RUN_KEYS = {"type", "id", "mutant", "tests", "env", "cgroup_procs", "memory_limit_bytes",
            "timeout_s", "output", "failure_report"}


def validate_run(msg: dict) -> dict:
    unknown = set(msg) - RUN_KEYS
    if unknown:
        raise ProtocolError(f"run: unknown keys {sorted(unknown)}")
    rid = _want(msg, "id", (int, str))
    mutant = _want(msg, "mutant", str)
    tests = _want(msg, "tests", list)
    if not all(isinstance(t, str) for t in tests):
        raise ProtocolError("run: 'tests' must be strings")
    env = _want(msg, "env", dict, required=False) or {}
    if not all(isinstance(k, str) and isinstance(v, str) and "=" not in k and k for k, v in env.items()):
        raise ProtocolError("run: 'env' must map names to strings")
    procs = _want(msg, "cgroup_procs", list, required=False) or []
    if not all(isinstance(p, str) and p.startswith("/") for p in procs):
        raise ProtocolError("run: 'cgroup_procs' must be absolute paths")
    mem = _want(msg, "memory_limit_bytes", int, required=False)
    timeout = _want(msg, "timeout_s", (int, float), required=False)
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise ProtocolError("run: 'timeout_s' must be positive")
    output = _want(msg, "output", str, required=False)
    failure_report = _want(msg, "failure_report", str, required=False)
    return dict(id=rid, mutant=mutant, tests=tests, env=env, cgroup_procs=procs,
                memory_limit_bytes=mem, timeout_s=timeout, output=output, failure_report=failure_report)


# --------------------------------------------------------------- warm-up


class Warm:
    """What the warm-up produced and the children use."""

    def __init__(self) -> None:
        self.runner = None            # mutmut PytestRunner
        self.duration_by_test: dict[str, float] = {}
        self.project = ""             # absolute project root (mutmut's cwd)
        self.session = None           # pytest Session (collected strategy)
        self.items_by_id: dict = {}
        self.use_setproctitle = False
        self.setproctitle = None
        self.child_stdout = None      # text files on fds 1 and 2 for the children
        self.child_stderr = None
        # mutmut function keys the zygote's configure/collection/session start
        # ran (collected strategy): their mutants run the pytest-main way.
        self.collection_functions: set[str] = set()
        # Where pytest's capture keeps the zygote's fds 1 and 2 (collected):
        # a child points them at its own log too (redirect_output).
        self.saved_stdio_fds: tuple[int, ...] = ()
        self.set_mutant_under_test = None  # mutmut's, looked up once
        self.change_cwd = None


def common_warmup(project: str, warm: Warm) -> None:
    os.chdir(project)
    warm.project = os.getcwd()
    from mutmut.configuration import config
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.runners.harness import PytestRunner
    from mutmut.state import state
    from mutmut.stats import load_stats
    from mutmut.utils.file_utils import setup_source_paths

    if not os.path.isdir("mutants"):
        raise RuntimeError(f"{project}: no mutants/ directory (run mutmut's preparation first)")
    config()
    setup_source_paths()
    if not load_stats():
        raise RuntimeError(f"{project}/mutants/mutmut-stats.json: missing or not JSON")
    # mutmut's children inherit these from the stats run in the parent.
    os.environ["PY_IGNORE_IMPORTMISMATCH"] = "1"
    os.environ["MUTMUT_DEPENDENCY_DEPTH"] = str(config().dependency_tracking_depth)
    set_mutant_under_test("")
    warm.set_mutant_under_test = set_mutant_under_test
    from mutmut.utils.file_utils import change_cwd
    warm.change_cwd = change_cwd
    warm.runner = PytestRunner()
    warm.duration_by_test = dict(state().duration_by_test)
    warm.use_setproctitle = bool(config().use_setproctitle)
    if warm.use_setproctitle:
        try:
            from setproctitle import setproctitle
            warm.setproctitle = setproctitle
        except ImportError:
            warm.setproctitle = None


# ---------------------------------------------------------------- children


try:  # loaded once in the zygote, so children pay nothing for it
    import ctypes
    _LIBC = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    _LIBC = None


def die_with_parent() -> None:
    """SIGKILL when the zygote dies (it dies with mutcell), so a killed run's
    tests do not outlive it; where prctl is unavailable the next run's cgroup
    clean-up still kills them."""
    if _LIBC is not None:
        PR_SET_PDEATHSIG = 1
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def join_cells(paths: list[str]) -> bool:
    """Writes "0" (the writer itself) into each file: a forked child has one
    thread, so on cgroup v1 `tasks` this moves the whole process without the
    kernel's global threadgroup lock (and its RCU grace period) that a
    cgroup.procs write takes; on v2 cgroup.procs reads 0 the same way."""
    for p in paths:
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        except OSError:
            return False
    return True


class FirstFailure:
    """pytest plugin: the node id of the first test whose report failed
    (setup, call or teardown), which with -x is the one that stopped the
    run. The child reports it for mutcell's killer-first test order."""

    def __init__(self) -> None:
        self.nodeid = None

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed and self.nodeid is None:
            self.nodeid = report.nodeid


FIRST_FAILURE = FirstFailure()


def write_failure_report(req: dict, warm: Warm) -> None:
    if not req.get("failure_report") or FIRST_FAILURE.nodeid is None:
        return
    try:
        fd = os.open(os.path.join(warm.project, req["failure_report"]),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, str(FIRST_FAILURE.nodeid).encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass  # only a hint for the order of later mutants


def child_main(req: dict, warm: Warm, strategy: str, close_fds: list[int]) -> None:
    """Runs in the forked child; never returns."""
    code = CHILD_SETUP_FAILED
    try:
        # The cell first: everything after this is charged to the cell.
        if not join_cells(req["cgroup_procs"]):
            os._exit(CHILD_JOIN_FAILED)
        os.setpgid(0, 0)
        die_with_parent()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in close_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        redirect_output(req["output"], warm)
        # Made once in the zygote (never written there): the same fds 1 and 2.
        sys.stdout, sys.stderr = warm.child_stdout, warm.child_stderr
        for k, v in req["env"].items():
            os.environ[k] = v
        name = req["mutant"]
        warm.set_mutant_under_test(name)
        if warm.setproctitle is not None:
            try:
                warm.setproctitle(f"mutmut: {name}")
            except Exception:
                pass
        if req["timeout_s"] is not None:
            # mutmut's CPU backstop: twice the wall-clock limit, SIGXCPU then SIGKILL.
            limit = math.ceil(req["timeout_s"] * 2) + int(time.process_time())
            resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
        # In mutcell's order: killer-first, then fastest first (the same set).
        tests = list(req["tests"])
        FIRST_FAILURE.nodeid = None
        code = 1  # an exception escaping the tests ends mutmut's child with 1 too
        collected = (strategy == "collected" and warm.session is not None
                     and all(t in warm.items_by_id for t in tests))
        if collected and not runs_at_collection(warm, name):
            code = run_collected_child(warm, tests)
        else:
            code = run_pytest_main_child(warm, tests)
            if code == 4 and collected:
                # Every selected test was in the unmutated collection, and the
                # mutant's function runs while pytest collects: with the mutant
                # a selected test is gone (its parameters or id came from the
                # mutated code). That is the mutant's doing, not the
                # environment's: killed, as mutmut counts it.
                print("mutcell: a selected test is gone from the collection with this mutant active "
                      "(its function runs while pytest collects): killed", file=sys.stderr)
                code = 1
    except BaseException:
        try:
            traceback.print_exc()
        except Exception:
            pass
    finally:
        try:
            write_failure_report(req, warm)
        except Exception:
            pass
        for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                f.flush()
            except Exception:
                pass
        os._exit(child_exit_status(code))


def child_exit_status(code) -> int:
    """The child's exit status for pytest's exit code `code` (see
    CHILD_PYTEST_STATUS_BASE)."""
    if not isinstance(code, int) or not 0 <= code <= 255:
        return 1
    return CHILD_PYTEST_STATUS_BASE + code if code in PYTEST_DID_NOT_RUN else code


def redirect_output(output: str | None, warm: Warm) -> None:
    """Points the child's fds 1 and 2 at the attempt's own log, and the fds
    where pytest's capture keeps the zygote's stdout and stderr too: after a
    captured test pytest dup2s those back onto 1 and 2, which would send the
    rest of this attempt's output (its report) into the zygote's log."""
    # Relative to the project: the collected strategy serves from mutants/.
    out = os.path.join(warm.project, output) if output else os.devnull
    ofd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    for fd in (1, 2) + warm.saved_stdio_fds:
        os.dup2(ofd, fd, inheritable=fd <= 2)
    os.close(ofd)


def run_pytest_main_child(warm: Warm, tests: list[str]) -> int:
    """mutmut's child: a fresh pytest.main on the mutant's tests, with the
    per-mutant work that is not part of the verdict off (verdict_only_plugin).
    pytest's exit code."""
    from mutmut.runners.harness import BadTestExecutionCommandsException

    os.chdir(warm.project)
    try:
        with warm.change_cwd("mutants"):
            # What PytestRunner.run_tests does, plus the plugin.
            return warm.runner.execute_pytest(warm.runner._pytest_args_regular_run(tests),
                                              plugins=[verdict_only_plugin(), FIRST_FAILURE])
    except BadTestExecutionCommandsException:
        return 4  # mutmut turns pytest's usage error into this exception


def run_collected_child(warm: Warm, tests: list[str]) -> int:
    """run_collected, with what pytest.main would make of an exception that
    escapes the run protocol, and the report pytest would print at the end
    of the session (which the collected strategy does not run), so the
    attempt's log shows why its tests failed."""
    from _pytest.outcomes import Exit

    try:
        code = run_collected(warm, tests)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 2
    except Exit as e:  # pytest.exit(): its return code, else "interrupted"
        print(f"!!! pytest.exit: {e.msg} !!!", file=sys.stderr)
        code = e.returncode if e.returncode is not None else 2
    except BaseException:
        print("INTERNALERROR (mutcell's collected strategy):", file=sys.stderr)
        traceback.print_exc()
        code = 3
    if code != 0:
        print_collected_summary(warm)
    return code


def print_collected_summary(warm: Warm) -> None:
    tr = warm.session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return
    try:
        tr.summary_errors()
        tr.summary_failures()
        tr.short_test_summary()
        tr._tw.flush()
    except Exception:
        traceback.print_exc()


def verdict_only_plugin():
    """A pytest plugin that turns off what a pytest run does besides deciding
    the verdict and that would otherwise happen once per mutant: pytest-cov's
    measurement and report (as --no-cov does; an option would be an unknown
    argument where pytest-cov is not installed) and junitxml's report. Used
    for the zygote's own pytest run and every pytest-main child; the clean
    run (mutmut's preparation) keeps them."""
    import pytest

    class VerdictOnly:
        @pytest.hookimpl(wrapper=True)
        def pytest_load_initial_conftests(self, early_config, parser, args):
            # pytest-cov decides here, from this namespace, whether to start.
            early_config.known_args_namespace.no_cov = True
            return (yield)

        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(self, config):
            if getattr(config.option, "no_cov", None) is not None:
                config.option.no_cov = True
            if getattr(config.option, "xmlpath", None):
                config.option.xmlpath = None

    return VerdictOnly()


def spare_main(req_fd: int, warm: Warm, strategy: str, close_fds: list[int], zygote: int) -> None:
    """A child forked ahead of its request, so that the fork and Python's
    after-fork work are done while the previous mutant runs. It waits in the
    zygote's cell, running nothing of the project, until the zygote writes
    the validated request into its pipe and closes it; then it is
    child_main (the cell first). EOF without a request (the zygote is
    draining, failing or gone): it exits quietly. Never returns."""
    try:
        die_with_parent()
        if os.getppid() != zygote:
            os._exit(0)
        data = bytearray()
        while True:
            try:
                chunk = os.read(req_fd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                break
            data += chunk
        os.close(req_fd)
        if not data:
            os._exit(0)
        req = json.loads(data)
    except BaseException:
        os._exit(CHILD_SETUP_FAILED)
    child_main(req, warm, strategy, close_fds)


def function_key(mutant: str) -> str:
    """mutmut's mangled function name of a mutant ("m.x_f__mutmut_3" -> "m.x_f")."""
    return mutant.partition("__mutmut_")[0]


def runs_at_collection(warm: Warm, mutant: str) -> bool:
    """True when the mutant's function ran while pytest configured, collected
    or started the session (conftest hooks such as pytest_sessionstart,
    pytest_generate_tests or pytest_collection_modifyitems calling the code
    under test). A fresh pytest.main runs that code again with the mutant
    active; items collected once in the zygote never would, so such a mutant
    runs the pytest-main way (docs/strategies.md)."""
    return function_key(mutant) in warm.collection_functions


def functions_a_new_session_runs(warm: Warm, params: list[str]) -> set[str] | None:
    """Which functions of the code under test a new pytest.main in this
    process runs before its first test: what a pytest-main child (and each
    of mutmut's children) runs again with its mutant active. The zygote's
    own collection records more: its first import of the test modules
    runs their module-level code, which a later pytest.main in the same
    process does not run again (the modules are in sys.modules), so
    mutmut's children see that code's unmutated results too, and those
    mutants can run collected. Measured, not inferred: a forked child runs
    `pytest --collect-only` (configure, conftest imports, collection and
    its hooks, session start and finish) with mutmut's stats recording,
    and reports what ran; nothing of it touches the zygote. None when it
    cannot tell (the caller keeps the zygote's own set)."""
    from mutmut.state import state

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            die_with_parent()
            state()._stats.clear()
            warm.set_mutant_under_test("stats")
            warm.runner.execute_pytest(["--collect-only", "-qq"] + params, plugins=[verdict_only_plugin()])
            data = json.dumps(sorted(state()._stats)).encode()
            while data:
                data = data[os.write(w, data):]
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(r, 65536)
            except InterruptedError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        log(f"the re-collection pass ended with status {status}; functions run at collection time "
            "are taken from the zygote's own collection")
        return None
    try:
        names = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return {n for n in names if isinstance(n, str)}


def run_collected(warm: Warm, tests: list[str]) -> int:
    """Runs pre-collected items through pytest's run protocol, like `-x`:
    stops at the first failing item. Returns the exit code pytest.main would.

    As a fresh `pytest.main(tests)` does, the selected items go through the
    pytest_collection_modifyitems hooks again (a project's reordering hook,
    pytest's own reordering by higher-scoped parametrized fixtures), and the
    session's item list is the selection."""
    session = warm.session
    config = session.config
    hook = config.hook
    items = [warm.items_by_id[t] for t in tests]
    before = session.testsfailed
    from _pytest.outcomes import Exit

    try:
        hook.pytest_collection_modifyitems(session=session, config=config, items=items)
        session.items = items
        session.testscollected = len(items)
        for i, item in enumerate(items):
            nextitem = items[i + 1] if i + 1 < len(items) else None
            hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            if session.testsfailed > before or session.shouldfail or session.shouldstop:
                try:
                    session._setupstate.teardown_exact(None)
                except Exception:
                    pass
                break
    except Exit as e:
        # pytest.exit() in a test: pytest.main returns its code (default 2, interrupted).
        return e.returncode if e.returncode is not None else 2
    except KeyboardInterrupt:
        return 2
    if not items:
        return 5
    if session.shouldstop and session.testsfailed == before:
        return 2
    return 1 if session.testsfailed > before else 0


def prewarm_items(warm: Warm) -> None:
    """What pytest computes lazily on an item's first run and caches (its
    `location`, with the session's relative-path cache): computed once here,
    before the GC freeze, instead of in every child (a fifth of a no-op
    child's time in the run protocol)."""
    for item in warm.items_by_id.values():
        try:
            item.location
        except Exception:
            pass  # the child's run reports it as pytest would


def prewarm_linecache(warm: Warm) -> int:
    """The source lines a failing test's traceback shows (mutmut runs
    pytest with --tb=native: a line of every frame from pytest's run
    protocol through pluggy to the test and the code under test), read once
    here instead of in every killed child: about ten files per traceback,
    among them mutmut's mutated modules, which hold every mutant's copy of
    each function. The files of the modules loaded now under the project
    (mutmut's mutants/ tree and the tests) and of pytest, pluggy and mutmut
    (its trampoline is a frame of every mutant's traceback); a
    child still checks each file's size and mtime (linecache.checkcache),
    so a changed file is read again. Returns the number of files read."""
    import linecache

    roots = [os.path.join(warm.project, "")]
    for name in ("_pytest", "pluggy", "mutmut"):
        mod = sys.modules.get(name)
        f = getattr(mod, "__file__", None)
        if f:
            roots.append(os.path.join(os.path.dirname(f), ""))
    roots_t = tuple(roots)
    n = 0
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if isinstance(f, str) and f.endswith(".py") and f.startswith(roots_t):
            if linecache.getlines(f):
                n += 1
    return n


class ChildReports:
    """pytest plugin, collected strategy: what the terminal reporter keeps of
    a child's test reports for the failure summary printed at its end
    (print_collected_summary), without its per-test progress output, which
    nobody reads in a child. Plain passes are not kept: the summary of a
    child shows failures, errors, skips and xfails."""

    def __init__(self, tr) -> None:
        self.tr = tr

    def pytest_runtest_logreport(self, report) -> None:
        if report.passed and not hasattr(report, "wasxfail"):
            return
        tr = self.tr
        res = tr.config.hook.pytest_report_teststatus(report=report, config=tr.config)
        tr._add_stats(res[0], [report])


# Per-test hook implementations a collected child does not need: each runs
# (through pluggy) three or four times per test, and nothing a test or a
# verdict depends on reads what they do in a child.
#  - terminalreporter: progress letters and file names written to the
#    attempt's log, and report statistics for the session's end summary
#    (ChildReports keeps those the child's failure summary needs).
#  - lfplugin (cacheprovider's --lf): updates the last-failed set that only
#    the session's end writes to the cache, and no child ends the session.
#  - logging-plugin's logstart/logreport/logfinish: they only tell the live
#    log (log_cli) which phase it is in; taken out only while live logging
#    is off (its handler then does nothing). Its setup/call/teardown hooks,
#    which caplog and the reports' captured logs need, stay.
LEAN_CHILD_HOOKS = (
    ("terminalreporter", ("pytest_runtest_logstart", "pytest_runtest_logreport", "pytest_runtest_logfinish")),
    ("lfplugin", ("pytest_runtest_logreport",)),
    ("logging-plugin", ("pytest_runtest_logstart", "pytest_runtest_logreport", "pytest_runtest_logfinish")),
)


def live_logging_off(plugin) -> bool:
    try:
        from _pytest.logging import _LiveLoggingNullHandler
    except ImportError:
        return False
    return isinstance(getattr(plugin, "log_cli_handler", None), _LiveLoggingNullHandler)


def lean_child_reporting(warm: Warm) -> None:
    """Takes LEAN_CHILD_HOOKS out of the zygote's session (collected
    strategy), once before the children are forked; where the names or
    pluggy's API differ (other versions) it leaves everything as it is."""
    if warm.session is None:
        return
    pm = warm.session.config.pluginmanager
    tr = pm.get_plugin("terminalreporter")
    try:
        if tr is None or not callable(getattr(tr, "_add_stats", None)):
            return  # without the reporter or its statistics the child's summary needs it whole
        callers = []
        for name, hooks in LEAN_CHILD_HOOKS:
            plugin = pm.get_plugin(name)
            if plugin is None or (name == "logging-plugin" and not live_logging_off(plugin)):
                continue
            for h in hooks:
                caller = getattr(pm.hook, h, None)
                if caller is not None and any(i.plugin is plugin for i in caller.get_hookimpls()):
                    callers.append((caller, plugin))
        if not all(callable(getattr(c, "_remove_plugin", None)) for c, _ in callers):
            return
        pm.register(ChildReports(tr), "mutcell-child-reports")
        for caller, plugin in callers:
            caller._remove_plugin(plugin)
    except Exception:
        log("lean child reporting: pytest's or pluggy's internals differ; children report as pytest does")
        traceback.print_exc()


def fast_argnames_of_parameterless_functions() -> bool:
    """pytest makes a new FixtureDef for the `request` fixture every time a
    fixture asks for it (RequestFixtureDef, around a lambda without
    parameters; every directly parametrized argument is such a fixture), and
    each FixtureDef computes its function's argument names through
    inspect.signature: several times per test, about a third of the run
    protocol's cost for a parametrized test. For a plain function without
    any parameter (no positional, keyword-only, *args or **kwargs, no
    __wrapped__ or __signature__ that inspect.signature would follow) the
    answer is always the empty tuple; every other function goes pytest's
    own way. Done once in the zygote (collected strategy), before it forks;
    where pytest's internals differ it changes nothing."""
    try:
        import inspect
        import types

        import _pytest.fixtures as fixtures

        original = fixtures.getfuncargnames
        if getattr(original, "__mutcell_fast__", False):
            return True
        if not callable(original) or original(lambda: None) != ():
            return False
        function_type = types.FunctionType
        no_parameters_flags = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS

        def getfuncargnames(function, *, name="", cls=None):
            if type(function) is function_type:
                code = function.__code__
                if not (code.co_argcount or code.co_kwonlyargcount or code.co_posonlyargcount
                        or code.co_flags & no_parameters_flags):
                    d = function.__dict__
                    if "__wrapped__" not in d and "__signature__" not in d:
                        return ()
            return original(function, name=name, cls=cls)

        getfuncargnames.__mutcell_fast__ = True
        getfuncargnames.__wrapped_original__ = original
        fixtures.getfuncargnames = getfuncargnames
        return True
    except Exception:
        log("fast argument names: pytest's internals differ; children use pytest's own")
        return False


def precomputed_param_argkeys(items) -> bool:
    """pytest's fixtures plugin reorders a session's items by their
    higher-scoped parameters in pytest_collection_modifyitems, which a
    collected child runs again on its selection (as pytest.main(tests)
    would), and recomputes every item's parameter keys for every higher
    scope each time: about 2.5 ms per child of a few dozen parametrized
    tests. The keys are fixed once an item is collected, so the zygote
    computes them once (pytest's own get_param_argkeys) and a child looks
    them up; an item the zygote does not know goes pytest's own way. The
    order pytest computes from them is unchanged. Where pytest's internals
    differ it changes nothing."""
    try:
        import _pytest.fixtures as fixtures

        original = fixtures.get_param_argkeys
        if getattr(original, "__mutcell_fast__", False):
            return True
        scopes = tuple(fixtures.HIGH_SCOPES)
        known = {}
        for item in items:
            for scope in scopes:
                known[(id(item), scope)] = (item, tuple(original(item, scope)))

        def get_param_argkeys(item, scope):
            hit = known.get((id(item), scope))
            if hit is not None and hit[0] is item:
                return iter(hit[1])
            return original(item, scope)

        get_param_argkeys.__mutcell_fast__ = True
        fixtures.get_param_argkeys = get_param_argkeys
        return True
    except Exception:
        log("precomputed parameter keys: pytest's internals differ; children compute them as pytest does")
        return False


def saved_stdio_fds(session) -> tuple[int, ...]:
    """The fds where pytest's global capture (collected strategy: the
    zygote's session) saved fds 1 and 2; () when it captures no fds."""
    if session is None:
        return ()
    capman = session.config.pluginmanager.get_plugin("capturemanager")
    multi = getattr(capman, "_global_capturing", None)
    fds = []
    for cap in (getattr(multi, "out", None), getattr(multi, "err", None)):
        fd = getattr(cap, "targetfd_save", None)
        if isinstance(fd, int) and fd > 2:
            fds.append(fd)
    return tuple(fds)


# ------------------------------------------------------- PID namespace


def in_own_pid_namespace() -> bool:
    """Whether mutcell started this zygote as PID 1 of its own PID namespace:
    /proc is still the host's, so its pid there differs from getpid()."""
    try:
        return int(os.readlink("/proc/self")) != os.getpid()
    except (OSError, ValueError):
        return False


def outside_pid(pid: int) -> int:
    """`pid` (of a child, as this namespace numbers it) as mutcell and /proc
    number it: a pidfd's fdinfo gives the pid in the namespace of the /proc
    it is read from (Linux 5.3). 0 where that fails."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return 0
    try:
        with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    finally:
        os.close(fd)
    return 0


def check_pid_translation() -> str:
    """'' when pids can be reported in mutcell's numbering (always, outside a
    namespace), else why not."""
    if not in_own_pid_namespace():
        return ""
    if outside_pid(os.getpid()) != int(os.readlink("/proc/self")):
        return ("in its own PID namespace but cannot translate its children's pids for mutcell "
                "(needs Linux 5.3 and Python 3.9 for pidfd_open); set pid_namespace = \"off\"")
    return ""


# ------------------------------------------------------------- serve loop


class Server:
    def __init__(self, chan: Channel, warm: Warm, strategy: str, generation: int,
                 warmup_s: float, strategy_note: str) -> None:
        self.chan = chan
        self.warm = warm
        self.strategy = strategy
        self.generation = generation
        self.warmup_s = warmup_s
        self.strategy_note = strategy_note
        self.running: dict[int, object] = {}   # pid -> request id
        self.ids: set = set()                   # request ids ever seen
        self.served = 0
        self.draining = False
        self.eof = False                        # the peer closed after shutdown
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.pid = os.getpid()
        self.namespaced = in_own_pid_namespace()  # pids reported translated (see outside_pid)
        self.shown: dict[int, int] = {}         # pid -> as reported (mutcell's numbering)
        self.spare: tuple[int, int] | None = None  # (pid, write end of its request pipe)
        self.spare_wanted = True                # cleared by a failed fork until the next run

    def ready(self) -> None:
        import mutmut
        msg = {
            "type": "ready", "protocol": PROTOCOL_VERSION, "pid": os.getpid(),
            "generation": self.generation, "rss_bytes": rss_bytes(),
            "strategy": self.strategy, "warmup_s": round(self.warmup_s, 6),
            "mutmut_version": getattr(mutmut, "__version__", "?"),
            "python": ".".join(map(str, sys.version_info[:3])),
            "collected_items": len(self.warm.items_by_id),
        }
        if self.strategy_note:
            msg["note"] = self.strategy_note
        self.chan.send(msg)

    def serve(self) -> int:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        # What every child would otherwise build for itself after the fork.
        self.warm.child_stdout = open(1, "w", closefd=False)
        self.warm.child_stderr = open(2, "w", closefd=False)
        self.warm.saved_stdio_fds = saved_stdio_fds(self.warm.session)
        prewarm_items(self.warm)
        prewarm_linecache(self.warm)
        lean_child_reporting(self.warm)
        if self.warm.session is not None:
            fast_argnames_of_parameterless_functions()
            precomputed_param_argkeys(self.warm.items_by_id.values())
        for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            f.flush()  # or every child would write the zygote's pending output again
        rss_bytes()  # opens the statm fd the children close
        gc.collect()
        gc.freeze()
        self.ready()
        try:
            while True:
                self.reap()
                if self.draining and not self.running:
                    self.drop_spare()
                    return EXIT_OK
                # The spare is forked once the zygote has been idle for a moment:
                # right after a hand-off the new child is waking up, likely on
                # this CPU, and a fork here would keep it waiting.
                want_spare = self.spare is None and self.spare_wanted and not self.draining
                timeout = SPARE_IDLE_S if want_spare else 1.0
                deadline = self.chan.partial_deadline()
                if deadline is not None:
                    timeout = max(0.0, min(timeout, deadline - time.monotonic()))
                fds = [self.wake_r] if self.eof else [self.chan, self.wake_r]
                try:
                    readable, _, _ = select.select(fds, [], [], timeout)
                except InterruptedError:
                    continue
                if not readable and want_spare:
                    self.make_spare()
                    continue
                if self.wake_r in readable:
                    try:
                        while os.read(self.wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                if self.chan in readable:
                    eof = self.chan.read_available()
                    for msg in self.chan.messages():
                        self.handle(msg)
                    if eof:
                        if self.chan.buf:
                            raise ProtocolError(f"EOF inside a message ({len(self.chan.buf)} bytes pending)")
                        if not self.draining:
                            return self.peer_gone()
                        # Closed after shutdown: finish draining, as asked.
                        self.eof = True
                deadline = self.chan.partial_deadline()
                if deadline is not None and time.monotonic() > deadline:
                    raise ProtocolError("incomplete message timed out")
        except ProtocolError as e:
            log(f"protocol error: {e}")
            self.kill_children()
            return EXIT_PROTOCOL

    def handle(self, msg: dict) -> None:
        t = msg["type"]
        if self.draining:
            raise ProtocolError(f"{t!r} after shutdown")
        if t == "run":
            req = validate_run(msg)
            if req["id"] in self.ids:
                raise ProtocolError(f"run: duplicate id {req['id']!r}")
            self.ids.add(req["id"])
            self.fork(req)
        elif t == "stats":
            if set(msg) != {"type"}:
                raise ProtocolError("stats: unexpected keys")
            self.chan.send({"type": "stats", "rss_bytes": rss_bytes(), "served": self.served,
                            "running": len(self.running), "generation": self.generation})
        elif t == "shutdown":
            if set(msg) != {"type"}:
                raise ProtocolError("shutdown: unexpected keys")
            self.draining = True
        else:
            raise ProtocolError(f"unexpected message type {t!r}")

    def child_close_fds(self) -> list[int]:
        return [self.chan.fileno(), self.wake_r, self.wake_w, _statm_fd]

    def make_spare(self) -> None:
        """Forks the next request's child ahead (see spare_main)."""
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = os.fork()
        except OSError as e:
            os.close(r)
            os.close(w)
            log(f"cannot fork a spare child ({e}); forking on request")
            self.spare_wanted = False
            return
        if pid == 0:
            os.close(w)
            spare_main(r, self.warm, self.strategy, self.child_close_fds(), self.pid)
        os.close(r)
        self.spare = (pid, w)

    def hand_to_spare(self, req: dict) -> int | None:
        """Gives `req` to the spare child; its pid, or None when there is no
        spare or it died (its exit is then reaped as nobody's)."""
        if self.spare is None:
            return None
        pid, w = self.spare
        self.spare = None
        data = memoryview(json.dumps(req, separators=(",", ":")).encode())
        try:
            while data:
                try:
                    data = data[os.write(w, data):]
                except InterruptedError:
                    continue
        except OSError:
            return None
        finally:
            os.close(w)
        return pid

    def drop_spare(self) -> None:
        if self.spare is None:
            return
        pid, w = self.spare
        self.spare = None
        os.close(w)  # EOF: it would exit on its own
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def fork(self, req: dict) -> None:
        zygote_rss = rss_bytes()
        self.spare_wanted = True
        pid = self.hand_to_spare(req)
        if pid is None:
            pid = os.fork()
            if pid == 0:
                child_main(req, self.warm, self.strategy, self.child_close_fds())
        self.running[pid] = req["id"]
        self.served += 1
        # mutcell's numbering: the none backend tracks the child's process group by it.
        shown = outside_pid(pid) if self.namespaced else pid
        if shown <= 0:
            raise ProtocolError(f"cannot translate child pid {pid} out of the zygote's PID namespace")
        self.shown[pid] = shown
        self.chan.send({"type": "started", "id": req["id"], "pid": shown, "rss_bytes": zygote_rss,
                        "served": self.served})

    def reap(self) -> None:
        # Every child, not only the ones it forked: as PID 1 of its own PID
        # namespace the zygote inherits its mutants' orphans, and a zombie
        # would hold a pid of the cell's pids.max until the zygote ends.
        while True:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            rid = self.running.pop(pid, None)
            if rid is None:
                if self.spare is not None and pid == self.spare[0]:
                    os.close(self.spare[1])  # it died waiting: the next fork makes another
                    self.spare = None
                continue
            msg = {"type": "exited", "id": rid, "pid": self.shown.pop(pid, pid), "exit_code": None, "signal": None,
                   "maxrss_bytes": ru.ru_maxrss * 1024, "utime_s": round(ru.ru_utime, 6),
                   "stime_s": round(ru.ru_stime, 6)}
            if os.WIFSIGNALED(status):
                msg["signal"] = os.WTERMSIG(status)
            else:
                msg["exit_code"] = os.WEXITSTATUS(status)
            self.chan.send(msg)

    def kill_children(self) -> None:
        self.drop_spare()
        for pid in list(self.running):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.running):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.running.clear()

    def peer_gone(self) -> int:
        log("mutcell closed the socket; killing children")
        self.kill_children()
        return EXIT_PEER_GONE


# ----------------------------------------------------------------- main


def make_collect_plugin(serve_cb):
    """A pytest plugin whose runtest loop is the serve loop: pytest is fully
    configured and every item collected when the zygote starts forking."""
    import pytest

    class ZygotePlugin:
        def __init__(self) -> None:
            self.result = None

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session):
            self.result = serve_cb(session)
            return True

    return ZygotePlugin()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fd", type=int, default=int(os.environ.get("MUTCELL_ZYGOTE_FD", "-1")))
    ap.add_argument("--project", default=".")
    ap.add_argument("--generation", type=int, default=0)
    ap.add_argument("--strategy", choices=STRATEGIES, default="collected")
    ap.add_argument("--log", default=None, help="zygote and pytest output (default /dev/null)")
    args = ap.parse_args(argv)
    if args.fd < 0:
        print("mutcell-zygote: --fd (or MUTCELL_ZYGOTE_FD) is required", file=sys.stderr)
        return EXIT_PROTOCOL
    try:
        os.fstat(args.fd)
    except OSError:
        print(f"mutcell-zygote: fd {args.fd} is not open", file=sys.stderr)
        return EXIT_PROTOCOL
    # mutcell owns interruption: it ends us with shutdown, EOF or SIGKILL
    # (never SIGTERM: as PID 1 of its own PID namespace the zygote would not
    # get a signal it has no handler for, and a handler would let its own
    # mutants end it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel(args.fd)
    os.set_inheritable(args.fd, False)

    logfd = os.open(args.log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(logfd, 1)
    os.dup2(logfd, 2)
    os.close(logfd)

    why = check_pid_translation()
    if why:
        log(why)
        return EXIT_WARMUP

    start = time.monotonic()
    warm = Warm()
    try:
        common_warmup(args.project, warm)
    except BaseException as e:  # SystemExit from mutmut too
        log(f"warm-up failed: {e!r}")
        traceback.print_exc()
        return EXIT_WARMUP

    from mutmut.configuration import config
    from mutmut.utils.file_utils import change_cwd

    cfg = config()
    selection = list(cfg.pytest_add_cli_args_test_selection)
    note = ""
    holder: dict = {}

    if args.strategy == "collected":
        from mutmut.mutation.trampoline import set_mutant_under_test
        from mutmut.state import state

        def serve_in_session(session):
            # What the code under test did while pytest configured, collected
            # and started the session, recorded as mutmut's stats run does.
            warm.collection_functions = set(state()._stats)
            state()._stats.clear()
            set_mutant_under_test("")
            if warm.collection_functions and not session.testsfailed:
                again = functions_a_new_session_runs(warm, pass_params)
                if again is not None:
                    warm.collection_functions &= again
            if session.testsfailed:
                holder["note"] = f"{session.testsfailed} collection errors; children use pytest.main"
            else:
                warm.session = session
                warm.items_by_id = {item.nodeid: item for item in session.items}
                if warm.collection_functions:
                    holder["note"] = ("functions run at collection time, their mutants run the pytest-main way: "
                                      + ", ".join(sorted(warm.collection_functions)))
            server = Server(chan, warm, args.strategy, args.generation,
                            time.monotonic() - start, holder.get("note", ""))
            return run_server(server)

        plugin = make_collect_plugin(serve_in_session)
        pass_params = ["-p", "no:randomly", "-p", "no:random-order"] + selection
        params = ["-x", "-q"] + pass_params
        set_mutant_under_test("stats")  # trampolines record the functions collection runs
        state()._stats.clear()
        try:
            with change_cwd("mutants"):
                warm.runner.execute_pytest(params, plugins=[plugin, verdict_only_plugin(), FIRST_FAILURE])
        except BaseException as e:
            if plugin.result is None:
                log(f"warm-up (collection) failed: {e!r}")
                return EXIT_WARMUP
        if plugin.result is None:
            log("pytest did not reach the test loop (collection failed?)")
            return EXIT_WARMUP
        return plugin.result

    try:
        with change_cwd("mutants"):
            warm.runner.execute_pytest(["--collect-only", "-qqq"] + selection, plugins=[verdict_only_plugin()])
    except BaseException as e:
        log(f"warm-up (collect-only) failed: {e!r}")
        return EXIT_WARMUP
    server = Server(chan, warm, args.strategy, args.generation, time.monotonic() - start, note)
    return run_server(server)


def run_server(server: Server) -> int:
    try:
        return server.serve()
    except PeerGone:
        return server.peer_gone()
    except BaseException:
        traceback.print_exc()
        server.kill_children()
        return EXIT_INTERNAL


if __name__ == "__main__":
    code = main(sys.argv[1:])
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)
