"""Resolve ``model.path`` to something vLLM can load, and fingerprint it.

The fingerprint keys cached generations: a changed checkpoint regenerates, an unchanged one
reuses. Hashing multi-GB weights on every run would be slow, so large files contribute their
size and their first and last MiB; small files (config, tokenizer, tiny models) are hashed whole.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from prefgen.registry import models

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_WHOLE_FILE_LIMIT = 64 << 20
_EDGE = 1 << 20


class ModelNotFoundError(Exception):
    """``model.path`` names nothing loadable; the message names the key."""


@dataclass(frozen=True)
class ModelRef:
    """A model ready to load: where it is, and what it is."""

    path: str
    fingerprint: str


def check_model_path(path: str) -> list[str]:
    """Cheap pre-flight check of ``model.path``; returns problems."""
    if path in models.entries:
        return named_model_problems(path)
    if Path(path).is_dir():
        return []
    if _HUB_ID.match(path) and not path.startswith((".", "/")):
        return []  # resolved (cache or hub) in resolve_model, still before any heavy work
    named = ", ".join(repr(n) for n in models.names())
    return [f"model.path: no model directory at {path!r} (expected a local directory, a hub id or a named model: {named})"]


def named_model_problems(name: str) -> list[str]:
    """What a named model lacks before it can be made (a package, say): its ``check`` attribute,
    if it has one, says; a model trained on first use lacks nothing."""
    check = getattr(models.load(name), "check", None)
    return check() if check else []


def resolve_model(path: str) -> ModelRef:
    """A local directory for ``path`` (a named model, a directory, or a hub id) and its fingerprint.

    Named models (``smollm2``, the methods' ``demo``, ``demo:facts``, ...) are in
    :data:`prefgen.registry.models`; each is made (converted, trained) on first use and cached."""
    if path in models.entries:
        local = Path(models.load(path)())
    elif Path(path).is_dir():
        local = Path(path)
    elif _HUB_ID.match(path):
        local = _from_hub(path)
    else:
        raise ModelNotFoundError(check_model_path(path)[0])
    if not (local / "config.json").exists():
        raise ModelNotFoundError(f"model.path: {path!r} has no config.json; is it a model directory?")
    return ModelRef(str(local), fingerprint_model(local))


def _from_hub(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelNotFoundError(f"model.path: {repo_id!r} is not in the local hub cache and HF_HUB_OFFLINE=1")
    try:
        return Path(snapshot_download(repo_id, etag_timeout=10))
    except Exception as exc:
        raise ModelNotFoundError(f"model.path: cannot fetch {repo_id!r} from the hub: {type(exc).__name__}") from exc


def fingerprint_model(directory: Path) -> str:
    """A hash of a model directory's files (large ones sampled at both ends)."""
    digest = hashlib.sha256()
    # Only a ``.cache`` inside the model directory (a download tool's bookkeeping) is skipped: the
    # directory itself may well live under one (the hub cache, prefgen's own cache).
    files = (p for p in directory.rglob("*") if p.is_file() and ".cache" not in p.relative_to(directory).parts)
    for file in sorted(files):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(directory)}:{size}".encode())
        with open(file, "rb") as handle:
            if size <= _WHOLE_FILE_LIMIT:
                digest.update(handle.read())
            else:
                digest.update(handle.read(_EDGE))
                handle.seek(size - _EDGE)
                digest.update(handle.read(_EDGE))
    return digest.hexdigest()[:16]
