"""Small functions, each reached by tests through one pytest feature."""


def registry_size():
    # Called by the conftest's pytest_sessionstart (collection/session-start time).
    return 3


def scale(x):
    # Called by pytest_generate_tests: the parameters come from the code under test.
    return x * 2


def teardown_ok(n):
    # Called in a session fixture's teardown.
    return n >= 0


def shout(s):
    return s.upper() + "!"


def accumulate(store, v):
    # Order-dependent tests share `store` through a module-scoped fixture.
    tag = "acc"  # unused: its mutants survive, unless the tests run out of order
    store.append(v + 1)
    return store


def label(name):
    return "fid:" + name


def greet(word):
    return word + ", world"


def halve(n):
    """
    >>> halve(8)
    4
    """
    return n // 2


def exit_on_bad(n):
    # A test calls pytest.exit() when this answers wrong.
    return n + 1


def session_verdict(n):
    # Checked by the conftest's pytest_sessionfinish, which sets the exit status.
    return n * 10
