"""Small numeric helpers."""

from math import isqrt


def gcd(a, b):
    a, b = abs(a), abs(b)
    while b:
        a, b = b, a % b
    return a


def lcm(a, b):
    if a == 0 or b == 0:
        return 0
    return abs(a * b) // gcd(a, b)


def is_prime(n):
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0 or n % 3 == 0:
        return False
    for i in range(5, isqrt(n) + 1, 6):
        if n % i == 0 or n % (i + 2) == 0:
            return False
    return True


def digits(n, base=10):
    if base < 2:
        raise ValueError("base must be at least 2")
    if n == 0:
        return [0]
    n = abs(n)
    out = []
    while n:
        n, r = divmod(n, base)
        out.append(r)
    return out[::-1]


def mean(values):
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) / len(values)


def median(values):
    if not values:
        raise ValueError("median of nothing")
    s = sorted(values)
    mid = len(s) // 2
    if len(s) % 2 == 1:
        return s[mid]
    return (s[mid - 1] + s[mid]) / 2


def clamp(value, low, high):
    if low > high:
        raise ValueError("low > high")
    return max(low, min(high, value))


def percent(part, whole, places=1):
    if whole == 0:
        return 0.0
    return round(100.0 * part / whole, places)


class Counter:
    def __init__(self, start=0, step=1):
        self.value = start
        self.step = step

    def tick(self, times=1):
        for _ in range(times):
            self.value += self.step
        return self.value

    def reset(self):
        self.value = 0
        return self.value
