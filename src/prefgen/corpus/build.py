"""Building a corpus index with infini-gram's indexer, and describing a built one.

The build normalises every document (:mod:`prefgen.corpus.normalise`), writes them as jsonl into a
staging directory beside the target, runs ``python -m infini_gram.indexing --token_dtype u8`` on
it, checks the result, writes ``prefgen_index.json`` and only then moves the staging directory into
place, so an interrupted build never leaves a half-written index where a reward would load it.

Two traps of infini-gram 2.6.0 are handled here: its indexer raises the open-file limit to a value
an unprivileged process may not set (we pass the current hard limit), and with more than one CPU a
small corpus yields a suffix array of the wrong size or one that is not a permutation, which
segfaults on the first query. Small corpora are therefore indexed with one CPU, and every build is
verified (table size, permutation, order) before it is accepted.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prefgen.corpus.index import (
    DOC_SEPARATOR,
    INDEX_FILES,
    INDEX_FORMAT,
    INDEX_FORMAT_VERSION,
    SETTINGS_FILE,
    CorpusIndex,
    index_fingerprint,
    pointer_width,
    sorted_pairs_ok,
)
from prefgen.corpus.normalise import NORMALISATION_VERSION
from prefgen.corpus.reader import Document, ReadStats, read_documents
from prefgen.hashing import canonical_json

# Below this many bytes of text infini-gram 2.6.0 is indexed with one CPU (see the module docstring).
# Its parts overlap by 100,000 bytes; the failures seen were all below 2 x 100,000 bytes per CPU.
# 64 MiB leaves a wide margin and costs little: such corpora index in well under a minute.
SMALL_CORPUS_BYTES = 64 * 1024 * 1024
_ORDER_CHECKS = 2048

ProgressCallback = Callable[[str, int, "int | None"], None]


class IndexExistsError(FileExistsError):
    """The output directory already holds something and ``force`` was not given."""


class EmptyCorpusError(ValueError):
    """No row of the corpus could be indexed."""


class IndexBuildError(RuntimeError):
    """infini-gram's indexer failed or produced an index that does not verify."""


@dataclass
class IndexInfo:
    """What a build produced."""

    directory: str
    documents: int
    text_bytes: int
    text_chars: int
    size_bytes: int
    corpus_fingerprint: str
    fingerprint: str
    rows: int
    skipped: dict[str, int]
    cpus: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CorpusHasher:
    """The corpus fingerprint: a hash of the normalised documents and their metadata, in order."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def update(self, document: Document) -> None:
        self._digest.update(canonical_json([document.text, document.metadata]).encode("utf-8"))
        self._digest.update(b"\n")

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def corpus_fingerprint(corpus: str | Path | Iterable[dict[str, Any]], *, text_field: str = "text") -> str:
    """The fingerprint an index built from ``corpus`` would record, without building it."""
    hasher = CorpusHasher()
    for document in read_documents(corpus, ReadStats(), text_field=text_field):
        hasher.update(document)
    return hasher.hexdigest()


def indexing_cpus(text_bytes: int, requested: int | None = None) -> int:
    """CPUs to give infini-gram's indexer: one for small corpora (the 2.6.0 bug), else up to 8."""
    if text_bytes < SMALL_CORPUS_BYTES:
        return 1
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(requested or available, available, 8))


def build_index(
    corpus: str | Path | Iterable[dict[str, Any]],
    out_dir: str | Path,
    *,
    text_field: str = "text",
    force: bool = False,
    cpus: int | None = None,
    mem_gib: int | None = None,
    progress: ProgressCallback | None = None,
) -> IndexInfo:
    """Index ``corpus`` (a jsonl / parquet / save_to_disk path, or rows) into ``out_dir``.

    Refuses to replace an existing index unless ``force``; refuses an empty corpus. ``progress`` is
    called as ``progress(stage, done, total)`` with stages ``read``, ``index`` and ``verify``.
    """
    started = time.monotonic()
    out_dir = Path(out_dir).absolute()
    _check_target(out_dir, force)
    report = progress or (lambda stage, done, total: None)
    staging = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "corpus").mkdir(parents=True)
    try:
        stats, hasher, text_bytes, text_chars = _write_documents(corpus, staging / "corpus", text_field, report)
        used_cpus = indexing_cpus(text_bytes, cpus)
        _run_indexer(staging, used_cpus, mem_gib or _default_mem_gib(), report)
        shutil.rmtree(staging / "corpus")
        report("verify", 0, 1)
        _verify_suffix_array(staging, text_bytes)
        settings = _settings(corpus, text_field, stats, hasher.hexdigest(), text_bytes, text_chars, used_cpus, staging)
        (staging / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        # The loader's own checks, and a wider order check, must pass before the index is published.
        if not order_spot_check(CorpusIndex(staging)):
            raise IndexBuildError("suffix array is not sorted: infini-gram produced a corrupt index")
        report("verify", 1, 1)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return IndexInfo(
        directory=str(out_dir),
        documents=stats.documents,
        text_bytes=text_bytes,
        text_chars=text_chars,
        size_bytes=_directory_size(out_dir),
        corpus_fingerprint=settings["corpus"]["fingerprint"],
        fingerprint=settings["fingerprint"],
        rows=stats.rows,
        skipped=dict(stats.skipped),
        cpus=used_cpus,
        seconds=round(time.monotonic() - started, 3),
    )


def index_info(directory: str | Path) -> dict[str, Any]:
    """Size on disk, documents, bytes and fingerprints of a built index (validated on the way)."""
    index = CorpusIndex(directory)
    corpus = index.settings["corpus"]
    return {
        "directory": str(Path(directory)),
        "size_bytes": _directory_size(Path(directory)),
        "documents": index.documents,
        "text_bytes": corpus["text_bytes"],
        "text_chars": corpus["text_chars"],
        "rows": corpus["rows"],
        "skipped": corpus["skipped"],
        "source": corpus["source"],
        "text_field": corpus["text_field"],
        "corpus_fingerprint": index.corpus_fingerprint,
        "fingerprint": index.fingerprint,
        "built": index.settings["built"],
    }


# --- steps ------------------------------------------------------------------------------------
def _check_target(out_dir: Path, force: bool) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise IndexExistsError(f"'{out_dir}' exists and is a file")
    contents = {path.name for path in out_dir.iterdir()}
    if not contents:
        return
    if not force:
        raise IndexExistsError(f"'{out_dir}' already exists and is not empty; pass --force to replace it")
    ours = set(INDEX_FILES) | {SETTINGS_FILE}
    foreign = sorted(name for name in contents if name not in ours and not name.startswith(("unigram.", "parts-", "merged-")))
    if foreign:
        # --force replaces an index, never a directory of other files given by mistake.
        raise IndexExistsError(
            f"'{out_dir}' holds files that are not part of an index ({', '.join(foreign[:5])}); not replacing it"
        )


def _write_documents(
    corpus: str | Path | Iterable[dict[str, Any]], corpus_dir: Path, text_field: str, report: ProgressCallback
) -> tuple[ReadStats, CorpusHasher, int, int]:
    stats = ReadStats()
    hasher = CorpusHasher()
    text_bytes = text_chars = 0
    with open(corpus_dir / "corpus.jsonl", "w", encoding="ascii") as handle:
        for document in read_documents(corpus, stats, text_field=text_field):
            hasher.update(document)
            # ASCII-escaped JSON: no raw line separators inside a line for the indexer to split on.
            handle.write(json.dumps({"text": document.text, **document.metadata}, ensure_ascii=True) + "\n")
            text_bytes += 1 + len(document.text.encode("utf-8"))
            text_chars += len(document.text)
            if stats.documents % 1000 == 0:
                report("read", stats.documents, None)
    report("read", stats.documents, stats.documents)
    if stats.documents == 0:
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(stats.skipped.items())) or "no rows"
        raise EmptyCorpusError(f"the corpus has no document to index ({stats.rows} rows read; skipped: {skipped})")
    return stats, hasher, text_bytes, text_chars


_STAGES = {
    "Step 1 (tokenize): Starting": 0,
    "Step 2.1 (make-part): Starting": 1,
    "Step 2.2 (merge): Starting": 2,
    "Step 2.3 (concat): Starting": 3,
    "Step 2 (build_sa): Done": 4,
}


def _run_indexer(staging: Path, cpus: int, mem_gib: int, report: ProgressCallback) -> None:
    _, hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    command = [
        sys.executable, "-m", "infini_gram.indexing",
        "--data_dir", str(staging / "corpus"),
        "--save_dir", str(staging),
        "--temp_dir", str(staging),
        "--token_dtype", "u8",
        "--add_metadata",
        "--cpus", str(cpus),
        "--mem", str(mem_gib),
        "--ulimit", str(hard_limit if hard_limit != resource.RLIM_INFINITY else 1 << 20),
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    tail: collections.deque[str] = collections.deque(maxlen=40)
    report("index", 0, 4)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line:
                tail.append(line)
            for marker, stage in _STAGES.items():
                if line.startswith(marker):
                    report("index", stage, 4)
        returncode = proc.wait()
    if returncode != 0 or any("Something went wrong" in line for line in tail):
        raise IndexBuildError("infini-gram's indexer failed:\n" + "\n".join(tail))


def _verify_suffix_array(staging: Path, text_bytes: int) -> None:
    """Reject the index unless table.0 is a sorted permutation of the text positions."""
    text_path, table_path = staging / "tokenized.0", staging / "table.0"
    if text_path.stat().st_size != text_bytes:
        raise IndexBuildError(f"tokenized.0 has {text_path.stat().st_size} bytes, expected {text_bytes}")
    width = pointer_width(text_bytes)
    if table_path.stat().st_size != text_bytes * width:
        raise IndexBuildError(
            f"suffix array has {table_path.stat().st_size} bytes, expected {text_bytes * width}: "
            "infini-gram produced a corrupt index"
        )
    table = np.memmap(table_path, dtype=np.uint8, mode="r").reshape(text_bytes, width)
    seen = np.zeros(text_bytes, dtype=bool)
    chunk = 1 << 22
    for start in range(0, text_bytes, chunk):
        rows = np.asarray(table[start : start + chunk]).astype(np.int64)
        positions = np.zeros(rows.shape[0], dtype=np.int64)
        for byte in range(width - 1, -1, -1):
            positions = (positions << 8) | rows[:, byte]
        if positions.max() >= text_bytes:
            raise IndexBuildError("suffix array points outside the text: infini-gram produced a corrupt index")
        seen[positions] = True
    if not seen.all():
        raise IndexBuildError("suffix array is not a permutation of the text: infini-gram produced a corrupt index")
    del table, seen


def _settings(corpus, text_field, stats, corpus_fp, text_bytes, text_chars, cpus, staging) -> dict[str, Any]:
    import importlib.metadata

    # Only the corpus's file name is kept: the settings may end up in a dataset card.
    source = Path(corpus).name if isinstance(corpus, (str, Path)) else "rows"
    return {
        "format": INDEX_FORMAT,
        "version": INDEX_FORMAT_VERSION,
        "fingerprint": index_fingerprint(corpus_fp),
        "corpus": {
            "source": source,
            "text_field": text_field,
            "fingerprint": corpus_fp,
            "rows": stats.rows,
            "documents": stats.documents,
            "skipped": dict(sorted(stats.skipped.items())),
            "text_bytes": text_bytes,
            "text_chars": text_chars,
        },
        "normalisation": NORMALISATION_VERSION,
        "separator": f"{DOC_SEPARATOR:02x}",
        "built": {
            "infini_gram": importlib.metadata.version("infini-gram"),
            "token_dtype": "u8",
            "cpus": cpus,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "files": {name: (staging / name).stat().st_size for name in INDEX_FILES},
    }


def _default_mem_gib() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 2
    return int(max(1, min(8, total // (4 * 1024**3))))


def _directory_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file())


def order_spot_check(index: CorpusIndex, samples: int = _ORDER_CHECKS) -> bool:
    """Check ``samples`` adjacent suffix pairs for order (used by tests and ``verify``)."""
    ranks = np.unique(np.random.default_rng(0).integers(0, max(1, index.size - 1), size=samples))
    return sorted_pairs_ok(index, ranks)
