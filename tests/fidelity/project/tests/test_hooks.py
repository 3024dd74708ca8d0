import os
import time

from fid import core
from conftest import STATE


def test_sessionstart_state(pytestconfig):
    assert pytestconfig.fid_registry == core.registry_size()
    assert STATE["registry"] == 3
    assert os.environ["FID_SESSION"] == "started"
    assert time.strftime("%Z") == "UTC"


def test_generated(scaled):
    # The parameters came from core.scale at collection time.
    assert scaled in (core.scale(1), core.scale(2))


def test_runtest_setup_hook():
    assert os.environ["FID_CURRENT"] == "test_runtest_setup_hook"
    assert os.environ["FID_AUTOUSE"] == "yes"


def test_plugin_and_ini():
    assert core.greet(os.environ["FID_GREETING"]) == "hello, world"


def test_session_fixture(session_resource):
    assert session_resource["n"] == 1
    # teardown_ok only runs at teardown: exercise it here too so mutmut maps it.
    assert core.teardown_ok(0)


def test_sessionfinish_check():
    STATE["finish_check"] = core.session_verdict(1)
