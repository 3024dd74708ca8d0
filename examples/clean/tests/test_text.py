import pytest

from textkit.text import caesar, count_words, is_palindrome, parse_kv, roman, slugify, truncate, wrap


def test_slugify():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("  many   spaces  ") == "many-spaces"
    assert slugify("a_b", sep="_") == "a_b"
    assert slugify("") == ""


def test_wrap():
    assert wrap("the quick brown fox", 10) == ["the quick", "brown fox"]
    assert wrap("a bb ccc", 4) == ["a bb", "ccc"]
    assert wrap("", 5) == []
    assert wrap("abc de", 6) == ["abc de"]
    assert wrap("abc def", 6) == ["abc", "def"]
    assert wrap("one", 1) == ["one"]
    with pytest.raises(ValueError):
        wrap("x", 0)


def test_truncate():
    assert truncate("hello", 10) == "hello"
    assert truncate("hello world", 8) == "hello..."
    assert truncate("hello", 2) == ".."
    assert truncate("hello", 5) == "hello"


def test_count_words():
    assert count_words("The cat. the CAT, a dog!") == {"the": 2, "cat": 2, "a": 1, "dog": 1}
    assert count_words("... !!") == {}


def test_is_palindrome():
    assert is_palindrome("A man, a plan, a canal: Panama")
    assert not is_palindrome("abc")


def test_caesar():
    assert caesar("abc XYZ!", 3) == "def ABC!"
    assert caesar(caesar("Hello", 5), -5) == "Hello"
    assert caesar("az AZ", 1) == "ba BA"
    assert caesar("xyz", 26) == "xyz"
    assert caesar("a-z", 0) == "a-z"


def test_parse_kv():
    assert parse_kv("a = b") == ("a", "b")
    assert parse_kv("x=1=2") == ("x", "1=2")
    assert parse_kv("  # comment") is None
    assert parse_kv("k: v", sep=":") == ("k", "v")
    assert parse_kv("a = b # note") == ("a", "b")
    assert parse_kv("a = b ; x", comment=";") == ("a", "b")
    assert parse_kv("") is None
    with pytest.raises(ValueError):
        parse_kv("novalue")
    with pytest.raises(ValueError):
        parse_kv(" = v")


def from_roman(s):
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for a, b in zip(s, s[1:] + " "):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def test_roman_round_trips():
    for n in list(range(1, 50)) + [90, 99, 400, 444, 500, 900, 999, 1000, 1994, 3999]:
        r = roman(n)
        assert from_roman(r) == n, (n, r)
        assert set(r) <= set("IVXLCDM")


def test_roman():
    assert roman(1994) == "MCMXCIV"
    assert roman(3999) == "MMMCMXCIX"
    assert roman(4) == "IV"
    with pytest.raises(ValueError):
        roman(0)
    with pytest.raises(ValueError):
        roman(4000)
