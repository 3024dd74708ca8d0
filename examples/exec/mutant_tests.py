"""A tiny 'test suite' run once per mutant in exec mode.

MUTANT_UNDER_TEST names the mutant of `repeat` to test; each behaves like a
real mutant would under its test: caught, missed, runaway, hanging, or
hanging while leaving a grandchild that ignores SIGTERM.
"""
import os
import signal
import sys
import time


def repeat_original(chunk, n):
    out = []
    while len(out) < n:
        out.append(chunk * 1)
    return out


def repeat_off_by_one(chunk, n):          # `<` mutated to `<=`: one chunk too many
    out = []
    while len(out) <= n:
        out.append(chunk * 1)
    return out


def repeat_equivalent(chunk, n):          # `chunk * 1` mutated to `chunk`: same result
    out = []
    while len(out) < n:
        out.append(chunk)
    return out


def repeat_runaway(chunk, n):             # `<` mutated to `!=` with n = -1: never ends, allocates
    out = []
    while len(out) != n:
        out.append(b"x" * (1 << 20))      # touch every page, like real data would
    return out


def repeat_hangs(chunk, n):               # the loop's increment removed: spins forever
    while True:
        time.sleep(0.05)


def repeat_hangs_with_grandchild(chunk, n):
    if os.fork() == 0:                    # a helper the test started, stubborn about SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.setsid()
        while True:
            time.sleep(1)
    return repeat_hangs(chunk, n)


MUTANTS = {
    "repeat__mutmut_1": repeat_off_by_one,
    "repeat__mutmut_2": repeat_equivalent,
    "repeat__mutmut_3": repeat_runaway,
    "repeat__mutmut_4": repeat_hangs,
    "repeat__mutmut_5": repeat_hangs_with_grandchild,
}


def test_repeat(repeat):
    assert repeat(b"ab", 3) == [b"ab", b"ab", b"ab"]
    assert repeat(b"", 0) == []
    repeat(b"z", -1 if repeat is repeat_runaway else 2)


def main():
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    repeat = MUTANTS.get(name, repeat_original)
    try:
        test_repeat(repeat)
    except AssertionError:
        print(f"{name}: test failed (mutant killed)")
        return 1
    print(f"{name}: tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
