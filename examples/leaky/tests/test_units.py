import pytest

from leaky.units import cached_entries, convert, format_length, parse


def test_convert():
    assert convert(1, "km", "m") == 1000
    assert convert(254, "cm", "in") == pytest.approx(100)
    with pytest.raises(KeyError):
        convert(1, "m", "parsec")
    with pytest.raises(KeyError):
        convert(1, "parsec", "m")


def test_parse():
    assert parse(" 12 km ") == (12.0, "km")
    assert parse("3mm") == (3.0, "mm")
    assert parse("5 m") == (5.0, "m")
    with pytest.raises(ValueError):
        parse("12")


def test_format_length():
    assert format_length(1500) == "1.5 km"
    assert format_length(1000) == "1.0 km"
    assert format_length(2.5) == "2.5 m"
    assert format_length(1) == "1.0 m"
    assert format_length(0.25) == "25 cm"


def test_the_cache_is_warming():
    assert cached_entries() >= 1
