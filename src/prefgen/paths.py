"""Where prefgen keeps things it builds once and reuses: demo models, corpus indexes."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$PREFGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/prefgen``, else ``~/.cache/prefgen``."""
    explicit = os.environ.get("PREFGEN_CACHE_DIR")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "prefgen"
    path.mkdir(parents=True, exist_ok=True)
    return path
