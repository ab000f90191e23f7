"""The method's prompt sources: ``builtin:stdlib_docs``: questions about standard-library objects, answered by their docstrings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from prefgen.sources.base import SourceParams
from prefgen.sources.builtin import LoaderSource


class StdlibDocsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.1, ge=0, le=1, description="Share of objects held out (by name hash).")
    seed: int = 0
    min_reference_chars: int | None = None
    max_reference_chars: int | None = None
    kinds: list[str] | None = None
    modules: list[str] | str | None = None
    prompt_style: Literal["text", "chat"] = Field("text", description="text: 'Question: ...\\nAnswer:'; chat: a user turn.")
    documentation: bool = Field(False, description="Chat only: the object's docstring in the question, to quote from.")


class StdlibDocsSource(LoaderSource):
    """Questions about standard-library objects, answered by their docstrings."""

    Params = StdlibDocsParams
    loader = "prefgen.methods.quote.stdlib_docs:load_rows"
