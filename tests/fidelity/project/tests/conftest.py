import locale
import os
import time

import pytest

from fid import core

STATE = {}
TEARDOWN_LOG = []


def pytest_sessionstart(session):
    # Global state patched at session start, from the code under test.
    STATE["registry"] = core.registry_size()
    session.config.fid_registry = core.registry_size()
    os.environ["FID_SESSION"] = "started"
    os.environ["TZ"] = "UTC"
    time.tzset()
    locale.setlocale(locale.LC_ALL, "C")


def pytest_generate_tests(metafunc):
    if "scaled" in metafunc.fixturenames:
        metafunc.parametrize("scaled", [core.scale(1), core.scale(2)])


def pytest_collection_modifyitems(session, config, items):
    # Order-dependent tests: "first" must run before "second", whatever order they are named in.
    items.sort(key=lambda it: 0 if "first" in it.name else (1 if "second" in it.name else 2))


def pytest_runtest_setup(item):
    os.environ["FID_CURRENT"] = item.name


def pytest_sessionfinish(session, exitstatus):
    # A session-end check that changes the verdict.
    if STATE.get("finish_check") is not None and STATE["finish_check"] != 10:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def session_resource():
    yield {"n": 1}
    assert core.teardown_ok(1)


@pytest.fixture(scope="module")
def module_resource():
    return []


@pytest.fixture(autouse=True)
def autoused(monkeypatch):
    monkeypatch.setenv("FID_AUTOUSE", "yes")
