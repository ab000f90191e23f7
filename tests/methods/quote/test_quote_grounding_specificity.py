"""Grounding that means "about the object asked": text many documents share earns no credit.

The corpus mimics the demo's finding: `os.mkdir` and `os.mkfifo` (and more functions) share a
`dir_fd` paragraph word for word, so an answer to "what does os.mkfifo do?" that recites
`os.mkdir`'s docstring used to score high, its shared paragraph counting as grounded.
"""

from __future__ import annotations

import numpy as np
import pytest

from prefgen.corpus.build import build_index
from prefgen.corpus.grounding import COMMON_OCCURRENCES, document_frequency
from prefgen.corpus.index import CorpusIndex
from prefgen.corpus.normalise import normalise
from prefgen.corpus.suffix_search import BLOCK, SuffixSearcher
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards

BOILERPLATE = ("If dir_fd is not None, it should be a file descriptor open to a directory, and path should "
               "be relative; path will then be relative to that directory.")
PAIR_TEXT = "Both calls flush the pipe buffer before the descriptor is duplicated for the child."
SPECIFIC = {
    "os.mkfifo": "Create a FIFO (a POSIX named pipe) with numeric mode bits.",
    "os.mkdir": "Create a directory with the given permissions.",
    "os.mknod": "Create a filesystem node: a file, device special file or named pipe.",
    "os.rmdir": "Remove an empty directory from the filesystem.",
    "os.unlink": "Remove a file; the same as remove(), under its Unix name.",
}
DOCS = [{"id": doc_id, "text": f"{text}\n{BOILERPLATE}"} for doc_id, text in SPECIFIC.items()]
DOCS += [
    {"id": "os", "text": "OS routines for NT or Posix depending on what system we're on."},
    # Text two objects share (a pair of near-identical docstrings), once in the relevant one.
    {"id": "os.pipe", "text": f"Create a pipe. {PAIR_TEXT}"},
    {"id": "os.pipe2", "text": f"Create a pipe with flags. {PAIR_TEXT}"},
    {"id": "os.dup", "text": f"Return a duplicate of a file descriptor. {PAIR_TEXT}"},
    # The module docstring repeats its function's sentence: shared, but only within the relevant set.
    {"id": "shutil", "text": "High-level file operations. Copy data and mode bits, like the cp command does."},
    {"id": "shutil.copy", "text": "Copy data and mode bits, like the cp command does. Return the destination."},
    # A line repeated far more often than COMMON_OCCURRENCES, all within one document.
    {"id": "art.rule", "text": "\n".join(["-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-="] * (COMMON_OCCURRENCES + 10))},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("specificity") / "index"
    build_index(DOCS, directory)
    return directory


def reward_for(index_dir, **params):
    return rewards.build("quote", {"index": str(index_dir), "relevant_field": "relevant_docs", **params})


def ask(reward, relevant, *texts):
    prompt = Prompt(id="p", prompt="What does it do?", task={"relevant_docs": relevant})
    items = [(prompt, Candidate(id=str(i), prompt_id="p", sample_index=i, text=t)) for i, t in enumerate(texts)]
    return reward.score_safely(items)


def windows_of(text: str, n: int = 25) -> list[str]:
    text = normalise(text)
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def brute_grounded(text: str, relevant: list[str], limit: int) -> float:
    """Grounded QUIP by definition: windows a relevant document holds and at most ``limit`` others do."""
    corpus = {doc["id"]: normalise(doc["text"]) for doc in DOCS}
    windows = windows_of(text)
    specific = [
        any(w in corpus[r] for r in relevant) and sum(w in t for i, t in corpus.items() if i not in relevant) <= limit
        for w in windows
    ]
    return sum(specific) / len(windows)


def test_shared_boilerplate_earns_no_grounding_credit(index_dir):
    [result] = ask(reward_for(index_dir), ["os.mkfifo", "os"], BOILERPLATE)
    d = result.details
    assert d["quip_all"] == 1.0 and d["quip_relevant"] == 1.0  # found, and in the relevant docstring
    assert result.score == d["quip_grounded"] == 0.0 and d["grounded_chars"] == 0  # but held by five


def test_specific_text_earns_full_credit(index_dir):
    [result] = ask(reward_for(index_dir), ["os.mkfifo", "os"], SPECIFIC["os.mkfifo"])
    assert result.score == result.details["quip_all"] == 1.0


def test_another_objects_docstring_scores_nothing_even_where_it_shares_the_asked_ones(index_dir):
    # The demo's case: asked about os.mkfifo, the answer recites os.mkdir's docstring.
    answer = DOCS[1]["text"]
    # Specificity alone, without the opening rule (which would zero this answer anyway).
    [old] = ask(reward_for(index_dir, max_other_docs=None, opening="any"), ["os.mkfifo", "os"], answer)
    [new] = ask(reward_for(index_dir, opening="any"), ["os.mkfifo", "os"], answer)
    assert old.score > 0.6  # the shared paragraph counted as grounded
    assert new.details["quip_relevant"] == old.score
    # Only the windows at the join ("...s.\nIf dir_fd is not None") are held by fewer documents.
    assert new.score == pytest.approx(brute_grounded(answer, ["os.mkfifo", "os"], 2)) and new.score < 0.05
    own = ask(reward_for(index_dir), ["os.mkfifo", "os"], DOCS[0]["text"])[0]
    # Its own docstring: credit for the windows that reach into its own first sentence, not for the paragraph.
    assert own.score == pytest.approx(brute_grounded(DOCS[0]["text"], ["os.mkfifo", "os"], 2))
    assert 0.2 < own.score < 0.5


def test_the_limit_counts_documents_outside_the_relevant_set(index_dir):
    # PAIR_TEXT: in os.pipe (relevant) and in two other documents.
    for limit, credited in ((1, False), (2, True), (None, True)):
        [result] = ask(reward_for(index_dir, max_other_docs=limit), ["os.pipe"], PAIR_TEXT)
        assert (result.score == 1.0) is credited and (result.score == 0.0) is (not credited), limit
    # Held by two documents that are both relevant: no other document holds it, full credit at 0.
    sentence = "Copy data and mode bits, like the cp command does."
    [result] = ask(reward_for(index_dir, max_other_docs=0), ["shutil.copy", "shutil"], sentence)
    assert result.score == 1.0
    [result] = ask(reward_for(index_dir, max_other_docs=0), ["shutil.copy"], sentence)
    assert result.score == 0.0


def test_plain_quip_is_unchanged(index_dir):
    texts = [DOCS[1]["text"], BOILERPLATE + " and some words of my own to finish", PAIR_TEXT, "nothing quoted here at all"]
    plain = rewards.build("quote", {"index": str(index_dir)}).score_safely(
        [(Prompt(id="q", prompt="?"), Candidate(id=str(i), prompt_id="q", sample_index=i, text=t))
         for i, t in enumerate(texts)]
    )
    corpus = [normalise(doc["text"]) for doc in DOCS]
    for limit in (0, 2, None):
        grounded = ask(reward_for(index_dir, max_other_docs=limit, count="all"), ["os.mkfifo"], *texts)
        for text, one, other in zip(texts, plain, grounded):
            brute = np.mean([any(w in doc for doc in corpus) for w in windows_of(text)])
            assert one.score == other.score == other.details["quip_all"] == pytest.approx(brute)
            # The same quotes (a grounded reward may name the relevant one of several sources).
            spans = [[(q["start"], q["end"], q["text"]) for q in r.details["quotes"]] for r in (one, other)]
            assert spans[0] == spans[1]


def test_document_frequency_equals_a_brute_force_count(index_dir):
    index = CorpusIndex(index_dir)
    corpus = [normalise(doc["text"]) for doc in DOCS]
    windows = sorted({w for doc in corpus for w in windows_of(doc)}) + ["not in the corpus at all!!", "é" * 25]
    for limit in (0, 3, 20):
        counted = document_frequency([SuffixSearcher(index)], windows, limit)
        for window, count in zip(windows, counted.tolist()):
            held = sum(window in doc for doc in corpus)
            occurrences = sum(doc.count(window) for doc in corpus)
            expected = limit + 1 if occurrences > COMMON_OCCURRENCES else min(held, limit + 1)
            assert count == expected, window


def test_prefix_range_counts_every_occurrence(index_dir):
    index = CorpusIndex(index_dir)
    searcher = SuffixSearcher(index)
    text = bytes(index.text).decode("utf-8", "replace")
    queries = ["dir_fd", "Create a", "-=-=", "pipe", "zzz", "C", "Remove an empty directory from the filesystem."]
    encoded = [q.encode() for q in queries]
    starts = np.cumsum([0] + [len(e) for e in encoded[:-1]])
    buffer = np.frombuffer(b"".join(encoded) + bytes(4 * BLOCK), dtype=np.uint8)
    lo, hi = searcher.prefix_range(buffer, starts, [len(e) for e in encoded])
    for query, first, end in zip(queries, lo.tolist(), hi.tolist()):
        occurrences = sum(1 for i in range(len(text)) if text.startswith(query, i))
        assert end - first == occurrences, query
        positions = index.suffix_positions(np.arange(first, end))
        assert all(bytes(index.text[p : p + len(query.encode())]) == query.encode() for p in positions.tolist())


def test_the_limit_is_a_validated_param_in_the_fingerprint(index_dir):
    assert reward_for(index_dir).params.max_other_docs == 2
    assert reward_for(index_dir).fingerprint() != reward_for(index_dir, max_other_docs=None).fingerprint()
    with pytest.raises(ValueError):
        reward_for(index_dir, max_other_docs=-1)


def test_opening_rule_zeroes_answers_that_open_with_another_objects_documentation(index_dir):
    elsewhere = SPECIFIC["os.mkdir"] + " " + SPECIFIC["os.mkfifo"]  # opens with os.mkdir's sentence
    own_first = SPECIFIC["os.mkfifo"] + " " + SPECIFIC["os.mkdir"]
    lenient = ask(reward_for(index_dir), ["os.mkfifo"], elsewhere, own_first)  # the default: opening: any
    strict = ask(reward_for(index_dir, opening="relevant"), ["os.mkfifo"], elsewhere, own_first)
    assert lenient[0].score > 0.3 and lenient[0].details["opens_relevant"] is False
    assert strict[0].score == 0.0 and "first quote" in strict[0].details["opening_rule"]
    assert strict[0].details["quip_all"] == lenient[0].details["quip_all"]  # plain QUIP untouched
    assert strict[1].score == lenient[1].score > 0.3 and strict[1].details["opens_relevant"] is True
    assert "opening_rule" not in strict[1].details
