"""Prompt sources whose rows come from one function: the shape of every built-in prompt set.

A method's source (``prompts.source: builtin:NAME``) is a :class:`LoaderSource` with its
``Params`` and a ``loader`` naming the function (``"module:function"``, imported on first use), so
validating a config never imports the method's data code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from prefgen.registry import import_object
from prefgen.sources.base import PromptSource


class LoaderSource(PromptSource):
    """A built-in set whose rows come from one function, called with the validated options."""

    loader: ClassVar[str]  # "module:function", imported on first use
    local_paths: ClassVar[dict[str, str]] = {}  # option -> "file" or "dir" that must exist (hf:NAME aside)

    def check(self) -> list[str]:
        found = []
        for option, kind in self.local_paths.items():
            value = getattr(self.params, option)
            path = Path(value)
            if value.startswith("hf:") or (path.is_dir() if kind == "dir" else path.exists()):
                continue
            found.append(f"{option}: no such {'directory' if kind == 'dir' else 'file or directory'}: {value}")
        return found

    def rows(self) -> Iterable[dict[str, Any]]:
        load_rows = import_object(self.loader, "prompt source loader")
        return load_rows(**self.params.model_dump(exclude_none=True))
