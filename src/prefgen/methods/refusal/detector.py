"""The refusal detector: does an answer say "I don't know", or reject the question's premise?

Refusals are found with a phrase list: R-Tuning's sixteen "I don't know" sentences (taken from
SelfAware's reference sentences; the paper's "We do not know." too), and the common ways of
saying one cannot know, lacks (enough) information or knowledge, is not aware of something, or
that no information is available. Text and phrases are read the same way: Unicode-cleaned
(:func:`prefgen.methods.refusal.answers.clean_text`), lower case, apostrophes dropped, contractions
spelled out ("don't" -> "do not", "I'm" -> "I am", "can't" -> "cannot"), split into clauses at
``. ! ? , ; : ( ) [ ] { }``, dashes and line breaks (a "." inside a name such as ``unknown.py``
is no break), and each clause into words. A phrase fires when its words

- open a clause, optionally after lead-ins such as "sorry", "honestly", "but", "I'm afraid"
  (so "returns None if it is not known" is an answer, not a refusal); a phrase written with a
  leading ``...`` (e.g. "... beyond my knowledge") may instead stand anywhere in a clause; and
- are not also in the question (Alignment for Honesty's guard: an answer echoing the question's
  "I don't know" is no refusal).

Words match whole ("unknown_value", "unknown.py" and "notknown" are not "unknown"), and a phrase
is never a single word: answers that merely contain "unknown", "sure" or "not" are answers.
In a phrase, ``[a|b]`` marks optional alternatives ("I do not have [enough|any] information") and
``{a|b}`` required ones ("I cannot {answer|say}"), ``<kind>`` one of :data:`PREMISE_KINDS` and
``~`` a word of the question that names its topic (not a function word).
Users can replace the phrases and add regular expressions (searched, case-insensitive, in the
cleaned answer, with no guard; one that repeats a repeated part, such as ``(a+)+``, is refused).

A *premise rejection* says the thing asked about does not exist ("There is no such function",
"No module named foo", "`foo` does not exist"): see :meth:`RefusalDetector.premise_rejection`.

Every scan first cuts the text to :data:`MAX_SCAN_CHARS`; the regular expressions here are
single character classes or fixed strings (no nested quantifiers), so time is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prefgen.methods.refusal.answers import clean_text

# The sixteen phrases of R-Tuning's code (R-Tuning-R replaces uncertain answers with one of them).
R_TUNING_PHRASES = (
    "The answer is unknown.",
    "The answer is uncertain.",
    "The answer is unclear.",
    "It is not known.",
    "I do not know the answer.",
    "I'm not sure.",
    "There is no definitive answer.",
    "There is much debate.",
    "There is no concrete answer to this question.",
    "It is impossible to answer.",
    "There is no known case.",
    "There is no public information available.",
    "There is no scientific evidence.",
    "There is no right answer.",
    "It is impossible to know.",
    "It is difficult to predict.",
)
_ADVERB = "[really|honestly|simply|just|truly|genuinely|actually|unfortunately|still]"
COMMON_PHRASES = (
    "We do not know.",
    f"I {_ADVERB} don't know.",
    f"I'm {_ADVERB} not sure.",
    f"I'm {_ADVERB} not certain.",
    "I'm uncertain.",
    "I'm unsure.",
    "Not sure.",
    "Not certain.",
    "I have no idea.",
    "I have no clue.",
    "No idea.",
    "No clue.",
    "Nobody knows.",
    "No one knows.",
    "Dunno.",
    "Idk.",
    # cannot answer / say / tell / determine
    "I cannot {answer|say|tell|determine|be sure|be certain|confirm|verify|recall|remember}.",
    "I'm {unable|not able} to {answer|say|tell|determine|confirm|verify|recall}.",
    ("I cannot {provide|give|offer|share} [an|the|a|that|this|any|a definitive|a reliable|an accurate] "
     "{answer|information}."),
    ("I'm {unable|not able} to {provide|give|offer|share} [an|the|a|that|this|any|a definitive|a reliable|"
     "an accurate] {answer|information}."),
    "I do not {recall|remember}.",
    "It is {impossible|not possible|hard|difficult} to {say|tell|determine}.",
    "It is not possible to {know|answer}.",
    "Hard to say.",
    "It is {unknown|unclear|not clear}.",
    "That is {unknown|unclear}.",
    "No one can {say|tell|know}.",
    "Nobody can {say|tell|know}.",
    "There is no way to know.",
    "There is no way for me to know.",
    # "I cannot know" and "beyond my knowledge"
    "I {cannot|can never|could not|would not|do not} know.",
    "I have no way of knowing.",
    "... beyond my knowledge.",
    "... beyond the scope of my knowledge.",
    "... outside [of] my knowledge.",
    "... outside the scope of my knowledge.",
    "... not within my knowledge.",
    "... exceeds my knowledge.",
    "... not in my training data.",
    "... not part of my training data.",
    "My knowledge does not {cover|include|extend}.",
    # lacking information or knowledge
    ("I {do not have|do not possess|lack} [enough|sufficient|any|the|that|this|a|an|specific|reliable|"
     "accurate|the necessary|the relevant|the required|access to|a definitive|an exact] "
     "{information|knowledge|data|details|answer}."),
    "I have no {information|knowledge|data|details|answer}.",
    "I {could not|cannot|was unable to|am unable to} find [any|the|enough|reliable] information.",
    "I do not have access to [that|this|the] information.",
    "I would need more {information|context|details}.",
    "I need more {information|context}.",
    "[There is] {not enough|insufficient} information.",
    "More information is needed.",
    "There is no [public|available|reliable|such] information [available].",
    "No information [is] available.",
    "[That|This|The] information is not available [to me].",
    "[That|This|The] information is unavailable.",
    # not aware / not familiar
    "I'm {not aware|unaware} of.",
    "I am not familiar with.",
)
DEFAULT_PHRASES = R_TUNING_PHRASES + COMMON_PHRASES
LEAD_INS = (
    "sorry", "i am sorry", "i am so sorry", "honestly", "unfortunately", "well", "but", "however", "i think",
    "i am afraid", "i fear", "to be honest", "frankly", "actually", "sadly", "regrettably", "so", "and", "oh",
    "hmm", "um", "uh", "ah", "alas", "as an ai", "as an ai language model", "as a language model",
    "i must admit", "i have to admit", "in fact", "truthfully", "the truth is", "i believe", "i guess", "no",
)

# Premise rejections: the kinds of thing a question may ask about.
PREMISE_KINDS = (
    "function", "module", "parameter", "argument", "method", "class", "attribute", "keyword", "option",
    "name", "object", "constant", "field", "property", "variable", "package", "library", "command",
    "setting", "flag", "type", "thing", "person", "place", "event", "book", "film", "song",
)
_KIND_ALTS = "|".join(PREMISE_KINDS + tuple(k[:-1] + "ies" if k.endswith("y") else k + ("es" if k.endswith("s") else "s")
                                             for k in PREMISE_KINDS))
KIND = "<kind>"  # in a phrase: one of PREMISE_KINDS, singular or plural
PREMISE_OPENERS = (
    "There {is|are} no such.",
    "No such.",
    "There {is|are} {no|not a|not an|not any} [~] <kind>.",
    "No <kind> {named|called|by that name|with that name|like that}.",
    "No [standard library|stdlib|python|built in|builtin] module {defines|has|contains|provides}.",
    "I {could not|cannot|was unable to} find [a|an|any|such a] <kind> [named|called].",
    "[The|This|That] premise is {false|wrong|incorrect|mistaken}.",
    "... false premise.",
)
# Predicates whose subject (the words before them in the clause) must refer to the question: be
# empty, a pronoun, a kind of thing (above), or a word of the question.
PREMISE_PREDICATES = (
    "... {does|do} not [seem to|appear to] exist.",
    "... is not [a|an] {real|valid|actual|existing|known|standard|recognised|recognized|documented} <kind>.",
    "... is not {real|valid}.",
    "... is not defined [in|by] [any|the].",
    "... is not part of [the|any].",
    "... is not [a|an] <kind> of.",
    "... has no such.",
    "... has no <kind> {named|called}.",
    "... does not have [a|an|any|such a] <kind> {named|called}.",
    "... does not have such.",
)
_REFERRING = frozenset({"it", "this", "that", "they", "these", "those", "such", "there", "which"} |
                       {k for k in _KIND_ALTS.split("|")})
# Words of a question that name no topic (for "~" in a phrase and the subject of a predicate).
_FUNCTION_WORDS = frozenset({
    "the", "a", "an", "of", "in", "on", "to", "and", "or", "is", "are", "be", "for", "with", "by", "from", "at",
    "as", "what", "which", "who", "when", "where", "why", "how", "many", "does", "do", "i", "you", "not",
    "required", "default", "value", "optional", "standard", "library", "python", "define", "defines", "take",
    "takes", "parameter", "parameters", "module", "function"})

MAX_SCAN_CHARS = 20_000  # a detector call reads at most this much of the answer (the reward cuts shorter)

_GLUED_DOT = re.compile(r"(?<=\w)\.(?=\w)")  # "unknown.py", "os.path": one word, not a clause end
_CLAUSE_BREAK = re.compile(r"[.!?,;:()\[\]{}\n\u2013\u2014]")
_WORD = re.compile(r"\w+")
_BRACKETS = re.compile(r"(\[[^\[\]{}]*\]|\{[^\[\]{}]*\})")
_CONTRACTIONS = {
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "cannot", "couldnt": "could not",
    "wont": "will not", "wouldnt": "would not", "shouldnt": "should not", "isnt": "is not", "arent": "are not",
    "wasnt": "was not", "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "im": "i am", "ive": "i have", "theres": "there is", "thats": "that is", "its": "it is", "dunno": "do not know",
    "idk": "i do not know", "ill": "i will", "weve": "we have",
}


def _expand(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        if word == "not" and out and out[-1] == "can":
            out[-1] = "cannot"
        else:
            out.extend(_CONTRACTIONS.get(word, word).split())
    return out


def clauses(text: str, limit: int = MAX_SCAN_CHARS) -> list[list[str]]:
    """The detector's reading of ``text`` (first ``limit`` characters): clauses of words."""
    text = clean_text(text[:limit]).lower().replace("'", "")
    text = _GLUED_DOT.sub("_", text)
    return [words for piece in _CLAUSE_BREAK.split(text) if (words := _expand(_WORD.findall(piece)))]


TOPIC_WORD = "zz_topic_word_zz"  # "~" in a phrase: any word of the question that names its topic
Slot = tuple[tuple[str, ...], ...]  # alternative word sequences (an empty one: the slot is optional)


@dataclass(frozen=True)
class _Phrase:
    text: str
    anywhere: bool  # may stand anywhere in a clause, not only at its start
    slots: tuple[Slot, ...]
    first: frozenset[str] | None  # the words it can start with (None: any word)


def _words_of(part: str, phrase: str) -> tuple[str, ...]:
    found = clauses(part.replace("~", f" {TOPIC_WORD} "))
    if len(found) > 1:
        raise ValueError(f"refusal phrase {phrase!r} must be one clause (no , ; : . ! ? inside)")
    return tuple(found[0]) if found else ()


def _compile_phrase(phrase: str) -> _Phrase:
    """A phrase as slots: its plain words, ``[a|b]`` optional and ``{a|b}`` required alternatives."""
    text = clean_text(phrase.replace(KIND, "{" + _KIND_ALTS + "}")).strip()
    anywhere = text.startswith("...")
    slots: list[Slot] = []
    for part in _BRACKETS.split(text.removeprefix("...")):
        if part[:1] in ("[", "{"):
            alts = {_words_of(alt, phrase) for alt in part[1:-1].split("|")}
            slots.append(tuple(sorted(alts | ({()} if part[0] == "[" else set()), key=len, reverse=True)))
        elif any(ch in part for ch in "[]{}"):
            raise ValueError(f"refusal phrase {phrase!r}: unbalanced or nested brackets")
        elif words := _words_of(part, phrase):
            slots.append((words,))
    if sum(min(len(alt) for alt in slot) for slot in slots) < 2:
        raise ValueError(f"refusal phrase {phrase!r} must have at least two words")
    return _Phrase(phrase, anywhere, tuple(slots), _first_words(slots))


def _first_words(slots: Sequence[Slot]) -> frozenset[str] | None:
    """The words a match can start with: the first slot's, and the next's while slots are optional."""
    first: set[str] = set()
    for slot in slots:
        for alt in slot:
            if alt[:1] == (TOPIC_WORD,):
                return None
            first.update(alt[:1])
        if () not in slot:
            return frozenset(first)
    return frozenset(first)


def _compile(phrases: Iterable[str]) -> list[_Phrase]:
    return [_compile_phrase(p) for p in phrases]


def _alt_at(words: Sequence[str], pos: int, alt: tuple[str, ...], topic: frozenset[str]) -> bool:
    if alt == (TOPIC_WORD,):
        return pos < len(words) and words[pos] in topic
    return tuple(words[pos : pos + len(alt)]) == alt


def _match_at(words: Sequence[str], pos: int, slots: tuple[Slot, ...], topic: frozenset[str] = frozenset()) -> bool:
    """Do ``slots`` match ``words`` from ``pos`` on? (all ways at once: no backtracking)"""
    ends = {pos}
    for slot in slots:
        ends = {end + len(alt) for end in ends for alt in slot if _alt_at(words, end, alt, topic)}
        if not ends:
            return False
    return True


_LEAD_INS = sorted((tuple(lead.split()) for lead in LEAD_INS), key=len, reverse=True)


def _clause_starts(words: list[str]) -> list[int]:
    """Where a clause-opening phrase may start: 0 and after each chain of lead-ins."""
    starts, pos = [0], 0
    while True:
        lead = next((lead for lead in _LEAD_INS if tuple(words[pos : pos + len(lead)]) == lead), None)
        if lead is None:
            return starts
        pos += len(lead)
        starts.append(pos)


def _in_question(phrase: _Phrase, asked: list[list[str]]) -> bool:
    return any(_match_at(words, pos, phrase.slots) for words in asked for pos in range(len(words)))


def _find(phrases: list[_Phrase], found: list[list[str]], asked: list[list[str]],
          subject_ok: Callable[[list[str]], bool] | None = None, topic: frozenset[str] = frozenset()) -> str | None:
    """The first phrase (in list order) that fires in ``found``'s clauses, or None.

    ``subject_ok``: for phrases standing anywhere, a test of the words between the clause start
    (after lead-ins) and the phrase.
    """
    starts_of = [_clause_starts(words) for words in found]
    for phrase in phrases:
        if asked and _in_question(phrase, asked):
            continue
        for words, starts in zip(found, starts_of):
            positions = range(len(words)) if phrase.anywhere else starts
            if phrase.first is not None:
                positions = [pos for pos in positions if pos < len(words) and words[pos] in phrase.first]
            for pos in positions:
                if not _match_at(words, pos, phrase.slots, topic):
                    continue
                subject = words[max(s for s in starts if s <= pos) : pos]
                if subject_ok is None or subject_ok(subject):
                    return phrase.text
    return None


def nests_quantifiers(pattern: str) -> bool:
    """Does the regular expression repeat something that itself repeats (``(a+)*``, ``(a|b+){2,}``)?

    Such patterns can backtrack exponentially; the judge uses none and refuses users' (a pattern
    that does not compile is left to ``re.compile``'s own error).
    """
    try:
        from re import _parser as parser  # the engine's own parser (Python >= 3.11)
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse as parser  # type: ignore[no-redef]
    repeats = {parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", parser.MAX_REPEAT)}

    def walk(items, inside: bool) -> bool:
        for op, arg in items:
            if op is parser.BRANCH:
                parts = arg[1]
            elif op in repeats:
                if inside:
                    return True
                parts = [arg[2]]
            elif op is parser.SUBPATTERN:
                parts = [arg[-1]]
            elif op in (parser.ASSERT, parser.ASSERT_NOT):
                parts = [arg[1]]
            else:
                continue
            if any(walk(part, inside or op in repeats) for part in parts):
                return True
        return False

    try:
        return walk(parser.parse(pattern).data, False)
    except re.error:
        return False


@dataclass(frozen=True)
class Detection:
    """Why a text was judged a refusal or premise rejection: the phrase or pattern that fired."""

    phrase: str
    kind: str  # "phrase", "pattern" or "premise"


class RefusalDetector:
    """Phrase-list refusal detector with optional extra regular expressions (see module doc)."""

    def __init__(self, phrases: Sequence[str] | None = None, patterns: Sequence[str] = ()):
        self.phrases = _compile(DEFAULT_PHRASES if phrases is None else tuple(phrases))
        for pattern in patterns:
            if nests_quantifiers(pattern):
                raise ValueError(f"refusal pattern {pattern!r} repeats a repeated part (such as (a+)+): it could "
                                 "take exponential time on hostile text")
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]
        self.premise_openers = _compile(PREMISE_OPENERS)
        self.premise_predicates = _compile(PREMISE_PREDICATES)

    def detect(self, answer: str, question: str = "") -> Detection | None:
        """The first phrase or pattern that marks ``answer`` as a refusal, or None."""
        found = clauses(answer)
        asked = clauses(question) if question else []
        phrase = _find(self.phrases, found, asked)
        if phrase is not None:
            return Detection(phrase, "phrase")
        if self.patterns:
            cleaned = clean_text(answer[:MAX_SCAN_CHARS])
            for pattern in self.patterns:
                if pattern.search(cleaned):
                    return Detection(pattern.pattern, "pattern")
        return None

    def is_refusal(self, answer: str, question: str = "") -> bool:
        """True when :meth:`detect` finds a refusal."""
        return self.detect(answer, question) is not None

    def premise_rejection(self, answer: str, question: str = "") -> Detection | None:
        """The phrase by which ``answer`` says the thing asked about does not exist, or None.

        Either a clause opens with a rejection ("There is no such ...", "No module named ...",
        "The question rests on a false premise"), or a clause says "... does not exist", "... is
        not a real function", "... has no parameter named ..." of a subject that refers to the
        question: no subject, a pronoun ("it", "that", "such"), a kind of thing ("the function"),
        or a word of the question (such as the name asked about). "The file does not exist" in
        an answer about something else is no premise rejection. The guard against phrases echoed
        from the question applies here too.
        """
        found = clauses(answer)
        asked = clauses(question) if question else []
        topic = frozenset(w for words in asked for w in words) - _FUNCTION_WORDS
        phrase = _find(self.premise_openers, found, asked, topic=topic)
        if phrase is None:
            phrase = _find(self.premise_predicates, found, asked,
                           subject_ok=lambda subject: all(w in _FUNCTION_WORDS for w in subject)
                           or any(w in _REFERRING or w in topic for w in subject))
        return Detection(phrase, "premise") if phrase is not None else None
