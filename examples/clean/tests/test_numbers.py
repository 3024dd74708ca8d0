import pytest

from textkit.numbers import Counter, clamp, digits, gcd, is_prime, lcm, mean, median, percent


def test_gcd():
    assert gcd(12, 18) == 6
    assert gcd(-12, 18) == 6
    assert gcd(7, 0) == 7
    assert gcd(0, 7) == 7


def test_lcm():
    assert lcm(4, 6) == 12
    assert lcm(0, 5) == 0
    assert lcm(5, 0) == 0
    assert lcm(-4, 6) == 12


def test_is_prime():
    assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
    assert is_prime(97)
    assert not is_prime(91)
    assert not is_prime(25)
    assert not is_prime(49)


def test_digits():
    assert digits(0) == [0]
    assert digits(1234) == [1, 2, 3, 4]
    assert digits(-42) == [4, 2]
    assert digits(5, base=2) == [1, 0, 1]
    with pytest.raises(ValueError):
        digits(5, base=1)


def test_mean_and_median():
    assert mean([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    with pytest.raises(ValueError):
        mean([])
    with pytest.raises(ValueError):
        median([])


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-5, 0, 10) == 0
    assert clamp(50, 0, 10) == 10
    with pytest.raises(ValueError):
        clamp(1, 10, 0)


def test_percent():
    assert percent(1, 3) == 33.3
    assert percent(1, 3, places=2) == 33.33
    assert percent(5, 0) == 0.0


def test_counter():
    c = Counter(start=10, step=5)
    assert c.tick() == 15
    assert c.tick(times=2) == 25
    assert c.reset() == 0
    assert Counter().tick() == 1
