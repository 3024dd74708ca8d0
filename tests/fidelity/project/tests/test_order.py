import time

from fid import core


def test_second(module_resource):
    # Needs test_first's entry in the module fixture: right only in the hook's order.
    assert core.accumulate(module_resource, 1) == [2, 2]


def test_first(module_resource):
    time.sleep(0.2)  # slower: mutmut's duration order names it after test_second
    assert core.accumulate(module_resource, 1) == [2]
