"""The quote reward on hostile text: a megabyte of anything is scored in bounded time.

Policy text is adversarial. Before the fixes here, one answer made of a code fence and 1 MB of
spaces took over two minutes (normalisation backtracked quadratically over a whitespace run without
a line break) and 19,000 characters of it took 2.7 s. Now a response is cut at ``max_chars``
before any regex, normalisation is linear, and the number of windows searched is bounded by the cut.
"""

from __future__ import annotations

import functools
import random
import re
import time

import pytest

from prefgen.corpus import quip
from prefgen.corpus.build import build_index
from prefgen.corpus.index import CorpusIndex
from prefgen.corpus.normalise import normalise
from prefgen.corpus.quip import QuipScorer
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards as reward_registry

MEGABYTE = 1_000_000
# The bound. Scoring any of these takes well under 0.2 s on an idle core; the bound is
# generous because the test machine is shared (other processes may hold the CPU) and because what
# it guards against is minutes, not milliseconds. Timed in this process's CPU time, which other
# processes do not inflate.
SECONDS = 1.0
PHRASE = "Return the sum of values."  # 25 characters, in the corpus: its repetitions are found windows
DOCS = [
    {"id": "maths.total", "text": f"{PHRASE} Start adds to the total.\nRaises TypeError for strings."},
    {"id": "maths.rule", "text": "=" * 40 + "\nA ruled line of equals signs, as in reStructuredText headings."},
    {"id": "text.marks", "text": "Zero\u200bwidth and combining cafe\u0301 marks: \u00e9\u0301\u200d ok."},
    {"id": "text.spaces", "text": "Spaces   and\n\n\nnewlines\n   are collapsed in every document."},
]
RNG = random.Random(3)
MIXED_ALPHABET = "a\u200b\u200c\u200d\u0301\u0308\ufeff\u00e9\u65e5\U0001f642 \t\u3000\u00a0\u2028x\ud800"


@functools.cache
def hostile_texts() -> dict[str, str]:
    """The shapes of text the issue lists, each about 1 MB."""
    return {
        "one character": "a" * MEGABYTE,
        "one corpus character": "=" * MEGABYTE,  # every window found: the longest run of quotes
        "spaces in a code fence": "```" + " " * MEGABYTE + "```",
        "spaces and a newline in a code fence": "```python\n" + " " * MEGABYTE + "\n```",
        "repeated corpus phrase": (PHRASE * (MEGABYTE // len(PHRASE) + 1))[:MEGABYTE],
        "repeated phrase with spaces": ((PHRASE + " ") * (MEGABYTE // 26 + 1))[:MEGABYTE],
        "mixed unicode": "".join(RNG.choice(MIXED_ALPHABET) for _ in range(MEGABYTE)),
        "no newlines": " ".join(RNG.choice(["sum", "of", "values", "the", "Return"]) for _ in range(MEGABYTE // 5)),
        "only newlines": "\n" * MEGABYTE,
        "only mixed line breaks": "\r\n\u2028\x0b\x0c\x85" * (MEGABYTE // 7),
    }


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile") / "index"
    build_index(DOCS, directory)
    return directory


def ask(text: str) -> list[tuple[Prompt, Candidate]]:
    prompt = Prompt(id="p", prompt="What does `maths.total` do?", task={"relevant_docs": ["maths.total"]})
    return [(prompt, Candidate(id="c", prompt_id="p", sample_index=0, text=text))]


@pytest.fixture(scope="module")
def rewards(index_dir):
    plain = reward_registry.build("quote", {"index": str(index_dir)})
    grounded = reward_registry.build("quote", {"index": str(index_dir), "relevant_field": "relevant_docs"})
    for reward in (plain, grounded):
        reward.score_safely(ask(PHRASE + " warm-up"))  # opens the index: not what is timed
    return {"plain": plain, "grounded": grounded}


@pytest.mark.parametrize("kind", ["plain", "grounded"])
@pytest.mark.parametrize("name", list(hostile_texts()))
def test_a_megabyte_of_hostile_text_is_scored_in_under_a_second(rewards, kind, name):
    text = hostile_texts()[name]
    reward = rewards[kind]
    started = time.process_time()
    [result] = reward.score_safely(ask(text))
    elapsed = time.process_time() - started
    assert elapsed < SECONDS, f"{name}: {elapsed:.2f} s"
    details = result.details
    # Cut before normalisation, and the cut is recorded.
    assert details["cut"] == {"at_chars": reward.params.max_chars, "response_chars": len(text)}
    assert details["chars"] <= reward.params.max_chars
    if details["chars"] < reward.params.n:
        assert result.score is None and "too short" in result.reason
    else:
        assert 0.0 <= result.score <= 1.0


def test_a_cut_response_scores_as_its_first_max_chars_characters(index_dir):
    reward = reward_registry.build("quote", {"index": str(index_dir), "max_chars": 300})
    text = "Preamble that the corpus does not hold. " + PHRASE * 40
    [cut] = reward.score_safely(ask(text))
    [head] = reward.score_safely(ask(text[:300]))
    assert cut.score == head.score and cut.details["windows_total"] == head.details["windows_total"]
    assert cut.details["cut"] == {"at_chars": 300, "response_chars": len(text)}
    assert "cut" not in head.details


def test_repeated_quotes_are_found_and_credited(rewards):
    # Not only fast: a repeated corpus phrase is still quoted text, and grounded when relevant.
    sentence = f"{PHRASE} Start adds to the total."
    [result] = rewards["grounded"].score_safely(ask(f"{sentence} {sentence} {sentence}"))
    assert result.details["quip_all"] > 0.5 and result.details["quip_grounded"] == result.details["quip_all"]
    assert {quote["source"]["id"] for quote in result.details["quotes"]} == {"maths.total"}


def two_pass_normalise(text: str) -> str:
    """QUIP's normalisation as it was first written (two passes; quadratic on long space runs)."""
    breaks = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
    text = re.sub(rf"\s*[{breaks}]\s*", "\n", text)
    return re.sub(r"[^\S\n]+", " ", text).strip()


def test_linear_normalisation_equals_the_two_pass_definition():
    # The linear pre-pass must not change a character of what indexes and responses normalise to.
    rng = random.Random(7)
    alphabet = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
                "\u00a0", "\u3000", "\u200b", "\u0301", "a", "b"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert normalise(text) == two_pass_normalise(text), repr(text)
    for doc in DOCS:
        assert normalise(doc["text"]) == two_pass_normalise(doc["text"])


def test_runs_of_many_quotes_are_covered_as_one_quote_at_a_time_would(index_dir, monkeypatch):
    # Runs still open after SERIAL_QUOTE_ROUNDS are finished from one batched search: the same
    # quotes (spans and texts) as the round-by-round cover, each found at the place it names.
    index = CorpusIndex(index_dir)
    texts = ["=" * 3000, "x " + "=" * 500 + " " + PHRASE * 30, (PHRASE + " Start adds") * 50]
    monkeypatch.setattr(quip, "SERIAL_QUOTE_ROUNDS", 10_000)
    serial = QuipScorer([index]).score(texts)
    monkeypatch.setattr(quip, "SERIAL_QUOTE_ROUNDS", 1)
    batched = QuipScorer([index]).score(texts)
    for one, other in zip(serial, batched):
        assert len(one.quotes) > 20
        assert [(q.start, q.end, q.text) for q in one.quotes] == [(q.start, q.end, q.text) for q in other.quotes]
        for quote in other.quotes:
            source = index.document_text(quote.source["doc"])
            assert source[quote.source["offset"] :].startswith(quote.text)
