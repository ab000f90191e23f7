"""Stable selection over the standard library, shared by every method's built-in prompt set.

Splits and orders are decided by hashing names, never by position or a random draw, so an object
or a request stays in its split for every ``limit``, ``seed`` and Python version.
"""

from __future__ import annotations

import hashlib

# Questions are asked about the modules most Python users know (about 800 objects): the answers
# are worth reading, and a policy trained for a few CPU minutes can learn that much text. The
# corpus the answers are scored against is still the whole standard library. ``modules: all``
# lifts the restriction (about 2,000 objects).
QUESTION_MODULES = ["abc", "argparse", "array", "base64", "bisect", "builtins", "calendar", "collections", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "enum", "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "html", "io", "itertools", "json", "logging", "math", "operator", "os", "pathlib", "pickle", "pprint", "queue", "random", "re", "shlex", "shutil", "statistics", "string", "struct", "subprocess", "sys", "tempfile", "textwrap", "threading", "time", "typing", "urllib", "uuid", "zipfile", "zlib"]


def unit_hash(text: str, salt: str = "") -> float:
    """A number in [0, 1) that depends only on ``salt`` and ``text``."""
    digest = hashlib.sha256(f"{salt}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
