"""What a prompt source plug-in is: a class with ``Params`` (``prompts.options``) and ``rows()``.

Rows are ``{"prompt": str | list[message], "task": dict, "source": str}`` and may carry
``"split"`` (``train`` / ``heldout``). A source that assigns splits itself takes a
``heldout_fraction`` in its Params: ``prompts.heldout_fraction`` is then handed to it, so the
pipeline's key is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel

from prefgen.plugin import PluginParams


class SourceParams(PluginParams):
    """A source's keys from ``prompts.options``; unknown keys are config errors."""



class PromptSource:
    """Base class of prompt sources named ``builtin:NAME`` or by import path ``package.module:Class``."""

    Params: ClassVar[type[BaseModel]] = SourceParams

    def __init__(self, params: BaseModel | None = None):
        self.params = params if params is not None else self.Params()

    @classmethod
    def assigns_splits(cls) -> bool:
        """Whether the source splits rows itself (and so takes ``heldout_fraction``)."""
        return "heldout_fraction" in cls.Params.model_fields

    def rows(self) -> Iterable[dict[str, Any]]:
        """The source's rows, in a stable order."""
        raise NotImplementedError

    def check(self) -> list[str]:
        """Cheap checks before any heavy work (files the options name exist...), as
        ``option: what is wrong``. Default: none."""
        return []
