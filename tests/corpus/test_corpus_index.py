"""Corpus indexes: normalisation, reading, building (and infini-gram's traps), validation, CLI."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from prefgen.corpus import build as build_module
from prefgen.corpus.build import (
    SMALL_CORPUS_BYTES,
    EmptyCorpusError,
    IndexBuildError,
    IndexExistsError,
    build_index,
    corpus_fingerprint,
    index_info,
    indexing_cpus,
)
from prefgen.corpus.cli import index_app
from prefgen.corpus.index import CorpusIndex, InvalidIndexError, MissingIndexError, pointer_width
from prefgen.corpus.normalise import normalise
from prefgen.corpus.reader import CorpusFormatError

WORDS = ["the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "this", "are", "or", "from", "at", "which", "an"]


def random_docs(count: int, seed: int = 0, words: int = 60) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"id": f"doc-{i}", "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, words)))}
        for i in range(count)
    ]


def write_jsonl(path, rows) -> str:
    with open(path, "wb") as handle:
        for row in rows:
            if isinstance(row, str):  # a raw line, written as is
                row = (row + "\n").encode()
            handle.write(row if isinstance(row, bytes) else (json.dumps(row) + "\n").encode())
    return str(path)


# --- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  a  b\tc  ", "a b c"),
        ("line one\n\n\n   line two", "line one\nline two"),  # newline runs and indentation go
        ("trailing   \n  next", "trailing\nnext"),
        ("windows\r\nline\rold mac", "windows\nline\nold mac"),
        ("non\u00a0breaking\u2003space", "non breaking space"),
        ("para\u2029graph\x0bvt", "para\ngraph\nvt"),
        ("Case Kept, punctuation; kept!", "Case Kept, punctuation; kept!"),
        ("\n\t \n", ""),
    ],
)
def test_normalise_collapses_whitespace_the_quip_way(raw, expected):
    assert normalise(raw) == expected


def test_normalise_is_idempotent_on_random_text():
    rng = random.Random(3)
    alphabet = "ab \n\t\r\u00a0\u3000é日\x00"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        once = normalise(text)
        assert normalise(once) == once
        assert "  " not in once and "\n\n" not in once and " \n" not in once and "\n " not in once


# --- building -----------------------------------------------------------------------------------
def test_small_corpus_index_is_a_sorted_permutation_and_queries_work(tmp_path):
    """The infini-gram 2.6.0 trap: with several CPUs a corpus this small (~45 KB) gets a suffix
    array of the wrong size, or one that is not a permutation, which segfaults on the first query."""
    docs = random_docs(400, seed=1, words=60)
    info = build_index(docs, tmp_path / "idx")
    assert info.cpus == 1 and info.documents == 400
    index = CorpusIndex(tmp_path / "idx")
    assert index.document_ids() == [doc["id"] for doc in docs]  # what grounded quoting looks documents up by
    text = bytes(index.text)
    positions = index.suffix_positions(np.arange(index.size))
    assert np.array_equal(np.sort(positions), np.arange(index.size))  # a permutation
    for first, second in zip(positions[:-1].tolist(), positions[1:].tolist()):
        head_a, head_b = text[first : first + 256], text[second : second + 256]
        assert head_a < head_b or (head_a == head_b and text[first:] < text[second:])
    # infini-gram's own engine on it, in a child process: a corrupt index kills it with SIGSEGV.
    needle = list(normalise(docs[7]["text"])[:30].encode())
    script = textwrap.dedent(
        f"""
        from infini_gram.engine import InfiniGramEngine
        engine = InfiniGramEngine(index_dir={str(tmp_path / "idx")!r}, eos_token_id=0, vocab_size=255, token_dtype="u8")
        print(engine.count(input_ids={needle!r})["count"])
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    joined = "\xff".join(normalise(doc["text"]) for doc in docs)
    expected = sum(1 for i in range(len(joined)) if joined.startswith(bytes(needle).decode(), i))
    assert int(child.stdout.strip()) == expected


def test_small_corpora_are_indexed_with_one_cpu():
    assert indexing_cpus(1000, requested=8) == 1
    assert indexing_cpus(SMALL_CORPUS_BYTES - 1, requested=8) == 1
    assert indexing_cpus(SMALL_CORPUS_BYTES, requested=1) == 1


@pytest.mark.parametrize("docs", [400, 1000])
def test_a_corrupt_multi_cpu_build_is_rejected_not_published(tmp_path, monkeypatch, docs):
    # Force what the guard prevents: with infini-gram 2.6.0, two CPUs on a small corpus write a
    # suffix array of the wrong size (~45 KB here) or a wrong permutation (~110 KB).
    monkeypatch.setattr(build_module, "indexing_cpus", lambda text_bytes, requested=None: 2)
    try:
        build_index(random_docs(docs, seed=1), tmp_path / "idx")
    except IndexBuildError as exc:
        assert re.search("corrupt|failed", str(exc))
        assert not (tmp_path / "idx").exists()
    else:  # an indexer without the bug: then the published index must be a correct one
        index = CorpusIndex(tmp_path / "idx")
        assert np.array_equal(np.sort(index.suffix_positions(np.arange(index.size))), np.arange(index.size))
    assert not any(p.name.startswith(".idx.building") for p in tmp_path.iterdir())


def test_build_refuses_to_overwrite_without_force(tmp_path):
    docs = random_docs(5)
    build_index(docs, tmp_path / "idx")
    first = CorpusIndex(tmp_path / "idx").fingerprint
    with pytest.raises(IndexExistsError, match="--force"):
        build_index(random_docs(5, seed=9), tmp_path / "idx")
    assert CorpusIndex(tmp_path / "idx").fingerprint == first
    info = build_index(random_docs(5, seed=9), tmp_path / "idx", force=True)
    assert CorpusIndex(tmp_path / "idx").fingerprint == info.fingerprint != first


def test_force_never_deletes_a_directory_that_is_not_an_index(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(IndexExistsError, match="not part of an index"):
        build_index(random_docs(5), tmp_path / "mine", force=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"


def test_bad_rows_are_skipped_and_counted(tmp_path):
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [
            {"text": "A good document about suffix arrays.", "id": "good", "title": "Good", "url": "http://x"},
            b'{"text": "bad byte \xff here"}\n',
            b"not json at all\n",
            {"text": "   \n\t "},
            {"text": ""},
            {"body": "no text field"},
            {"text": None},
            '{"text": "lone surrogate \\ud800 here"}',
            {"text": "Second\n   good\tdocument."},
            b"\n",
        ],
    )
    info = build_index(path, tmp_path / "idx")
    assert info.documents == 2
    assert info.skipped == {"non_utf8": 2, "invalid_json": 1, "empty": 2, "no_text": 2}
    index = CorpusIndex(tmp_path / "idx")
    assert index.document_text(1) == "Second\ngood document."
    assert index.metadata(0) == {"id": "good", "title": "Good", "url": "http://x"}
    facts = index_info(tmp_path / "idx")
    assert facts["documents"] == 2 and facts["skipped"]["non_utf8"] == 2 and facts["source"] == "c.jsonl"
    assert facts["text_bytes"] == index.size == sum(1 + len(index.document_text(d).encode()) for d in range(2))


def test_an_empty_corpus_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": "  "}, b"\xfe\xff\n"])
    with pytest.raises(EmptyCorpusError, match="no document"):
        build_index(path, tmp_path / "idx")
    assert not (tmp_path / "idx").exists()


def test_unknown_corpus_format_and_missing_field(tmp_path):
    (tmp_path / "c.csv").write_text("text\nhello\n")
    with pytest.raises(CorpusFormatError, match="expected a .jsonl"):
        build_index(tmp_path / "c.csv", tmp_path / "idx")
    with pytest.raises(CorpusFormatError, match="not found"):
        build_index(tmp_path / "nope.jsonl", tmp_path / "idx")


def test_parquet_and_saved_dataset_with_other_text_field(tmp_path):
    import datasets

    rows = {"body": ["First parquet document here.", "Second one, with ü."], "id": ["p1", "p2"], "extra": [1, 2]}
    dataset = datasets.Dataset.from_dict(rows)
    dataset.to_parquet(str(tmp_path / "c.parquet"))
    dataset.save_to_disk(str(tmp_path / "saved"))
    for source in (tmp_path / "c.parquet", tmp_path / "saved"):
        out = tmp_path / f"idx-{source.name}"
        info = build_index(source, out, text_field="body")
        index = CorpusIndex(out)
        assert info.documents == 2
        assert index.document_text(1) == "Second one, with ü." and index.metadata(1) == {"id": "p2"}
    assert CorpusIndex(tmp_path / "idx-c.parquet").corpus_fingerprint == CorpusIndex(tmp_path / "idx-saved").corpus_fingerprint
    with pytest.raises(CorpusFormatError, match="no column 'text'"):
        build_index(tmp_path / "c.parquet", tmp_path / "idx-x")


def test_corpus_fingerprint_follows_normalised_content(tmp_path):
    docs = random_docs(20, seed=4)
    info = build_index(docs, tmp_path / "idx")
    assert info.corpus_fingerprint == corpus_fingerprint(docs)
    # Whitespace that normalisation removes does not change the corpus; a word does.
    respaced = [{**doc, "text": "  " + doc["text"].replace(" ", "\n  ", 1)} for doc in docs]
    assert corpus_fingerprint(respaced) != info.corpus_fingerprint  # " " -> "\n" is a real change
    padded = [{**doc, "text": "\t" + doc["text"] + "   "} for doc in docs]
    assert corpus_fingerprint(padded) == info.corpus_fingerprint
    changed = [dict(doc) for doc in docs]
    changed[3]["text"] += " extra"
    assert corpus_fingerprint(changed) != info.corpus_fingerprint


# --- loading --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("built") / "idx"
    build_index(random_docs(200, seed=2), directory)
    return directory


def damaged_copy(built_index, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built_index, copy)
    return copy


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(MissingIndexError, match="no index at"):
        CorpusIndex(tmp_path / "absent")
    (tmp_path / "plain").mkdir()
    with pytest.raises(MissingIndexError, match="not a prefgen corpus index"):
        CorpusIndex(tmp_path / "plain")


def test_truncated_or_missing_files_are_detected(built_index, tmp_path):
    copy = damaged_copy(built_index, tmp_path)
    with open(copy / "table.0", "r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 3)
    with pytest.raises(InvalidIndexError, match="table.0"):
        CorpusIndex(copy)
    (copy / "table.0").unlink()
    with pytest.raises(InvalidIndexError, match="table.0 is missing"):
        CorpusIndex(copy)


def test_a_scrambled_suffix_array_is_detected(built_index, tmp_path):
    copy = damaged_copy(built_index, tmp_path)
    index = CorpusIndex(copy)
    width = pointer_width(index.size)
    table = np.fromfile(copy / "table.0", dtype=np.uint8).reshape(-1, width)
    np.random.default_rng(0).shuffle(table)
    table.tofile(copy / "table.0")
    with pytest.raises(InvalidIndexError, match="not sorted"):
        CorpusIndex(copy)


def test_tampered_settings_or_text_are_detected(built_index, tmp_path):
    copy = damaged_copy(built_index, tmp_path)
    settings = json.loads((copy / "prefgen_index.json").read_text())
    settings["corpus"]["fingerprint"] = "0" * 64
    (copy / "prefgen_index.json").write_text(json.dumps(settings))
    with pytest.raises(InvalidIndexError, match="fingerprint"):
        CorpusIndex(copy)
    copy2 = tmp_path / "copy2"
    shutil.copytree(built_index, copy2)
    with open(copy2 / "tokenized.0", "ab") as handle:
        handle.write(b"more text")
    with pytest.raises(InvalidIndexError, match="tokenized.0 has"):
        CorpusIndex(copy2)


# --- command line ----------------------------------------------------------------------------------
def test_cli_build_and_info(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", random_docs(30, seed=5) + [{"text": ""}])
    runner = CliRunner()
    result = runner.invoke(index_app, ["build", path, "--out", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    again = runner.invoke(index_app, ["build", path, "--out", str(tmp_path / "idx")])
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(index_app, ["build", path, "--out", str(tmp_path / "idx"), "--force"]).exit_code == 0
    info = runner.invoke(index_app, ["info", str(tmp_path / "idx"), "--json"])
    assert info.exit_code == 0
    facts = json.loads(info.output)
    assert facts["documents"] == 30 and facts["skipped"] == {"empty": 1} and facts["size_bytes"] > facts["text_bytes"]
    table = runner.invoke(index_app, ["info", str(tmp_path / "idx")])
    assert table.exit_code == 0 and "corpus fingerprint" in table.output
    missing = runner.invoke(index_app, ["info", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no index" in missing.output
