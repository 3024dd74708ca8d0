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
    i = 0
    while i < n:
        out.append(chunk.copy())
        i += 1
    return out


def repeat_off_by_one(chunk, n):          # `i < n` mutated to `i <= n`: one copy too many
    out = []
    i = 0
    while i <= n:
        out.append(chunk.copy())
        i += 1
    return out


def repeat_equivalent(chunk, n):          # `chunk.copy()` mutated to `chunk[:]`: same result
    out = []
    i = 0
    while i < n:
        out.append(chunk[:])
        i += 1
    return out


def repeat_runaway(chunk, n):             # `i += 1` mutated to `i -= 1`: never ends, copies 1 MiB a turn
    out = []
    i = 0
    while i < n:
        out.append(chunk.copy())
        i -= 1
    return out


def repeat_hangs(chunk, n):               # a polling wait whose exit condition was inverted
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
    chunk = bytearray(b"x" * (1 << 20))
    out = repeat(chunk, 3)
    assert len(out) == 3 and all(c == chunk for c in out)
    assert repeat(chunk, 0) == []


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
