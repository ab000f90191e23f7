"""Plain data: the only form in which values cross between a candidate program and its tests.

A value produced by candidate code may be an object of its own making (``__eq__`` always true, a
lying ``__bool__``, an ``int`` subclass, a ``__class__`` property...). Such an object must never
reach the code that judges it. So values leave the candidate's process as text: :func:`encode`
walks a value using only its built-in storage (``type(x)``, never ``x.__class__``, and the base
type's own methods, never the object's) and writes JSON with tags; :func:`decode` turns that text
back into fresh objects of the built-in types below and nothing else. Whatever bytes a hostile
process sends, decoding them can only give plain built-in values (or raise :class:`PlainDataError`).

Plain types: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``list``,
``tuple``, ``dict``, ``set``, ``frozenset``. A subclass of one of them (a named tuple, a
``Counter``, an ``IntEnum``) crosses as its base type's value, its overrides left behind.

:func:`strict_equal` is the ``==`` of the tests (see :mod:`prefgen.sandbox.testing`): Python's
equality, except that ``True``/``False`` never equal numbers, at any depth.

Processes exchange messages (JSON arrays of such trees) with :func:`send_message` and
:func:`receive_message`: a 10-digit length, then the JSON text.

This file is also shipped into the sandbox as a code object (see :mod:`prefgen.sandbox.harness`),
so it uses nothing but built-ins and :mod:`json`.
"""

import json
import os

MAX_DEPTH = 100
MAX_TEXT = 16 << 20        # characters of one encoded value
_BIG_INT = 1 << 63         # larger ints travel as hex: no decimal digit limit applies
_SCALARS = (type(None), bool, int, float, str)
_TAGS = {list: "l", tuple: "t", dict: "d", set: "s", frozenset: "f"}
_BASES = (bool, int, float, complex, str, bytes, list, tuple, dict, frozenset, set)
_PLAIN = frozenset(_BASES + (type(None),))


class PlainDataError(TypeError):
    """A value that cannot cross as plain data (its type, its size or its encoding)."""


def base_type(value):
    """The plain built-in type ``value`` is stored as, or None. Ignores ``__class__`` overrides."""
    for cls in type(value).__mro__:
        if cls in _BASES or cls is type(None):
            return cls
    return None


def to_plain(value, depth=0):
    """A JSON-ready tree for ``value``; :class:`PlainDataError` for anything not plain."""
    if depth > MAX_DEPTH:
        raise PlainDataError("value is nested too deeply")
    cls = base_type(value)
    try:
        return _convert(cls, value, depth)
    except PlainDataError:
        raise
    except (TypeError, ValueError, RecursionError) as exc:  # a type that lied about its base
        raise PlainDataError(f"a value of type {type(value).__qualname__} is not plain data: {exc}") from None


def _convert(cls, value, depth):
    if cls is None:
        raise PlainDataError(f"a value of type {type(value).__qualname__}, which is not plain data "
                             "(allowed: None, bool, int, float, complex, str, bytes, list, tuple, "
                             "dict, set, frozenset)")
    if cls is type(None):
        return None
    if cls is bool:
        return bool.__bool__(value)  # the stored truth value, not a __bool__ override
    if cls is int:
        number = int.__index__(value)
        return number if -_BIG_INT < number < _BIG_INT else ["i", int.__format__(number, "x")]
    if cls is float:
        return float.__float__(value)
    if cls is str:
        return str.__str__(value)
    if cls is complex:
        return ["c", complex.__getattribute__(value, "real"), complex.__getattribute__(value, "imag")]
    if cls is bytes:
        return ["b", bytes.hex(value)]
    if cls is dict:
        items = []
        for key, item in dict.items(value):
            items += [to_plain(key, depth + 1), to_plain(item, depth + 1)]
        return ["d", *items]
    iterate = {list: list.__iter__, tuple: tuple.__iter__, set: set.__iter__,
               frozenset: frozenset.__iter__}[cls]
    return [_TAGS[cls], *(to_plain(item, depth + 1) for item in iterate(value))]


def encode(value):
    """``value`` as text (see the module docstring)."""
    try:
        text = json.dumps(to_plain(value), ensure_ascii=True, allow_nan=True, separators=(",", ":"))
    except RecursionError:
        raise PlainDataError("value is nested too deeply") from None
    if len(text) > MAX_TEXT:
        raise PlainDataError(f"value is too large to cross ({len(text)} characters encoded)")
    return text


def decode(text):
    """Fresh plain built-in values from :func:`encode`'s text; :class:`PlainDataError` if malformed."""
    if type(text) is not str or len(text) > MAX_TEXT:
        raise PlainDataError("encoded value is not text of a bounded size")
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PlainDataError(f"encoded value is malformed: {exc}") from None
    return from_plain(tree, 0)


def from_plain(tree, depth):
    """The value a JSON tree from :func:`to_plain` stands for (checked at every node)."""
    if depth > MAX_DEPTH:
        raise PlainDataError("value is nested too deeply")
    if type(tree) in _SCALARS:
        return tree
    if type(tree) is not list or not tree or type(tree[0]) is not str:
        raise PlainDataError("encoded value has an unknown shape")
    tag, rest = tree[0], tree[1:]
    try:
        if tag == "i" and len(rest) == 1 and type(rest[0]) is str:
            return int(rest[0], 16)
        if tag == "c" and len(rest) == 2 and all(type(x) in (int, float) for x in rest):
            return complex(rest[0], rest[1])
        if tag == "b" and len(rest) == 1 and type(rest[0]) is str:
            return bytes.fromhex(rest[0])
        items = [from_plain(item, depth + 1) for item in rest]
        if tag == "l":
            return items
        if tag == "t":
            return tuple(items)
        if tag == "s":
            return set(items)
        if tag == "f":
            return frozenset(items)
        if tag == "d" and len(items) % 2 == 0:
            return dict(zip(items[::2], items[1::2]))
    except (TypeError, ValueError) as exc:  # unhashable keys, bad hex
        raise PlainDataError(f"encoded value is malformed: {exc}") from None
    raise PlainDataError(f"encoded value has an unknown tag {tag[:20]!r}")


def strict_equal(left, right, depth=0):
    """``left == right``, except that a bool never equals a non-bool (at any depth).

    Both sides are plain values when they come from :func:`decode` or from test literals;
    anything else (an object the trusted tests made themselves) compares as Python does.
    """
    lt, rt = type(left), type(right)
    if depth > MAX_DEPTH or lt not in _PLAIN or rt not in _PLAIN:
        return left == right
    if (lt is bool) != (rt is bool):
        return False
    if lt in (list, tuple) and lt is rt:
        return len(left) == len(right) and all(
            strict_equal(a, b, depth + 1) for a, b in zip(left, right))
    if lt is dict and rt is dict:
        return left.keys() == right.keys() and all(
            strict_equal(left[key], right[key], depth + 1) for key in left)
    return left == right


_HEADER = 10


def send_message(fd, message):
    """Write one message (a JSON-ready list) on ``fd``."""
    body = json.dumps(message, ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode("ascii")
    if len(body) > MAX_TEXT:
        raise PlainDataError(f"message is too large ({len(body)} bytes)")
    data = b"%010d" % len(body) + body
    while data:
        data = data[os.write(fd, data):]


def receive_message(fd):
    """The next message on ``fd`` as a list; None at end of file; PlainDataError if malformed."""
    header = _read_exactly(fd, _HEADER)
    if header is None:
        return None
    if not header.isdigit() or int(header) > MAX_TEXT:
        raise PlainDataError("message header is malformed")
    body = _read_exactly(fd, int(header))
    if body is None:
        raise PlainDataError("message was cut short")
    try:
        message = json.loads(body.decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise PlainDataError(f"message is malformed: {exc}") from None
    if type(message) is not list or not message or type(message[0]) is not str:
        raise PlainDataError("message has an unknown shape")
    return message


def _read_exactly(fd, size):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
