"""Where a zygote child's time goes: the pieces of one no-op mutant, timed in
one warm pytest session (collected like mutcell's zygote does, from inside
pytest_runtestloop).

`python profile_fork.py PROJECT_DIR [N]` (PROJECT_DIR from genproject.py
--noop; run from anywhere). Needs root for the cgroup rows (a cgroup v1
memory cgroup `mutcell-bench-prof-*` below our own, removed at the end).
Prints a JSON object: name -> list of seconds per iteration.
"""

import json
import os
import sys
import time

import pytest

MEM_ROOT = "/sys/fs/cgroup/memory"


def own_memory_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return MEM_ROOT + path.rstrip("/")
    return None


def quiet_child():
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


class Loops:
    def __init__(self, n, tests_dir):
        self.n = n
        self.tests_dir = tests_dir
        self.out = {}

    def timed(self, name, child, before=None, after=None, n=None):
        res = []
        for i in range(n or self.n):
            ctx = before(i) if before else None
            t = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    code = child(i, ctx) or 0
                except BaseException:
                    code = 1
                os._exit(code)
            os.waitpid(pid, 0)
            res.append(time.perf_counter() - t)
            if after:
                after(ctx)
        self.out[name] = res

    def pytest_runtestloop(self, session):
        import gc
        gc.collect()
        gc.freeze()
        items = session.items
        hook = session.config.hook
        self.timed("fork + _exit", lambda i, c: 0)

        def protocol(i, c):
            quiet_child()
            hook.pytest_runtest_protocol(item=items[i % len(items)], nextitem=None)
            return 1 if session.testsfailed else 0
        self.timed("fork + pytest_runtest_protocol(item) (the collected strategy's test run)", protocol)

        def runtest(i, c):
            items[i % len(items)].runtest()
        self.timed("fork + item.runtest() (the test function alone)", runtest)

        base = own_memory_cgroup()
        if base and os.geteuid() == 0:
            def mk(i):
                d = f"{base}/mutcell-bench-prof-{os.getpid()}-{i}"
                os.mkdir(d)
                with open(d + "/memory.limit_in_bytes", "w") as f:
                    f.write(str(512 << 20))
                return d

            def join(i, d):
                with open(d + "/cgroup.procs", "w") as f:
                    f.write(str(os.getpid()))

            def rm(d):
                for _ in range(100):
                    try:
                        os.rmdir(d)
                        return
                    except OSError:
                        time.sleep(0.01)
            self.timed("mkdir memory cgroup + fork + join it + _exit + rmdir", join, before=mk, after=rm)

        def main_(i, c):
            quiet_child()
            return pytest.main(["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                                items[i % len(items)].nodeid])
        self.timed("fork + pytest.main([test]) (the pytest-main strategy, mutmut's fork mode)", main_,
                   n=max(10, self.n // 10))
        return True


def main():
    project, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200
    os.chdir(project)
    sys.path.insert(0, os.path.join(project, "src"))
    loops = Loops(n, os.path.join(project, "tests"))
    saved = os.dup(1)
    quiet_child()  # pytest's own output of the warm-up
    pytest.main(["-q", "-p", "no:cacheprovider", "tests"], plugins=[loops])
    os.dup2(saved, 1)
    print(json.dumps(loops.out))


if __name__ == "__main__":
    main()
