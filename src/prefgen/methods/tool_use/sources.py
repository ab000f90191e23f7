"""The method's prompt sources: ``builtin:stdlib_tools`` and ``builtin:bfcl``: tool-calling requests with checked ground truths."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from prefgen.sources.base import SourceParams
from prefgen.sources.builtin import LoaderSource


class BfclParams(SourceParams):
    data_dir: str = Field(description="The folder holding BFCL_<version>_<category>.json and possible_answer/.")
    categories: list[str] | None = Field(None, description="BFCL categories to read (default: the single-turn ones).")
    limit: int | None = Field(None, ge=0)
    prompt_style: Literal["chat", "text"] = "chat"
    version: str = "v4"


class BfclSource(LoaderSource):
    """Tool-calling requests from the Berkeley Function Calling Leaderboard's data files."""

    Params = BfclParams
    loader = "prefgen.methods.tool_use.bfcl:load_rows"
    local_paths = {"data_dir": "dir"}


class StdlibToolsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.2, ge=0, le=1, description="Share of requests held out (by hash).")
    seed: int = 0
    per_template: int | None = Field(None, ge=1, description="Requests drawn from each single-call template.")
    prompt_style: Literal["text", "chat", "chat_calls"] = Field(
        "text", description="text: 'Tools: ...\\nCalls:'; chat: tools in the system turn, one worked example; "
        "chat_calls: each tool as a keyword-call template in the system turn, no example.")


class StdlibToolsSource(LoaderSource):
    """Tool-calling requests over curated standard-library functions, with checked ground truths."""

    Params = StdlibToolsParams
    loader = "prefgen.methods.tool_use.stdlib_tools:load_rows"
