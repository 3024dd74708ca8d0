#!/usr/bin/env python3
"""A fake zygote for testing mutcell's side of docs/zygote-protocol.md: no
mutmut, no pytest, instant warm-up, and misbehaviour on request.

    python3 fake_zygote.py --fd N [--generation G] [anything else is ignored]

Environment:
  MUTCELL_FAKE_ZYGOTE   the behaviour (default "normal"):
    normal              protocol v1, children behave by mutant name (below)
    garbage             ready, then 16 bytes that are not a message
    oversized           ready, then a header announcing 2 MiB
    truncated           ready, then half a message, then silence (socket open)
    truncated-eof       ready, then half a message, then exit 0
    truncated-eof-late  ready, then nothing until SIGUSR1 (sent by a test that has
                        read `ready`), then half a message, then exit 0
    not-json            ready, then a well-framed message that is not JSON
    wrong-protocol      ready with "protocol": 99
    unknown-id          ready; answers the first run with "exited" for id 999999
    never-ready         sleeps without sending anything
    exit-before-ready   exits 3 at once
    kill-self-before-ready  SIGKILLs itself before ready (killed from outside during warm-up;
                        only without a PID namespace: as PID 1 of its own, SIGKILL to itself is dropped)
    die-on-run:K        exits 1 when the K-th run arrives (after K-1 served)
    kill-self-on-run:K  dies by a signal when the K-th run arrives (SIGKILL; as PID 1
                        of its own PID namespace, where that is dropped, a segfault)
  MUTCELL_FAKE_RSS      reported rss_bytes at ready (default 50 MiB)
  MUTCELL_FAKE_GROWTH   added to the reported rss_bytes per child served (default 0)
  MUTCELL_FAKE_BAD_GENERATIONS  only generations up to this one misbehave (default: all)
  MUTCELL_FAKE_GOOD_GENERATIONS generations up to this one behave normally (default: none)

Children (normal), by substring of the mutant name, after joining cgroup_procs:
  "nap<MS>"  sleep MS milliseconds first, then as below;  "killzygote"  SIGKILL
  the zygote (the child's parent: a hostile mutant);  "exit<N>"  exit N;
  "sleep"  sleep forever;  "alloc"  allocate 1 MiB/turn forever;
  "signal<N>"  kill itself with signal N;  otherwise exit 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sandbox" / "zygote"))
import mutcell_zygote as z  # noqa: E402


def child(req: dict) -> None:
    if not z.join_cells(req.get("cgroup_procs") or []):
        os._exit(z.CHILD_JOIN_FAILED)
    os.setpgid(0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    name = req["mutant"]
    m = re.search(r"nap(\d+)", name)
    if m:
        time.sleep(int(m.group(1)) / 1000)
    if "killzygote" in name:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(5)
        os._exit(0)
    m = re.search(r"exit(\d+)", name)
    if m:
        os._exit(int(m.group(1)))
    m = re.search(r"signal(\d+)", name)
    if m:
        os.kill(os.getpid(), int(m.group(1)))
        time.sleep(5)
        os._exit(0)
    if "sleep" in name:
        while True:
            time.sleep(60)
    if "alloc" in name:
        keep = []
        while True:
            keep.append(bytearray(1 << 20))
    os._exit(0)


def main() -> int:
    fd, generation = -1, 0
    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a == "--fd" and i + 1 < len(args):
            fd = int(args[i + 1])
        if a == "--generation" and i + 1 < len(args):
            generation = int(args[i + 1])
    if fd < 0:
        fd = int(os.environ.get("MUTCELL_ZYGOTE_FD", "-1"))
    behaviour = os.environ.get("MUTCELL_FAKE_ZYGOTE", "normal")
    # Generations after the first N behave, so a replacement can be seen serving.
    if generation > int(os.environ.get("MUTCELL_FAKE_BAD_GENERATIONS", "1000000")):
        behaviour = "normal"
    if generation <= int(os.environ.get("MUTCELL_FAKE_GOOD_GENERATIONS", "0")):
        behaviour = "normal"
    rss = int(os.environ.get("MUTCELL_FAKE_RSS", str(50 << 20)))
    growth = int(os.environ.get("MUTCELL_FAKE_GROWTH", "0"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if behaviour == "truncated-eof-late":
        # Blocked before `ready` goes out, so a SIGUSR1 sent as soon as the
        # test reads it is kept pending for sigwait below, never lost.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})

    if behaviour == "exit-before-ready":
        return z.EXIT_WARMUP
    if behaviour == "kill-self-before-ready":
        os.kill(os.getpid(), signal.SIGKILL)
    if behaviour == "never-ready":
        while True:
            time.sleep(60)
    sock = socket.socket(fileno=fd)

    def send(msg: dict) -> None:
        sock.sendall(z.encode(msg))

    ready = {"type": "ready", "protocol": 99 if behaviour == "wrong-protocol" else z.PROTOCOL_VERSION,
             "pid": os.getpid(), "generation": generation, "rss_bytes": rss, "strategy": "fake"}
    send(ready)
    if behaviour == "garbage":
        sock.sendall(b"\xde\xad\xbe\xef" * 4)
    elif behaviour == "oversized":
        sock.sendall(struct.pack("!I", 2 << 20) + b"{" * 100)
    elif behaviour in ("truncated", "truncated-eof", "truncated-eof-late"):
        if behaviour == "truncated-eof-late":
            # The test has read `ready` alone when it signals: no sleep, which
            # a slow or loaded machine can outlast.
            signal.sigwait({signal.SIGUSR1})
        sock.sendall(struct.pack("!I", 100) + b'{"type": "exi')
        if behaviour != "truncated":
            return 0
    elif behaviour == "not-json":
        sock.sendall(struct.pack("!I", 5) + b"hello")
    if behaviour in ("garbage", "oversized", "truncated", "not-json"):
        while True:
            time.sleep(60)

    die_on = kill_on = 0
    if behaviour.startswith("die-on-run:"):
        die_on = int(behaviour.split(":")[1])
    if behaviour.startswith("kill-self-on-run:"):
        kill_on = int(behaviour.split(":")[1])

    sock.setblocking(False)
    chan = z.Channel.__new__(z.Channel)
    chan.sock, chan.buf, chan.partial_since = sock, bytearray(), None
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    running: dict[int, object] = {}
    served = 0
    draining = False
    import select
    while True:
        while running:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            rid = running.pop(pid, None)
            if rid is None:
                continue
            msg = {"type": "exited", "id": rid, "pid": pid, "exit_code": None, "signal": None,
                   "maxrss_bytes": ru.ru_maxrss * 1024, "utime_s": ru.ru_utime, "stime_s": ru.ru_stime}
            if os.WIFSIGNALED(status):
                msg["signal"] = os.WTERMSIG(status)
            else:
                msg["exit_code"] = os.WEXITSTATUS(status)
            send(msg)
        if draining and not running:
            return 0
        readable, _, _ = select.select(([] if draining else [chan]) + [wake_r], [], [], 1.0)
        try:
            while os.read(wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        if chan not in readable:
            continue
        eof = chan.read_available()
        msgs = chan.messages()
        if eof and not msgs:
            for pid in running:
                os.kill(pid, signal.SIGKILL)
            return z.EXIT_PEER_GONE
        for msg in msgs:
            if msg["type"] == "shutdown":
                draining = True
            elif msg["type"] == "stats":
                send({"type": "stats", "rss_bytes": rss + served * growth, "served": served,
                      "running": len(running), "generation": generation})
            elif msg["type"] == "run":
                if die_on and served + 1 == die_on:
                    return 1
                if kill_on and served + 1 == kill_on:
                    os.kill(os.getpid(), signal.SIGKILL)
                    import ctypes
                    ctypes.string_at(0)  # still here: PID 1 of a namespace; a fault is never dropped
                if behaviour == "unknown-id":
                    send({"type": "exited", "id": 999999, "pid": 1, "exit_code": 0, "signal": None,
                          "maxrss_bytes": 0, "utime_s": 0, "stime_s": 0})
                    continue
                pid = os.fork()
                if pid == 0:
                    child(msg)
                served += 1
                running[pid] = msg["id"]
                shown = z.outside_pid(pid) if z.in_own_pid_namespace() else pid
                send({"type": "started", "id": msg["id"], "pid": shown,
                      "rss_bytes": rss + (served - 1) * growth, "served": served})
            else:
                return z.EXIT_PROTOCOL


if __name__ == "__main__":
    sys.exit(main())
