"""Reading a trusted corpus: jsonl, parquet or a ``save_to_disk`` dataset, one document per row.

Each row has a text field (``text`` unless told otherwise) and may have ``id``, ``title`` and
``url`` fields, kept as metadata so that a quote can name its source. Rows that cannot be indexed
are skipped and counted by reason rather than failing the build: text that is not valid UTF-8,
text that is empty once normalised, rows without a text field, and jsonl lines that are not JSON.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefgen.corpus.normalise import normalise

METADATA_FIELDS = ("id", "title", "url")


@dataclass
class Document:
    """One normalised document ready for indexing."""

    text: str
    metadata: dict[str, str]


@dataclass
class ReadStats:
    """How many rows were read, kept and skipped (by reason)."""

    rows: int = 0
    documents: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "documents": self.documents, "skipped": dict(sorted(self.skipped.items()))}


class CorpusFormatError(ValueError):
    """The corpus path is not a file or dataset this module can read."""


def read_documents(
    corpus: str | Path | Iterable[dict[str, Any]], stats: ReadStats, *, text_field: str = "text"
) -> Iterator[Document]:
    """Yield normalised documents from a corpus path or an iterable of row dicts, updating ``stats``."""
    rows = iter_rows(corpus, stats, text_field=text_field) if isinstance(corpus, (str, Path)) else corpus
    for row in rows:
        if row is None:  # a row the file reader already counted as skipped
            continue
        stats.rows += 1
        document = to_document(row, text_field, stats)
        if document is not None:
            stats.documents += 1
            yield document


def to_document(row: dict[str, Any], text_field: str, stats: ReadStats) -> Document | None:
    """A normalised :class:`Document`, or None (counted in ``stats.skipped``) if unusable."""
    text = row.get(text_field)
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            stats.skipped["non_utf8"] += 1
            return None
    if not isinstance(text, str):
        stats.skipped["no_text"] += 1
        return None
    if not _encodable(text):  # lone surrogates, e.g. from a "\ud800" escape in JSON
        stats.skipped["non_utf8"] += 1
        return None
    text = normalise(text)
    if not text:
        stats.skipped["empty"] += 1
        return None
    metadata = {key: str(row[key]) for key in METADATA_FIELDS if row.get(key) is not None}
    if not all(_encodable(value) for value in metadata.values()):
        metadata = {key: value.encode("utf-8", "replace").decode("utf-8") for key, value in metadata.items()}
    return Document(text, metadata)


def iter_rows(path: str | Path, stats: ReadStats, *, text_field: str = "text") -> Iterator[dict | None]:
    """Rows of a jsonl(.gz) file, a parquet file or a ``save_to_disk`` directory."""
    path = Path(path)
    if not path.exists():
        raise CorpusFormatError(f"corpus not found: {path}")
    if path.is_dir():
        return _iter_saved_dataset(path, text_field)
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return _iter_jsonl(path, stats)
    if name.endswith(".parquet"):
        return _iter_parquet(path, text_field)
    raise CorpusFormatError(
        f"cannot read corpus {path}: expected a .jsonl, .jsonl.gz or .parquet file, "
        "or a directory written by datasets' save_to_disk"
    )


def _iter_jsonl(path: Path, stats: ReadStats) -> Iterator[dict | None]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        for raw in handle:
            raw = raw.rstrip(b"\r\n")
            if not raw.strip():
                continue  # blank lines are not rows
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                stats.rows += 1
                stats.skipped["non_utf8"] += 1
                yield None
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if not isinstance(row, dict):
                stats.rows += 1
                stats.skipped["invalid_json"] += 1
                yield None
                continue
            yield row


def _iter_parquet(path: Path, text_field: str) -> Iterator[dict]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    names = set(parquet.schema_arrow.names)
    if text_field not in names:
        raise CorpusFormatError(f"{path}: no column {text_field!r} (columns: {', '.join(sorted(names))})")
    columns = [text_field] + [key for key in METADATA_FIELDS if key in names and key != text_field]
    for batch in parquet.iter_batches(columns=columns, batch_size=4096):
        yield from batch.to_pylist()


def _iter_saved_dataset(path: Path, text_field: str) -> Iterator[dict]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise CorpusFormatError(
            f"{path} is a directory but not a dataset written by save_to_disk: {exc}"
        ) from exc
    # A DatasetDict is read split by split, in name order: a corpus is all of its rows.
    parts = [loaded[name] for name in sorted(loaded)] if isinstance(loaded, datasets.DatasetDict) else [loaded]
    for part in parts:
        if text_field not in part.column_names:
            raise CorpusFormatError(
                f"{path}: no column {text_field!r} (columns: {', '.join(sorted(part.column_names))})"
            )
        yield from part.select_columns([c for c in part.column_names if c == text_field or c in METADATA_FIELDS])


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
