"""The fake zygote that C++ tests of mutcell's zygote client can use."""

from __future__ import annotations

import signal
import struct
from pathlib import Path

import pytest

from test_zygote import Driver

FAKE = Path(__file__).resolve().parent / "fake_zygote.py"


def fake(tmp_path, behaviour="normal", **env) -> Driver:
    e = {"MUTCELL_FAKE_ZYGOTE": behaviour}
    e.update({k: str(v) for k, v in env.items()})
    return Driver(tmp_path, "fake", extra_env=e, script=FAKE)


def test_normal_children_behave_by_name(tmp_path):
    d = fake(tmp_path, MUTCELL_FAKE_GROWTH=1 << 20)
    try:
        ready = d.recv()
        assert ready["type"] == "ready" and ready["protocol"] == 1 and ready["generation"] == 7
        results = {}
        for i, name in enumerate(["m_exit0", "m_exit1", "m_exit33", "m_signal9", "plain"]):
            d.send({"type": "run", "id": i, "mutant": name, "tests": ["t"]})
            started = d.recv()
            assert started["rss_bytes"] == ready["rss_bytes"] + i * (1 << 20)
            exited = d.recv()
            results[name] = (exited["exit_code"], exited["signal"])
        assert results == {"m_exit0": (0, None), "m_exit1": (1, None), "m_exit33": (33, None),
                           "m_signal9": (None, signal.SIGKILL), "plain": (0, None)}
        d.send({"type": "stats"})
        assert d.recv()["served"] == 5
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


@pytest.mark.parametrize("behaviour,check", [
    ("garbage", lambda b: b[4:8] == b"\xde\xad\xbe\xef"),
    ("oversized", lambda b: struct.unpack("!I", b[:4])[0] == 2 << 20),
    ("truncated", lambda b: struct.unpack("!I", b[:4])[0] == 100 and len(b) < 104),
    ("not-json", lambda b: b[4:9] == b"hello"),
])
def test_misbehaviours_send_what_they_say(tmp_path, behaviour, check):
    d = fake(tmp_path, behaviour)
    try:
        assert d.recv()["type"] == "ready"
        d.sock.settimeout(5)
        data = d.buf
        while len(data) < 9 and behaviour != "truncated":
            data += d.sock.recv(4096)
        # The half message may have come with `ready` already.
        while behaviour == "truncated" and len(data) < 4 + len(b'{"type": "exi'):
            data += d.sock.recv(4096)
        assert check(data), data
    finally:
        d.close()


def test_die_on_run_exits_at_the_kth_request(tmp_path):
    d = fake(tmp_path, "die-on-run:2")
    try:
        assert d.recv()["type"] == "ready"
        d.send({"type": "run", "id": 1, "mutant": "exit0", "tests": []})
        assert d.recv()["type"] == "started"
        assert d.recv()["type"] == "exited"
        d.send({"type": "run", "id": 2, "mutant": "exit0", "tests": []})
        assert d.wait() == 1
    finally:
        d.close()


def test_exit_before_ready(tmp_path):
    d = fake(tmp_path, "exit-before-ready")
    try:
        assert d.wait() == 3
    finally:
        d.close()
