import logging
import unittest

import pytest

from fid import core


class TestClass:
    def test_shout(self):
        assert core.shout("a") == "A!"


class TestUnit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = "fid:"

    def test_label(self):
        self.assertEqual(core.label("x"), self.prefix + "x")


@pytest.mark.parametrize("word,expected", [("é", "É!"), ("ß", "SS!"), ("日本", "日本!")], ids=["é", "ß", "日本"])
def test_non_ascii(word, expected):
    assert core.shout(word) == expected


def test_capsys(capsys):
    print(core.label("out"))
    assert capsys.readouterr().out == "fid:out\n"


def test_caplog(caplog):
    logging.getLogger("fid").warning(core.label("log"))
    assert "fid:log" in caplog.text


def test_tmp_path(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text(core.shout("t"))
    assert p.read_text() == "T!"


def test_doctest_halve():
    import doctest
    r = doctest.testmod(core, verbose=False)
    assert r.failed == 0 and r.attempted >= 1


def test_exit():
    if core.exit_on_bad(1) != 2:
        pytest.exit("the code under test is broken")  # pytest.main returns 2
