"""Plain data: what crosses from a candidate's process to its tests, and the tests' equality."""

from __future__ import annotations

import collections
import enum
import math
import os

import pytest

from prefgen.sandbox.plaindata import (
    MAX_TEXT,
    PlainDataError,
    decode,
    encode,
    receive_message,
    send_message,
    strict_equal,
)

VALUES = [None, True, False, 0, -7, 2**200, -(2**70), 1.5, -0.0, float("inf"), 1e-310, 3 + 4j, "",
          "héllo\udcff\x00", b"\x00\xff", [], [1, [2, [3]]], (), (1, "a", (None,)), {"a": 1, 2: [3], (4, 5): {6}},
          {1, "x", (2, 3)}, frozenset({1, frozenset({2})}), {True: False}]


def _stable_id(value) -> str:
    """repr, except that sets and frozensets list their members sorted: a set's repr follows the hash
    seed, and test ids must not (two test workers with different seeds must see the same tests)."""
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}({sorted(map(_stable_id, value))})"
    return repr(value)


@pytest.mark.parametrize("value", VALUES, ids=_stable_id)
def test_plain_values_round_trip_with_their_exact_types(value):
    back = decode(encode(value))
    assert back == value and type(back) is type(value)
    assert strict_equal(back, value)
    if isinstance(value, (list, tuple)):
        assert [type(x) for x in back] == [type(x) for x in value]


def test_nan_crosses_and_is_still_unequal_to_itself():
    back = decode(encode([float("nan")]))
    assert math.isnan(back[0]) and not strict_equal(back, [float("nan")])


def test_subclasses_cross_as_their_base_values_without_their_overrides():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    Point = collections.namedtuple("Point", "x y")

    class Colour(enum.IntEnum):
        RED = 3

    assert decode(encode(Liar(5))) == 5 and type(decode(encode(Liar(5)))) is int
    assert decode(encode(Point(1, 2))) == (1, 2) and type(decode(encode(Point(1, 2)))) is tuple
    assert decode(encode(collections.Counter("aab"))) == {"a": 2, "b": 1}
    assert decode(encode(Colour.RED)) == 3


def test_objects_that_are_not_plain_are_refused():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    class Disguised:
        __class__ = property(lambda self: int)

    for value in (AlwaysEqual(), [1, AlwaysEqual()], {AlwaysEqual(): 1}, Disguised(), (x for x in ()), range(3),
                  object(), print):
        with pytest.raises(PlainDataError, match="not plain data"):
            encode(value)


def test_too_deep_or_too_large_values_are_refused():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(PlainDataError, match="nested too deeply"):
        encode(deep)
    with pytest.raises(PlainDataError, match="too large"):
        encode("x" * (MAX_TEXT + 1))


@pytest.mark.parametrize("text", ["", "{", '{"a": 1}', '["z", 1]', '["d", [], 1]', '["d", 1]', '["b", "zz"]',
                                  '["i", 5]', '["c", "1", 2]', "[" * 10000, '"' + "x" * 10 + '"' * 2, "nan", 5])
def test_malformed_text_never_decodes_to_anything_but_an_error(text):
    with pytest.raises(PlainDataError):
        decode(text)


def test_strict_equality_keeps_bools_apart_from_numbers_at_any_depth():
    assert not strict_equal(1, True) and not strict_equal(True, 1) and not strict_equal(0.0, False)
    assert not strict_equal([0, 1], [False, True]) and not strict_equal({"k": 1}, {"k": True})
    assert not strict_equal((1.0,), (True,))
    assert strict_equal(2, 2.0) and strict_equal([1, (2, "a")], [1, (2, "a")]) and strict_equal(None, None)
    assert not strict_equal([1], (1,)) and not strict_equal("1", 1)


def test_messages_are_framed_and_malformed_frames_are_errors():
    read, write = os.pipe()
    try:
        send_message(write, ["ok", ["l", 1, 2]])
        os.write(write, b"0000000003abc")
        os.write(write, b"notdigits!")
        assert receive_message(read) == ["ok", ["l", 1, 2]]
        with pytest.raises(PlainDataError):
            receive_message(read)
        with pytest.raises(PlainDataError, match="header"):
            receive_message(read)
        os.close(write)
        write = None
        assert receive_message(read) is None  # end of file
    finally:
        os.close(read)
        if write is not None:
            os.close(write)
