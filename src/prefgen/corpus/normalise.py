"""The whitespace normalisation that QUIP applies, identically, to corpus documents and responses.

QUIP (Data Portraits, used by Quote-Tuning) compares texts after collapsing whitespace, so that a
difference in line breaks or indentation never hides a quote:

- a run of whitespace that contains a line break becomes one ``"\\n"`` (so runs of newlines become
  one newline, and the indentation that follows a line break disappears, as does trailing
  whitespace before it);
- any other run of whitespace becomes one space;
- both ends are stripped; case and every non-whitespace character are kept as they are.

"Whitespace" is what ``str.isspace`` says; "line break" is what ``str.splitlines`` splits on
(``\\n``, ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028``, ``\\u2029``).
Bump :data:`NORMALISATION_VERSION` whenever this changes: it is part of every index fingerprint.
"""

from __future__ import annotations

import re

NORMALISATION_VERSION = 1

LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# A run of whitespace without a line break: collapsed to one space first. Without this pass a long
# run of spaces costs the next pattern quadratic time (it fails at each of the run's positions after
# scanning to its end: a megabyte of spaces took minutes); with it ``\s*`` has at most one
# character to back over, and the result is the same (the run became one space anyway).
_SPACE_RUN = re.compile(rf"[^\S{LINE_BREAKS}]+")
# \s* on both sides swallows the whole whitespace run around (and between) line breaks.
_RUN_WITH_LINE_BREAK = re.compile(rf"\s*[{LINE_BREAKS}]\s*")
# After that the only line-break character left is "\n"; everything else collapses.
_OTHER_RUN = re.compile(r"[^\S\n]+")


def normalise(text: str) -> str:
    """Collapse whitespace the QUIP way (see the module docstring), in time linear in the text."""
    text = _SPACE_RUN.sub(" ", text)
    text = _RUN_WITH_LINE_BREAK.sub("\n", text)
    text = _OTHER_RUN.sub(" ", text)
    return text.strip()
