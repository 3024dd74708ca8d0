"""What the zygote replaces in pytest before it forks (collected strategy),
checked against pytest's own: the same answers, less work."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from unittest import mock

import pytest

import _pytest.compat as compat
import _pytest.fixtures as fixtures

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sandbox" / "zygote"))
import mutcell_zygote as z  # noqa: E402


def no_params():
    return 1


def one(a):
    return a


def defaulted(a=1):
    return a


def star(*args):
    return args


def kw(**kwargs):
    return kwargs


def kwonly(*, k):
    return k


def posonly(a, /):
    return a


@mock.patch("os.getcwd")
def patched(m):
    return m


def with_signature():
    return 1


with_signature.__signature__ = __import__("inspect").signature(one)


class Holder:
    def method(self):
        return self

    @staticmethod
    def static():
        return 1

    def no_self():  # noqa: N805 (on purpose: a method without self)
        return 1


FUNCTIONS = [no_params, lambda: 1, one, defaulted, star, kw, kwonly, posonly, patched, with_signature,
             functools.partial(one, 1), Holder().method, Holder.method, Holder.static, Holder.no_self, len]


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(fixtures, "getfuncargnames", fixtures.getfuncargnames)  # restored afterwards
    original = fixtures.getfuncargnames
    assert z.fast_argnames_of_parameterless_functions()
    assert fixtures.getfuncargnames is not original
    return original


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: getattr(f, "__name__", repr(f)))
@pytest.mark.parametrize("cls", [None, Holder])
def test_argument_names_are_pytests_for_every_kind_of_function(fast, function, cls):
    def answer(f):
        try:
            return f(function, name="", cls=cls)
        except BaseException as e:  # pytest's fail() for what has no signature
            return type(e)

    assert answer(fixtures.getfuncargnames) == answer(fast)


def test_a_parameterless_function_needs_no_signature(fast, monkeypatch):
    calls = []
    real = compat.signature
    monkeypatch.setattr(compat, "signature", lambda f: calls.append(f) or real(f))
    assert fixtures.getfuncargnames(lambda: None, name="request") == ()
    assert fixtures.getfuncargnames(no_params, name="x") == ()
    assert calls == []
    assert fixtures.getfuncargnames(one, name="one") == ("a",)
    assert calls == [one]  # everything else still asks pytest
