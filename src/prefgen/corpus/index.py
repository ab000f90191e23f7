"""A built corpus index on disk: its layout, its fingerprints, and a validating loader.

An index directory holds infini-gram's single-shard u8 files and prefgen's settings file:

- ``tokenized.0``: the normalised documents as UTF-8 bytes, each preceded by the byte ``0xff``.
  ``0xff`` never occurs in UTF-8, so no byte string that is valid UTF-8 (every window of a
  response) can match across two documents.
- ``table.0``: the suffix array, one little-endian pointer of :func:`pointer_width` bytes per
  byte of ``tokenized.0``, in lexicographic order of the suffixes (a suffix that ends sorts
  before its extensions).
- ``offset.0``: one u64 per document, where its ``0xff`` is; ``metadata.0`` / ``metaoff.0``: one
  JSON line per document (``{"path", "linenum", "metadata": {id, title, url}}``) and its offset.
- ``prefgen_index.json``: build settings, counts, file sizes and the fingerprints.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from prefgen.corpus.normalise import NORMALISATION_VERSION
from prefgen.hashing import content_hash

SETTINGS_FILE = "prefgen_index.json"
INDEX_FORMAT = "prefgen-corpus-index"
INDEX_FORMAT_VERSION = 1
DOC_SEPARATOR = 0xFF
INDEX_FILES = ("tokenized.0", "table.0", "offset.0", "metadata.0", "metaoff.0")
# How many adjacent suffix pairs the loader checks for order (cheap; catches a scrambled table).
_SPOT_CHECKS = 64
_SPOT_CHECK_BYTES = 64


class InvalidIndexError(ValueError):
    """The directory is not a usable corpus index (missing, corrupt, or another format)."""


class MissingIndexError(InvalidIndexError):
    """There is no index at the given path."""


def pointer_width(text_bytes: int) -> int:
    """Bytes per suffix-array pointer, as infini-gram's indexer chooses it."""
    return max(1, math.ceil(math.log2(text_bytes) / 8))


def index_fingerprint(corpus_fingerprint: str) -> str:
    """What determines an index's contents: its corpus, the normalisation and the layout."""
    return content_hash(
        {
            "format": INDEX_FORMAT,
            "version": INDEX_FORMAT_VERSION,
            "normalisation": NORMALISATION_VERSION,
            "separator": DOC_SEPARATOR,
            "corpus": corpus_fingerprint,
        }
    )


def read_settings(directory: str | Path) -> dict[str, Any]:
    """The settings file of an index, or :class:`InvalidIndexError` explaining what is wrong."""
    directory = Path(directory)
    if not directory.exists():
        raise MissingIndexError(f"no index at '{directory}'")
    if not directory.is_dir():
        raise InvalidIndexError(f"'{directory}' is a file, not an index directory")
    path = directory / SETTINGS_FILE
    if not path.exists():
        raise MissingIndexError(f"'{directory}' is not a prefgen corpus index (no {SETTINGS_FILE})")
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidIndexError(f"'{directory}': unreadable {SETTINGS_FILE}: {exc}") from exc
    if not isinstance(settings, dict) or settings.get("format") != INDEX_FORMAT:
        raise InvalidIndexError(f"'{directory}': {SETTINGS_FILE} is not a {INDEX_FORMAT} settings file")
    if settings.get("version") != INDEX_FORMAT_VERSION:
        raise InvalidIndexError(
            f"'{directory}': index format version {settings.get('version')}, this prefgen reads "
            f"version {INDEX_FORMAT_VERSION}; rebuild it with `prefgen index build --force`"
        )
    expected = index_fingerprint(settings.get("corpus", {}).get("fingerprint", ""))
    if settings.get("fingerprint") != expected:
        raise InvalidIndexError(
            f"'{directory}': the index fingerprint does not match its corpus fingerprint and settings "
            "(built by another normalisation version, or edited); rebuild it with `prefgen index build --force`"
        )
    return settings


class CorpusIndex:
    """A validated, memory-mapped corpus index.

    Opening checks that every file is present with the size recorded at build time, that the
    document offsets point at separators, and that a sample of adjacent suffix-array entries is in
    order; anything else raises :class:`InvalidIndexError` with the reason.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.settings = read_settings(self.directory)
        self._check_files()
        self.text = np.memmap(self.directory / "tokenized.0", dtype=np.uint8, mode="r")
        self.size = int(self.text.shape[0])
        self.width = pointer_width(self.size)
        self._table = self._map_table()
        self.doc_offsets = np.fromfile(self.directory / "offset.0", dtype=np.uint64).astype(np.int64)
        self._meta_offsets = np.fromfile(self.directory / "metaoff.0", dtype=np.uint64).astype(np.int64)
        self._check_structure()

    # --- identity -------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        return self.settings["fingerprint"]

    @property
    def corpus_fingerprint(self) -> str:
        return self.settings["corpus"]["fingerprint"]

    @property
    def documents(self) -> int:
        return int(self.doc_offsets.shape[0])

    # --- the suffix array -----------------------------------------------------------------
    def suffix_positions(self, ranks: np.ndarray) -> np.ndarray:
        """Text positions of the suffixes at these ranks (int64)."""
        if self.width in (1, 2, 4, 8):
            return self._table[ranks].astype(np.int64)
        rows = self._table[ranks]  # (k, width) bytes, little-endian
        out = np.zeros(rows.shape[0], dtype=np.int64)
        for byte in range(self.width - 1, -1, -1):
            out = (out << 8) | rows[:, byte]
        return out

    # --- where a quote comes from ----------------------------------------------------------
    def locate(self, position: int) -> dict[str, Any]:
        """The document holding text position ``position``: its index, metadata and character offset."""
        doc = int(np.searchsorted(self.doc_offsets, position, side="right")) - 1
        start = int(self.doc_offsets[doc]) + 1
        prefix = np.asarray(self.text[start:position])
        # Characters before the position = bytes that are not UTF-8 continuation bytes.
        offset = int(np.count_nonzero((prefix & 0xC0) != 0x80))
        return {"doc": doc, **self.metadata(doc), "offset": offset}

    def metadata(self, doc: int) -> dict[str, Any]:
        """The metadata fields (id, title, url) kept for document ``doc``."""
        start = int(self._meta_offsets[doc])
        end = int(self._meta_offsets[doc + 1]) if doc + 1 < len(self._meta_offsets) else None
        with open(self.directory / "metadata.0", "rb") as handle:
            handle.seek(start)
            line = handle.read(None if end is None else end - start)
        record = json.loads(line.split(b"\n", 1)[0])
        return dict(record.get("metadata") or {})

    def document_ids(self) -> list[str | None]:
        """The ``id`` metadata of every document, in document order (None where it has none)."""
        ids: list[str | None] = []
        with open(self.directory / "metadata.0", "rb") as handle:
            for line in handle:
                if line.strip():
                    ids.append((json.loads(line).get("metadata") or {}).get("id"))
        if len(ids) != self.documents:
            raise InvalidIndexError(f"'{self.directory}': metadata.0 has {len(ids)} lines for {self.documents} documents")
        return ids

    def document_text(self, doc: int) -> str:
        """The normalised text of document ``doc``."""
        start = int(self.doc_offsets[doc]) + 1
        end = int(self.doc_offsets[doc + 1]) if doc + 1 < self.documents else self.size
        return bytes(self.text[start:end]).decode("utf-8")

    # --- validation -------------------------------------------------------------------------
    def _check_files(self) -> None:
        recorded = self.settings.get("files", {})
        for name in INDEX_FILES:
            path = self.directory / name
            if not path.exists():
                raise InvalidIndexError(f"'{self.directory}': {name} is missing (incomplete or damaged index)")
            size = path.stat().st_size
            if name in recorded and recorded[name] != size:
                raise InvalidIndexError(
                    f"'{self.directory}': {name} has {size} bytes, the build recorded {recorded[name]} "
                    "(truncated or replaced)"
                )

    def _map_table(self) -> np.memmap:
        path = self.directory / "table.0"
        expected = self.size * self.width
        if path.stat().st_size != expected:
            raise InvalidIndexError(
                f"'{self.directory}': table.0 has {path.stat().st_size} bytes, expected {expected} "
                f"({self.size} pointers of {self.width} bytes): the suffix array is corrupt"
            )
        if self.width in (1, 2, 4, 8):
            return np.memmap(path, dtype=np.dtype(f"<u{self.width}"), mode="r")
        return np.memmap(path, dtype=np.uint8, mode="r", shape=(self.size, self.width))

    def _check_structure(self) -> None:
        where = f"'{self.directory}'"
        if self.documents != self.settings["corpus"].get("documents"):
            raise InvalidIndexError(f"{where}: offset.0 lists {self.documents} documents, the build recorded "
                                    f"{self.settings['corpus'].get('documents')}")
        if self.documents == 0 or self.doc_offsets[0] != 0 or np.any(np.diff(self.doc_offsets) <= 0):
            raise InvalidIndexError(f"{where}: offset.0 is not an increasing list of document starts")
        if self.doc_offsets[-1] >= self.size or np.any(self.text[self.doc_offsets] != DOC_SEPARATOR):
            raise InvalidIndexError(f"{where}: document offsets do not point at document separators")
        if len(self._meta_offsets) != self.documents:
            raise InvalidIndexError(f"{where}: metaoff.0 does not have one entry per document")
        ranks = np.unique(np.linspace(0, self.size - 2, num=min(_SPOT_CHECKS, self.size - 1)).astype(np.int64))
        if not sorted_pairs_ok(self, ranks):
            raise InvalidIndexError(f"{where}: the suffix array is not sorted (corrupt table.0)")


def sorted_pairs_ok(index: CorpusIndex, ranks: np.ndarray) -> bool:
    """True if the suffixes at ``ranks`` and ``ranks + 1`` are valid pointers in order."""
    first = index.suffix_positions(ranks)
    second = index.suffix_positions(ranks + 1)
    if np.any(first >= index.size) or np.any(second >= index.size) or np.any(first == second):
        return False
    for a, b in zip(first.tolist(), second.tolist()):
        left = bytes(index.text[a : a + _SPOT_CHECK_BYTES])
        right = bytes(index.text[b : b + _SPOT_CHECK_BYTES])
        if left > right:
            return False
    return True
