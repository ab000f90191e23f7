"""The quote reward: exact QUIP against a brute-force scan, worked examples, quotes, bad input."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest
from pydantic import ValidationError

from prefgen.corpus.build import build_index
from prefgen.corpus.index import CorpusIndex
from prefgen.corpus.normalise import normalise
from prefgen.corpus.quip import QuipScorer
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards

# Lower-case words, some multi-byte (2, 3 and 4 bytes in UTF-8). The corpus has no digits and no
# upper-case letters, so FILLER below can never be part of a found window.
WORDS = ["the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "this", "are", "or", "from", "at", "which", "an", "suffix", "array", "index", "corpus", "quote", "window", "search", "match", "byte", "text", "document", "café", "naïve", "déjà", "vu", "日本語", "文字", "emoji", "🙂", "ünïcödé"]
FILLER = "QX7 ZJ9 K#4 %W2 "
SEPARATOR = "\udfff"  # joins documents for the brute force; never in a normalised corpus


def make_docs(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        lines = []
        for _ in range(rng.randint(1, 6)):
            indent = " " * rng.choice([0, 0, 4, 8])
            lines.append(indent + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25))))
        docs.append({"id": f"mod.fn{i}", "title": f"Title {i}", "text": "\n".join(lines) + rng.choice(["", "\n\n", "  "])})
    return docs


DOCS = make_docs(250, seed=11)
_RNG = random.Random(5)
LONG_DOC = {"id": "long.doc", "text": " ".join(_RNG.choice(WORDS) for _ in range(600))}
ALL_DOCS = DOCS + [LONG_DOC]
NORMALISED = [normalise(doc["text"]) for doc in ALL_DOCS]
JOINED = SEPARATOR.join(NORMALISED)


def brute_hits(text: str, n: int) -> np.ndarray:
    """Found or not for every window, by scanning the corpus (the definition of QUIP)."""
    text = normalise(text)
    return np.array([text[i : i + n] in JOINED for i in range(len(text) - n + 1)], dtype=bool)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("quote") / "index"
    build_index(ALL_DOCS, directory)
    return directory


@pytest.fixture(scope="module")
def scorer(index_dir):
    return QuipScorer([CorpusIndex(index_dir)], n=25)


def reformat(text: str, rng: random.Random) -> str:
    """The same words with other whitespace: what normalisation must see through."""
    out = []
    for char in text:
        if char == " " and rng.random() < 0.2:
            out.append(rng.choice(["  ", "\t", " \u00a0", "\u3000"]))
        elif char == "\n" and rng.random() < 0.5:
            out.append(rng.choice(["\n\n", "\r\n", "\n      ", "  \n\t"]))
        else:
            out.append(char)
    return "".join(out)


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for k in range(count):
        parts = []
        for _ in range(rng.randint(1, 7)):
            kind = rng.random()
            if kind < 0.4:  # a quote of any length, cut anywhere (even inside a word)
                doc = rng.choice(NORMALISED)
                start = rng.randrange(len(doc))
                parts.append(doc[start : start + rng.randint(3, 220)])
            elif kind < 0.55:  # across two documents that are adjacent in the index
                d = rng.randrange(len(NORMALISED) - 1)
                parts.append(NORMALISED[d][-rng.randint(5, 60) :] + " " + NORMALISED[d + 1][: rng.randint(5, 60)])
            elif kind < 0.85:  # new text from the corpus vocabulary: many short partial matches
                parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))))
            else:
                parts.append(FILLER * rng.randint(1, 3))
        text = rng.choice([" ", "", "\n"]).join(parts)
        if k % 5 == 0:
            text = reformat(text, rng)
        if k % 17 == 0:  # control characters and lone surrogates: scored, never a crash
            position = rng.randrange(len(text) + 1)
            text = text[:position] + rng.choice(["\x00", "\x07", "\ud800", "\x1b[0m", "\udc80x"]) + text[position:]
        texts.append(text)
    return texts


# --- exactness -------------------------------------------------------------------------------------
def test_window_hits_equal_a_brute_force_scan(scorer):
    texts = random_texts(400, seed=1)
    hits = scorer.window_hits(texts)
    assert sum(h.size for h in hits) > 20_000 and 0.2 < np.mean(np.concatenate(hits)) < 0.8
    for text, found in zip(texts, hits):
        assert np.array_equal(found, brute_hits(text, 25)), text


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_exact_for_other_window_lengths(index_dir, n):
    scorer = QuipScorer([CorpusIndex(index_dir)], n=n)
    texts = random_texts(60, seed=n)
    for text, found in zip(texts, scorer.window_hits(texts)):
        assert np.array_equal(found, brute_hits(text, n)), text


def test_several_indexes_count_a_window_held_by_any(tmp_path):
    build_index(ALL_DOCS[::2], tmp_path / "even")
    build_index(ALL_DOCS[1::2], tmp_path / "odd")
    scorer = QuipScorer([CorpusIndex(tmp_path / "even"), CorpusIndex(tmp_path / "odd")], n=25)
    texts = random_texts(120, seed=7)
    for text, result, found in zip(texts, scorer.score(texts), scorer.window_hits(texts)):
        expected = brute_hits(text, 25)
        assert np.array_equal(found, expected)
        if result.score is not None:
            assert result.windows_found == expected.sum()
            for quote in result.quotes:  # each quote's source is in the index it names
                index = scorer.indexes[quote.source["index"]]
                doc = index.document_text(quote.source["doc"])
                assert doc[quote.source["offset"] :].startswith(quote.text)


def test_a_quote_across_two_documents_is_not_one_quote(scorer):
    first, second = NORMALISED[40], NORMALISED[41]  # adjacent in the index, separated by one byte
    assert len(first) >= 30 and len(second) >= 30
    text = first[-30:] + second[:30]
    result = scorer.score([text])[0]
    assert result.windows_found == brute_hits(text, 25).sum()
    assert result.windows_found < result.windows_total
    assert all(q.end - q.start < 60 for q in result.quotes)


def test_whitespace_differences_never_hide_a_quote(scorer):
    quote = NORMALISED[-1][100:400]
    rng = random.Random(2)
    variants = [quote, reformat(quote, rng), "   " + quote.replace(" ", "\n    ", 3) + "\n\n", quote.replace(" ", "\t")]
    scores = [result.score for result in scorer.score(variants)]
    assert scores[0] == 1.0 and scores[1] == 1.0
    # Line breaks are kept (as one "\n"), so turning spaces into them is a real change...
    assert scores[2] < 1.0
    # ...but tabs collapse to the space the corpus has.
    assert scores[3] == 1.0


# --- the published worked examples' window counts ---------------------------------------------------
def quote_then_filler(quote_chars: int, total_chars: int) -> str:
    quote = NORMALISED[-1][:quote_chars]
    filler = (FILLER * 40)[: total_chars - quote_chars]
    return quote + filler


@pytest.mark.parametrize(
    "text_builder, found, total, score",
    [
        (lambda: NORMALISED[-1][:234], 210, 210, 1.0),
        (lambda: (FILLER * 20)[:154], 0, 130, 0.0),
        (lambda: quote_then_filler(64, 129), 40, 105, 0.381),
        (lambda: quote_then_filler(35, 94), 11, 70, 0.157),
    ],
)
def test_worked_examples_window_counts(scorer, text_builder, found, total, score):
    text = text_builder()
    assert len(normalise(text)) == total + 24  # denominator = normalised length - 24
    result = scorer.score([text])[0]
    assert (result.windows_found, result.windows_total) == (found, total)
    assert round(result.score, 3) == score
    assert brute_hits(text, 25).sum() == found


# --- quotes ----------------------------------------------------------------------------------------------
def test_quotes_cover_exactly_the_quoted_characters_and_name_their_source(scorer, index_dir):
    index = CorpusIndex(index_dir)
    texts = random_texts(150, seed=3)
    for text, result in zip(texts, scorer.score(texts)):
        normal = normalise(text)
        if result.score is None:
            assert len(normal) < 25 and result.reason.startswith("too short")
            continue
        found = brute_hits(text, 25)
        quoted = np.zeros(len(normal), dtype=bool)
        for i in np.flatnonzero(found):
            quoted[i : i + 25] = True
        covered = np.zeros(len(normal), dtype=bool)
        for quote in result.quotes:
            assert quote.text == normal[quote.start : quote.end] and quote.end - quote.start >= 25
            assert quote.end == len(normal) or normal[quote.start : quote.end + 1] not in JOINED  # right-maximal
            source = quote.source
            assert index.document_text(source["doc"])[source["offset"] :].startswith(quote.text)
            assert source["id"] == ALL_DOCS[source["doc"]]["id"]
            covered[quote.start : quote.end] = True
        assert np.array_equal(covered, quoted)
        assert result.longest_quote == max((q.end - q.start for q in result.quotes), default=0)


def test_long_quotes_need_few_searches(index_dir):
    scorer = QuipScorer([CorpusIndex(index_dir)], n=25)
    text = NORMALISED[-1][:3000]
    result = scorer.score([text], with_quotes=False)[0]
    assert result.score == 1.0
    # Monotone matching statistics: a long quote is settled by a handful of searches, not 3,000.
    assert scorer.stats.searches < result.windows_total / 8


# --- the reward -------------------------------------------------------------------------------------------
def items(*texts):
    prompt = Prompt(id="p", prompt="What does it do?")
    return [(prompt, Candidate(id=str(i), prompt_id="p", sample_index=i, text=t)) for i, t in enumerate(texts)]


def test_reward_scores_with_details(index_dir):
    reward = rewards.build("quote", {"index": str(index_dir)})
    assert reward.check() == []
    quote = NORMALISED[-1][:120].strip()
    results = reward.score_safely(items("As documented: " + quote, "tiny", "bad \ud800\x00 input " + quote))
    first, short, odd = results
    assert 0 < first.score < 1 and first.reason is None
    assert first.details["windows_total"] == len("As documented: " + quote) - 24
    assert first.details["longest_quote"] >= len(quote)
    assert first.details["quotes"][-1]["source"]["id"] == "long.doc"
    json.dumps(first.details)  # JSON-serialisable
    assert short.score is None and "too short" in short.reason and short.details["windows_total"] == 0
    assert odd.score is not None and odd.details["windows_found"] == brute_hits("bad \ud800\x00 input " + quote, 25).sum()
    assert "corpus fingerprint" in reward.describe([])


def test_reward_check_names_the_config_key(index_dir, tmp_path):
    missing = rewards.build("quote", {"index": str(tmp_path / "nowhere")})
    [problem] = missing.check()
    assert problem.startswith("reward.index: no index at") and "prefgen index build" in problem
    broken = tmp_path / "broken"
    shutil.copytree(index_dir, broken)
    (broken / "table.0").write_bytes(b"\x00" * 10)
    [problem] = rewards.build("quote", {"index": [str(index_dir), str(broken)]}).check()
    assert problem.startswith("reward.index:") and "table.0" in problem


def test_corpus_fingerprint_claims_are_checked(index_dir, tmp_path):
    actual = CorpusIndex(index_dir).corpus_fingerprint
    assert rewards.build("quote", {"index": str(index_dir), "corpus_fingerprint": actual[:12]}).check() == []
    wrong = rewards.build("quote", {"index": str(index_dir), "corpus_fingerprint": "0123456789abcdef"})
    [problem] = wrong.check()
    assert problem.startswith("reward.corpus_fingerprint:") and "different corpus" in problem
    with pytest.raises(ValueError, match="different corpus"):
        wrong.setup()
    identity = rewards.build("quote", {"index": str(index_dir)}).index_identities()[0]
    assert identity["corpus_fingerprint"] == actual and identity["documents"] == len(ALL_DOCS)


def test_reward_fingerprint_follows_index_content_not_its_path(index_dir, tmp_path):
    base = rewards.build("quote", {"index": str(index_dir)}).fingerprint()
    moved = tmp_path / "moved"
    shutil.copytree(index_dir, moved)
    assert rewards.build("quote", {"index": str(moved)}).fingerprint() == base
    assert rewards.build("quote", {"index": str(index_dir), "n": 20}).fingerprint() != base
    build_index(ALL_DOCS[:-1], tmp_path / "other")
    assert rewards.build("quote", {"index": str(tmp_path / "other")}).fingerprint() != base


def test_params_are_validated():
    with pytest.raises(ValidationError):
        rewards.build("quote", {"index": "demo", "window": 25})
    with pytest.raises(ValidationError):
        rewards.build("quote", {"index": []})
    with pytest.raises(ValidationError):
        rewards.build("quote", {"index": "demo", "n": 0})


def test_demo_index_scores_a_docstring_quote():
    from prefgen.methods.quote.demo_index import demo_index_dir
    from prefgen.stdlib.corpus import iter_docstrings

    reward = rewards.build("quote", {"index": "demo"})
    assert reward.check() == []
    doc = next(d for d in iter_docstrings() if len(normalise(d["text"])) > 80)
    [result] = reward.score_safely(items(doc["text"]))
    assert result.score == 1.0
    [quote] = result.details["quotes"]
    assert quote["length"] == len(normalise(doc["text"]))
    source = quote["source"]
    assert CorpusIndex(demo_index_dir()).document_text(source["doc"])[source["offset"] :].startswith(quote["text"])


# --- grounded quoting ---------------------------------------------------------------------------------
# A hand-made corpus: module `shapes` with two functions, and an unrelated module `colours`. Each
# text is distinctive, so which windows a relevant document holds can be counted by hand.
GROUNDED_DOCS = [
    {"id": "shapes", "text": "Geometry helpers for plane figures and their measurements."},
    {"id": "shapes.area", "text": "Return the area enclosed by the polygon given as a list of vertices."},
    {"id": "shapes.perimeter", "text": "Return the total length of the polygon boundary, closing the last edge."},
    {"id": "colours.mix", "text": "Blend two paint colours in the given proportion and return the mixture."},
    # Holds the whole `shapes.area` sentence too: a quote of it occurs in and out of the relevant set.
    {"id": "colours.notes", "text": "Unrelated notes. Return the area enclosed by the polygon given as a list "
     "of vertices.\nMore unrelated notes follow here."},
]
GROUNDED_TEXT = {doc["id"]: doc["text"] for doc in GROUNDED_DOCS}


@pytest.fixture(scope="module")
def grounded_index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("grounded") / "index"
    build_index(GROUNDED_DOCS, directory)
    return directory


def grounded_reward(index_dir, **params):
    return rewards.build("quote", {"index": str(index_dir), "relevant_field": "relevant_docs", **params})


def ask(relevant, *texts, field="relevant_docs"):
    task = {} if relevant is None else {field: relevant}
    prompt = Prompt(id="p", prompt="What does shapes.area do?", task=task)
    return [(prompt, Candidate(id=str(i), prompt_id="p", sample_index=i, text=t)) for i, t in enumerate(texts)]


def windows_in(text: str, documents: list[str], n: int = 25) -> int:
    """Brute force: the windows of ``text`` that one of ``documents`` holds."""
    return sum(any(text[i : i + n] in doc for doc in documents) for i in range(len(text) - n + 1))


def test_a_quote_from_another_document_does_not_count(grounded_index):
    reward = grounded_reward(grounded_index)
    on_topic, off_topic = reward.score_safely(
        ask(["shapes.area", "shapes"], GROUNDED_TEXT["shapes.area"], GROUNDED_TEXT["colours.mix"])
    )
    assert on_topic.score == 1.0 and on_topic.details["quip_all"] == 1.0
    assert off_topic.score == 0.0 and off_topic.details["quip_all"] == 1.0 and off_topic.reason is None
    [quote] = off_topic.details["quotes"]
    assert quote["relevant"] is False and quote["source"]["id"] == "colours.mix"
    assert off_topic.details["quoted_chars"] == len(GROUNDED_TEXT["colours.mix"])
    assert off_topic.details["grounded_chars"] == 0


def test_spans_across_two_relevant_documents_count_exactly(grounded_index):
    area, module, other = GROUNDED_TEXT["shapes.area"], GROUNDED_TEXT["shapes"], GROUNDED_TEXT["colours.mix"]
    text = f"{area} {module} {other}"
    [result] = grounded_reward(grounded_index).score_safely(ask(["shapes.area", "shapes"], text))
    total = len(text) - 24
    # Inside each relevant document every window counts; windows across a junction or in
    # `colours.mix` do not.
    expected = (len(area) - 24) + (len(module) - 24)
    assert expected == windows_in(text, [area, module])
    assert result.details["windows_grounded"] == expected
    assert result.score == pytest.approx(expected / total)
    assert result.details["quip_grounded"] == result.score
    assert result.details["quip_all"] == pytest.approx((expected + len(other) - 24) / total)
    assert result.details["windows_found"] == windows_in(text, [normalise(doc["text"]) for doc in GROUNDED_DOCS])
    assert result.details["grounded_chars"] == len(area) + len(module)
    assert [q["relevant"] for q in result.details["quotes"]] == [True, True, False]
    assert [q["relevant_chars"] for q in result.details["quotes"]] == [len(area), len(module), 0]
    assert set(result.details["relevant_docs"]) == {"shapes", "shapes.area"}
    json.dumps(result.details)


def test_a_quote_held_in_and_out_of_the_relevant_set_names_the_relevant_source(grounded_index):
    [result] = grounded_reward(grounded_index).score_safely(ask(["shapes.area"], GROUNDED_TEXT["shapes.area"]))
    [quote] = result.details["quotes"]
    assert quote["relevant"] is True and quote["source"]["id"] == "shapes.area"
    index = CorpusIndex(grounded_index)
    assert index.document_text(quote["source"]["doc"])[quote["source"]["offset"] :].startswith(quote["text"])
    [elsewhere] = grounded_reward(grounded_index).score_safely(ask(["colours.notes"], GROUNDED_TEXT["shapes.area"]))
    assert elsewhere.score == 1.0 and elsewhere.details["quotes"][0]["source"]["id"] == "colours.notes"
    # A quote that starts in the relevant text and runs on in another document: out as a whole,
    # but its relevant part is counted.
    run_on = GROUNDED_TEXT["shapes.area"] + "\nMore unrelated notes follow here."
    [mixed] = grounded_reward(grounded_index).score_safely(ask(["shapes.area"], run_on))
    [quote] = mixed.details["quotes"]
    assert quote["relevant"] is False and quote["source"]["id"] == "colours.notes"
    assert quote["relevant_chars"] == mixed.details["grounded_chars"] == len(GROUNDED_TEXT["shapes.area"])


def test_missing_or_bad_relevant_field_is_unscorable_with_a_reason(grounded_index):
    reward = grounded_reward(grounded_index)
    text = GROUNDED_TEXT["shapes.area"]
    [missing] = reward.score_safely(ask(None, text))
    assert missing.score is None and "'relevant_docs'" in missing.reason and "reward.relevant_field" in missing.reason
    [bad] = reward.score_safely(ask([3, None], text))
    assert bad.score is None and "must be a document id or a list" in bad.reason
    [unknown] = reward.score_safely(ask(["no.such.doc"], text))
    assert unknown.score is None and "names a document" in unknown.reason
    [single] = reward.score_safely(ask("shapes.area", text))  # one id as a string
    assert single.score == 1.0
    [partly] = reward.score_safely(ask(["shapes.area", "no.such.doc"], text))
    assert partly.score == 1.0 and partly.details["unknown_relevant_ids"] == ["no.such.doc"]
    # Counting all documents, a prompt without the field keeps its plain score.
    [plain] = grounded_reward(grounded_index, count="all").score_safely(ask(None, text))
    assert plain.score == 1.0 and plain.details["quip_grounded"] is None and plain.details["grounding_problem"]


def test_count_all_scores_plain_quip_with_grounding_in_details(grounded_index):
    texts = (GROUNDED_TEXT["colours.mix"], "tiny")
    off_topic, short = grounded_reward(grounded_index, count="all").score_safely(ask(["shapes.area"], *texts))
    assert off_topic.score == 1.0 and off_topic.details["quip_grounded"] == 0.0
    assert short.score is None and "too short" in short.reason and short.details["quip_grounded"] is None


def test_prefix_matching_and_fixed_id_prefixes(grounded_index):
    text = f"{GROUNDED_TEXT['shapes.perimeter']} {GROUNDED_TEXT['colours.mix']}"
    perimeter_windows = len(GROUNDED_TEXT["shapes.perimeter"]) - 24
    [by_prefix] = grounded_reward(grounded_index, relevant_match="prefix").score_safely(ask(["shapes."], text))
    assert by_prefix.details["windows_grounded"] == perimeter_windows
    assert set(by_prefix.details["relevant_docs"]) == {"shapes.area", "shapes.perimeter"}
    [exact] = grounded_reward(grounded_index).score_safely(ask(["shapes."], text))
    assert exact.score is None  # no document is called exactly "shapes."
    fixed = rewards.build("quote", {"index": str(grounded_index), "relevant_id_prefix": ["colours."]})
    [result] = fixed.score_safely(ask(None, text))  # no task field needed: the predicate is fixed
    assert result.details["windows_grounded"] == len(GROUNDED_TEXT["colours.mix"]) - 24
    assert result.score == pytest.approx(result.details["windows_grounded"] / (len(text) - 24))


def test_grounded_windows_equal_a_brute_force_scan(index_dir):
    reward = rewards.build("quote", {"index": str(index_dir), "relevant_field": "relevant_docs"})
    relevant_ids = [doc["id"] for doc in ALL_DOCS[::7]]
    relevant_texts = NORMALISED[::7]
    texts = random_texts(60, seed=23)
    results = reward.score_safely(ask(relevant_ids, *texts))
    for text, result in zip(texts, results):
        normal = normalise(text)
        if len(normal) < 25:
            assert result.score is None
            continue
        assert result.details["windows_grounded"] == windows_in(normal, relevant_texts), text
        assert result.details["windows_found"] == brute_hits(text, 25).sum()


def test_fingerprint_changes_with_the_grounding_setting(grounded_index):
    plain = rewards.build("quote", {"index": str(grounded_index)}).fingerprint()
    grounded = grounded_reward(grounded_index).fingerprint()
    assert grounded != plain
    assert grounded_reward(grounded_index, count="relevant").fingerprint() == grounded  # the default, spelled out
    assert grounded_reward(grounded_index, count="all").fingerprint() not in (grounded, plain)
    assert grounded_reward(grounded_index, relevant_match="prefix").fingerprint() != grounded
    assert grounded_reward(grounded_index, relevant_field="docs").fingerprint() != grounded
    assert rewards.build("quote", {"index": str(grounded_index), "count": "all"}).fingerprint() == plain


def test_grounding_params_are_validated():
    with pytest.raises(ValidationError, match="count: relevant needs relevant_field"):
        rewards.build("quote", {"index": "demo", "count": "relevant"})
    with pytest.raises(ValidationError):
        rewards.build("quote", {"index": "demo", "relevant_field": "docs", "count": "some"})
    with pytest.raises(ValidationError):
        rewards.build("quote", {"index": "demo", "relevant_field": "docs", "relevant_match": "regex"})
    with pytest.raises(ValidationError, match="relevant_id_prefix"):
        rewards.build("quote", {"index": "demo", "relevant_id_prefix": [" "]})


def test_card_reports_grounding(grounded_index):
    from prefgen.records import Scored

    reward = grounded_reward(grounded_index)
    items_ = ask(["shapes.area"], GROUNDED_TEXT["shapes.area"], GROUNDED_TEXT["colours.mix"])
    [missing] = reward.score_safely(ask(None, "some answer text long enough to score"))
    results = reward.score_safely(items_) + [missing]
    candidates = [candidate for _, candidate in items_] + [items_[0][1].model_copy(update={"id": "x"})]
    scored = [
        Scored(**candidate.model_dump(), reward="quote", score=result.score, details=result.details)
        for candidate, result in zip(candidates, results)
    ]
    card = reward.describe(scored)
    assert "grounded quoting" in card and "`relevant_docs`" in card
    assert "mean grounded QUIP 0.500, plain 1.000" in card
    assert "1 of 2 quoting samples take at least half" in card
    assert "1 samples without grounding: task has no 'relevant_docs' field" in card
    assert "(1 shorter than n or without grounding, counted as 0 in the first mean); mean grounded QUIP 0.333" in card


def test_stdlib_questions_name_the_asked_objects_documentation():
    from prefgen.methods.quote.stdlib_docs import load_rows, relevant_documents
    from prefgen.stdlib.corpus import iter_docstrings

    kinds = {doc["id"]: doc["kind"] for doc in iter_docstrings()}
    rows = {row["task"]["object"]: row for row in load_rows()}
    assert rows["io.FileIO.close"]["task"]["relevant_docs"] == ["io.FileIO.close", "io.FileIO", "io"]
    assert rows["typing.get_origin"]["task"]["relevant_docs"] == ["typing.get_origin", "typing"]
    made_up = {"pkg": "module", "pkg.sub": "module", "pkg.sub.f": "function", "pkg.C.m": "method"}
    assert relevant_documents("pkg.sub.f", made_up) == ["pkg.sub.f", "pkg.sub"]  # its own module, not `pkg`
    assert relevant_documents("pkg.C.m", made_up) == ["pkg.C.m", "pkg"]  # a class without a docstring
    for object_id, row in rows.items():
        relevant = row["task"]["relevant_docs"]
        assert relevant[0] == object_id and all(name in kinds for name in relevant)
