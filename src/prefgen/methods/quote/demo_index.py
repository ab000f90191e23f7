"""The demo's trusted corpus index: the installed standard library's docstrings, built on first use.

The index is cached under ``<cache_dir>/indexes/stdlib-<corpus fingerprint>``: another Python build
has other docstrings, hence another fingerprint and another index, and a cached index is reused
only if it still validates. Concurrent first uses (several Ray workers) wait on a file lock, and a
build is published by renaming a finished directory, so no one ever loads half an index.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from prefgen.corpus.build import build_index, corpus_fingerprint
from prefgen.corpus.index import CorpusIndex, InvalidIndexError, index_fingerprint
from prefgen.paths import cache_dir


def demo_documents() -> list[dict]:
    """The demo corpus rows: ``{"id": dotted name, "text": docstring, ...}``, sorted by id."""
    from prefgen.stdlib.corpus import iter_docstrings

    return [{"id": row["id"], "text": row["text"]} for row in iter_docstrings()]


def demo_corpus_fingerprint() -> str:
    """The corpus fingerprint the demo index has (or will have) on this Python build."""
    return corpus_fingerprint(demo_documents())


def demo_index_fingerprint() -> str:
    """The index fingerprint of the demo index, computable without building it."""
    return index_fingerprint(demo_corpus_fingerprint())


def demo_index_dir(progress=None) -> Path:
    """The directory of the demo corpus index, building it first if it is not cached yet."""
    documents = demo_documents()
    fingerprint = corpus_fingerprint(documents)
    root = cache_dir() / "indexes"
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"stdlib-{fingerprint[:16]}"
    if _usable(target, fingerprint):
        return target
    with open(root / f".stdlib-{fingerprint[:16]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _usable(target, fingerprint):  # another process may have built it meanwhile
                build_index(documents, target, force=True, progress=progress)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def _usable(directory: Path, fingerprint: str) -> bool:
    if not directory.exists():
        return False
    try:
        return CorpusIndex(directory).corpus_fingerprint == fingerprint
    except InvalidIndexError:
        return False
