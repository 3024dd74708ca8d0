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


class FakeCallSpec:
    def __init__(self, params: dict, scopes: dict) -> None:
        self.params = params
        self._arg2scope = scopes
        self.indices = {name: i for i, name in enumerate(params)}


class FakeItem:
    """What get_param_argkeys reads of an item."""

    def __init__(self, path: str, params: dict, scopes: dict, cls=None) -> None:
        self.path = Path(path)
        self.cls = cls
        if params:
            self.callspec = FakeCallSpec(params, scopes)

    def __repr__(self) -> str:
        return f"FakeItem({self.path}, {getattr(self, 'callspec', None) and self.callspec.params})"


def fake_items():
    from _pytest.scope import Scope

    items = []
    for i in range(12):
        params = {"db": ["a", "b", "c"][i % 3], "n": i}
        scopes = {"db": [Scope.Session, Scope.Module, Scope.Class][i % 3], "n": Scope.Function}
        items.append(FakeItem(f"/p/tests/test_{i % 2}.py", params, scopes, cls=Holder if i % 4 == 0 else None))
    items.append(FakeItem("/p/tests/test_plain.py", {}, {}))
    return items


@pytest.fixture
def precomputed(monkeypatch):
    monkeypatch.setattr(fixtures, "get_param_argkeys", fixtures.get_param_argkeys)  # restored afterwards
    original = fixtures.get_param_argkeys
    items = fake_items()
    assert z.precomputed_param_argkeys(items)
    assert fixtures.get_param_argkeys is not original
    return original, items


def test_parameter_keys_and_the_order_pytest_makes_of_them_are_pytests(precomputed):
    original, items = precomputed
    from _pytest.scope import HIGH_SCOPES

    for item in items + [FakeItem("/p/tests/unknown.py", {"db": "z"}, {"db": HIGH_SCOPES[0]})]:
        for scope in HIGH_SCOPES:
            assert list(fixtures.get_param_argkeys(item, scope)) == list(original(item, scope)), (item, scope)
    patched_order = fixtures.reorder_items(items[::-1])
    fixtures.get_param_argkeys = original
    assert patched_order == fixtures.reorder_items(items[::-1])
    assert patched_order != items[::-1]  # the higher-scoped parameters did reorder them


def test_an_item_the_zygote_collected_needs_no_new_keys(precomputed, monkeypatch):
    original, items = precomputed
    from _pytest.scope import HIGH_SCOPES

    calls = []
    import _pytest.fixtures as fx
    patched = fx.get_param_argkeys
    monkeypatch.setattr(fx, "get_param_argkeys", patched)
    # The closure holds pytest's function: count through the item instead.
    for item in items:
        item.__class__ = type("Counting", (FakeItem,), {"path": property(lambda self: calls.append(1) or Path("/x"))})
    for item in items:
        for scope in HIGH_SCOPES:
            list(fx.get_param_argkeys(item, scope))
    assert calls == []
