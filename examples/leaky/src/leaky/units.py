"""Unit conversion with a cache that only grows.

Importing this module starts a "cache warmer" thread that keeps adding
entries to a module-level cache and never evicts any: the process that
imported it grows for as long as it lives. A test runner that imports the
tests once and forks every mutant from that process (mutmut's parent, a fork
server) grows with it, and every child starts bigger. mutcell replaces its
fork server by thresholds (recycle_growth, recycle_memory, recycle_after).

LEAKY_KIB_PER_TICK (default 256) and LEAKY_TICK_S (default 0.05) set the rate.
"""

import os
import threading
import time

_CACHE = []
_KIB_PER_TICK = int(os.environ.get("LEAKY_KIB_PER_TICK", "256"))
_TICK_S = float(os.environ.get("LEAKY_TICK_S", "0.05"))

FACTORS = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048}


def _warm_forever():
    while True:
        _CACHE.append(bytearray(_KIB_PER_TICK * 1024))
        time.sleep(_TICK_S)


threading.Thread(target=_warm_forever, daemon=True, name="cache-warmer").start()


def cached_entries():
    return len(_CACHE)


def convert(value, src, dst):
    if src not in FACTORS or dst not in FACTORS:
        raise KeyError(f"unknown unit {src if src not in FACTORS else dst}")
    return value * FACTORS[src] / FACTORS[dst]


def parse(text):
    text = text.strip()
    for unit in sorted(FACTORS, key=len, reverse=True):
        if text.endswith(unit):
            number = text[: -len(unit)].strip()
            return float(number), unit
    raise ValueError(f"no unit in {text!r}")


def format_length(meters):
    if meters >= 1000:
        return f"{meters / 1000:.1f} km"
    if meters >= 1:
        return f"{meters:.1f} m"
    return f"{meters * 100:.0f} cm"
