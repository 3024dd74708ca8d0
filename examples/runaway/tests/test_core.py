from blocks.core import BLOCK, checksum, clamp, describe, read_blocks


def test_read_blocks_splits_into_full_blocks():
    blocks = read_blocks(3 * BLOCK)
    assert len(blocks) == 3
    assert all(len(b) == BLOCK for b in blocks)


def test_read_blocks_of_nothing_is_empty():
    assert read_blocks(0) == []


def test_checksum():
    assert checksum(b"") == 0
    assert checksum(b"\x01\x02") == 3
    assert checksum(b"\xff" * 300) == (255 * 300) & 0xFFFF


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10


def test_describe():
    assert describe(0) == "empty"
    assert describe(1) == "one block"
    assert describe(2) == "2 blocks"
