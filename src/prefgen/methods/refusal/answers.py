"""Deciding whether a short answer is correct: SQuAD/TriviaQA matching that keeps what differs.

Both sides are first cleaned (:func:`clean_text`: curly quotes and primes become straight, the
minus sign and Unicode hyphens become ``-``, zero-width, soft-hyphen and bidi-control characters
are removed, then NFKC), then normalised as the SQuAD and TriviaQA scripts do (lower case;
TriviaQA's ``_`` becomes a space; punctuation removed, any Unicode punctuation or symbol and not
only ASCII's; the articles a/an/the dropped; whitespace collapsed) except for the punctuation that
makes answers differ, which stays:

- ``+`` and ``#`` right after a letter or digit: "C++", "C#" and "C" are three answers;
- a minus sign opening a number: "-1" is not "1";
- ``. , : / -`` between two digits: "3.5" is not "35", "1/2" not "12" (a thousands comma goes:
  "1,000" is "1000").

"U.S.A." is still "usa" and "utf-8" "utf8". An answer *has* a gold answer when one alias's
tokens occur as a contiguous token run in the answer's tokens (DPR's "has answer": "1" does not
match "1990", "Paris" matches "It is Paris") in an occurrence that is not negated (see
:func:`find_alias`).

A numeric question (``match: number`` in its task: arithmetic, counts) is judged by the one number
the answer gives (:func:`given_number`), not by any number it mentions: "It takes 2 arguments, 1
of them optional" does not answer "1", and "5 + 2 = 7" answers 7, not 5.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_ANSWER_CHARS = 2000  # the refusal reward judges at most this much of a sample (see classify)

_INVISIBLE = ("\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
              "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff")
_LIKE = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u00b4`\u02bc\u02b9",
    '"': "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb",
    "-": "\u2212\u2010\u2011\ufe63\uff0d",
    "\n": "\r\u2028\u2029\x85",
}
_CLEAN_TABLE = str.maketrans({ch: to for to, chars in _LIKE.items() for ch in chars} |
                             {ch: None for ch in _INVISIBLE})

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# One alternative per kept piece of punctuation (named group), then any other non-word character.
_PUNCTUATION = re.compile(r"(?P<keep>(?<=\d)[.,:/-](?=\d)|(?<![\w.,:/+#-])-(?=\d)|(?<=\w)[+#]+)|[^\w\s]")
_ARTICLES = frozenset({"a", "an", "the"})
# Where a negation's scope ends (see find_alias): sentence punctuation and contrast words.
_CLAUSE_BREAK = re.compile(r"[;!?()\[\]{}\n\u2014]|[.,:\u2013](?!\w)|(?<!\w)[.,:\u2013]")
_CONTRAST = frozenset({"but", "rather", "instead", "however", "though", "although", "whereas"})
NEGATORS = frozenset({
    "not", "never", "neither", "nor", "cannot", "isnt", "arent", "wasnt", "werent", "dont", "doesnt", "didnt",
    "cant", "couldnt", "wont", "wouldnt", "shouldnt", "aint", "hasnt", "havent", "hadnt"})
# A negator right before one of these qualifies the speaker, not the answer ("not sure it is X").
_NOT_NEGATING_BEFORE = frozenset({"only", "just", "sure", "certain", "know", "recall", "remember"})
_COPULAS = frozenset({"is", "was", "are", "were", "be", "would", "seems", "sounds"})
# A verb of its own between a negator and the alias ends the negation ("the city not in Germany is
# X") unless the negator sits on a verb of opinion, whose negation passes down ("I don't think
# it is X").
_FINITE_COPULAS = frozenset({"is", "was", "are", "were", "its", "thats"})
_OPINION_VERBS = frozenset({"think", "believe", "suppose", "expect", "reckon", "guess", "say"})
_VERDICTS = (("wrong",), ("incorrect",), ("false",), ("untrue",), ("mistaken",), ("not", "correct"),
             ("not", "right"), ("not", "true"), ("not", "it"), ("not", "answer"))
# The alias as the subject of a negated "do" ("the array module does not define it"); only "do":
# "X is not in Germany" says something about X without denying it is the answer.
_SUBJECT_NOUNS = frozenset({"module", "library", "package", "standard", "standardlibrary", "class", "function"})
_DO_NEGATIONS = (("does", "not"), ("doesnt",), ("do", "not"), ("dont",), ("did", "not"), ("didnt",))


NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_WORD_VALUES = {word: str(value) for value, word in enumerate(NUMBER_WORDS)}
# The words after which an answer states its result: "is 7", "equals 7" ("=" is read as "equals").
_RESULT_MARKERS = frozenset({"is", "equals", "was", "makes", "gives"})


def clean_text(text: str) -> str:
    """Unicode clean-up before any matching: quotes and dashes unified, invisibles removed, NFKC."""
    # Translate before NFKC too: NFKC turns the acute accent (a common apostrophe) into a space
    # and a combining mark.
    return unicodedata.normalize("NFKC", text.translate(_CLEAN_TABLE)).translate(_CLEAN_TABLE)


def _keep_or_drop(match: re.Match[str]) -> str:
    return match.group("keep") or ""


def _normalise_clean(text: str) -> list[str]:
    text = _THOUSANDS.sub("", text.lower().replace("_", " "))
    return [t for t in _PUNCTUATION.sub(_keep_or_drop, text).split() if t not in _ARTICLES]


def normalise_answer(text: str) -> str:
    """The normalised answer (see the module docstring)."""
    return " ".join(_normalise_clean(clean_text(text)))


def answer_tokens(text: str) -> list[str]:
    """The normalised answer split into tokens."""
    return _normalise_clean(clean_text(text))


def _clause_tokens(text: str) -> tuple[list[str], list[int]]:
    """The answer's tokens and, for each, the number of the negation scope it is in."""
    tokens: list[str] = []
    scopes: list[int] = []
    scope = 0
    for piece in _CLAUSE_BREAK.split(clean_text(text)):
        scope += 1
        for token in _normalise_clean(piece):
            scope += token in _CONTRAST
            tokens.append(token)
            scopes.append(scope)
    return tokens, scopes


def _negated(tokens: Sequence[str], scopes: Sequence[int], start: int, end: int) -> bool:
    """Is the alias occurrence ``tokens[start:end]`` negated? (see :func:`find_alias`)"""
    i, crossed_verb = start - 1, False
    while i >= 0 and scopes[i] == scopes[start]:
        following = tokens[i + 1] if i + 1 < start else None
        if tokens[i] in NEGATORS and following not in _NOT_NEGATING_BEFORE \
                and (not crossed_verb or following in _OPINION_VERBS):
            return True
        crossed_verb = crossed_verb or tokens[i] in _FINITE_COPULAS
        i -= 1
    after = [t for t, s in zip(tokens[end : end + 5], scopes[end : end + 5]) if s == scopes[end - 1]]
    nouns = after[:]
    while nouns and nouns[0] in _SUBJECT_NOUNS:
        nouns.pop(0)
    if any(tuple(nouns[: len(v)]) == v for v in _DO_NEGATIONS):
        return True
    while after and after[0] in _COPULAS:
        after.pop(0)
    if after and after[0] in ("isnt", "wasnt", "arent", "werent"):
        after[0] = "not"
    return any(tuple(after[: len(v)]) == v for v in _VERDICTS)


@dataclass(frozen=True)
class AliasMatch:
    """Which gold alias an answer gives (``alias``), or only denies (``negated``)."""

    alias: str | None = None
    negated: str | None = None


def find_alias(answer: str, aliases: Iterable[str]) -> AliasMatch:
    """The first alias the answer gives on token boundaries, not negated.

    An occurrence of an alias (its normalised tokens as a contiguous run of the answer's) is
    *negated* when, within its scope -- the stretch of the answer between sentence punctuation
    (``. , ; : ! ? ( ) [ ] { }``, dashes, line breaks) and the contrast words "but", "rather",
    "instead", "however", "though", "although", "whereas" --

    - a negator comes before it: "not", "never", "neither", "nor", "cannot" or a negative
      contraction ("isn't", "don't", ...), unless the negator is directly followed by "only",
      "just", "sure", "certain", "know", "recall" or "remember" ("not only X", "I'm not sure it
      is X", "I don't know if it is X" do not deny X), or a verb "is / was / are / were / it's /
      that's" stands between the negator and the alias ("the city not in Germany is X") and the
      negator is not on a verb of opinion ("think", "believe", "suppose", "expect", "reckon",
      "guess", "say": "I don't think it is X" denies X); or
    - it is followed, after optional "is / was / are / were / be / would / seems / sounds", by a
      verdict: "wrong", "incorrect", "false", "untrue", "mistaken", or "not" / "isn't" + "correct",
      "right", "true", "it", "the answer"; or
    - it is the subject of a negated "do", after optional "module", "library", "package",
      "class", "function": "the array module does not define it", "X doesn't".

    So for gold X, "it is not X", "not X", "isn't X", "I don't think it is X", "neither A nor X",
    "X is wrong" and "X isn't right" deny X, while "it is not A, it is X", "not A but X" and "X,
    not A" give X. The answer gives an alias when at least one occurrence is not negated; an
    alias that occurs only negated is reported as ``negated``.
    """
    tokens, scopes = _clause_tokens(answer)
    negated = None
    for alias in aliases:
        needle = answer_tokens(alias)
        width = len(needle)
        if not width:
            continue
        starts = [i for i in range(len(tokens) - width + 1) if tokens[i : i + width] == needle]
        if any(not _negated(tokens, scopes, i, i + width) for i in starts):
            return AliasMatch(alias=alias)
        if starts and negated is None:
            negated = alias
    return AliasMatch(negated=negated)


def matching_alias(answer: str, aliases: Iterable[str]) -> str | None:
    """The first gold alias the answer gives (on token boundaries, not negated), or None."""
    return find_alias(answer, aliases).alias


def has_answer(answer: str, aliases: Iterable[str]) -> bool:
    """DPR's rule (some alias's tokens form a contiguous run in the answer's), in an occurrence not negated."""
    return matching_alias(answer, aliases) is not None


def _as_number(token: str) -> str | None:
    """A token as a canonical number ("07" -> "7", "3.50" -> "3.5", "seven" -> "7"), or None."""
    if token in _WORD_VALUES:
        return _WORD_VALUES[token]
    sign, digits = ("-", token[1:]) if token.startswith("-") else ("", token)
    whole, _, fraction = digits.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (fraction and not (fraction.isascii() and fraction.isdigit())):
        return None
    fraction = fraction.rstrip("0")
    number = (whole.lstrip("0") or "0") + ("." + fraction if fraction else "")
    return sign + number if number != "0" else "0"


def find_number(answer: str) -> tuple[str | None, bool]:
    """The number a numeric answer gives (canonical, see :func:`given_number`) and whether it is negated."""
    tokens, scopes = _clause_tokens(answer.replace("=", " equals "))
    last_marker = max((i for i, t in enumerate(tokens) if t in _RESULT_MARKERS), default=-1)
    for start in (last_marker + 1, 0):
        for i in range(start, len(tokens)):
            number = _as_number(tokens[i])
            if number is not None:
                return number, _negated(tokens, scopes, i, i + 1)
    return None, False


def given_number(answer: str) -> str | None:
    """The number a numeric answer gives, in a canonical form ("07" and "seven" are "7"), or None.

    It is the first number after the last "=", "is", "equals", "was", "makes" or "gives" ("8 - 7
    = 1", "The answer is 1"), or, when none follows such a word, the first number in the answer
    ("1 parameter", "It takes 2 arguments, 1 optional" gives 2). Number words up to twenty count.
    """
    return find_number(answer)[0]


def exact_match(answer: str, aliases: Iterable[str]) -> bool:
    """SQuAD's exact match: the normalised answer equals some normalised alias."""
    normalised = normalise_answer(answer)
    return any(normalised == normalise_answer(alias) for alias in aliases)


def answer_span(text: str, cut_at: Sequence[str] = ("\n",)) -> str:
    """The answer part of a sample: the text up to the first of ``cut_at`` (after leading space).

    A short-answer sample often goes on with a new question or an explanation; only its first
    line is the answer that is judged.
    """
    span = text.lstrip()
    for marker in cut_at:
        if marker and marker in span:
            span = span.split(marker, 1)[0]
    return span.strip()
