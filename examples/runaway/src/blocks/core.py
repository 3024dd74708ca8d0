"""A small buffer library. One of its mutants is a runaway: mutating
`remaining - BLOCK` into `remaining + BLOCK` turns the bounded loop in
read_blocks into an endless one that allocates 1 MiB per turn."""

BLOCK = 1 << 20


def read_blocks(total):
    """Split `total` bytes into zeroed blocks of BLOCK bytes (the last one full)."""
    blocks = []
    remaining = total
    while remaining > 0:
        blocks.append(bytearray(BLOCK))
        remaining = remaining - BLOCK
    return blocks


def checksum(data):
    """A 16-bit additive checksum."""
    total = 0
    for b in data:
        total = (total + b) & 0xFFFF
    return total


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value


def describe(n):
    if n == 0:
        return "empty"
    if n == 1:
        return "one block"
    return f"{n} blocks"
