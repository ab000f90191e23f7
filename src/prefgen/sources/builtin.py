"""The built-in prompt sets as source plug-ins (``prompts.source: builtin:NAME``)."""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, Iterable, Literal

from pathlib import Path

from pydantic import Field

from prefgen.sources.base import PromptSource, SourceParams


class LoaderSource(PromptSource):
    """A built-in set whose rows come from one function, called with the validated options."""

    loader: ClassVar[str]  # "module:function", imported on first use
    local_paths: ClassVar[dict[str, str]] = {}  # option -> "file" or "dir" that must exist (hf:NAME aside)

    def problems(self) -> list[str]:
        found = []
        for option, kind in self.local_paths.items():
            value = getattr(self.params, option)
            path = Path(value)
            if value.startswith("hf:") or (path.is_dir() if kind == "dir" else path.exists()):
                continue
            found.append(f"{option}: no such {'directory' if kind == 'dir' else 'file or directory'}: {value}")
        return found

    def rows(self) -> Iterable[dict[str, Any]]:
        module_name, _, function_name = self.loader.partition(":")
        load_rows = getattr(importlib.import_module(module_name), function_name)
        return load_rows(**self.params.model_dump(exclude_none=True))


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
    loader = "prefgen.sources.stdlib_docs:load_rows"


class HumanEvalParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    with_canonical: bool = True
    task_ids: list[str] | None = None


class HumanEvalSource(LoaderSource):
    """The HumanEval problems shipped with prefgen."""

    Params = HumanEvalParams
    loader = "prefgen.sources.humaneval:load_rows"


class MbppParams(SourceParams):
    path: str = Field(description="An MBPP-layout .jsonl or .json file.")
    limit: int | None = Field(None, ge=0)


class MbppSource(LoaderSource):
    """Problems in MBPP's layout, from a file."""

    Params = MbppParams
    loader = "prefgen.sources.mbpp_format:load_rows"
    local_paths = {"path": "file"}


class BfclParams(SourceParams):
    data_dir: str = Field(description="The folder holding BFCL_<version>_<category>.json and possible_answer/.")
    categories: list[str] | None = Field(None, description="BFCL categories to read (default: the single-turn ones).")
    limit: int | None = Field(None, ge=0)
    prompt_style: Literal["chat", "text"] = "chat"
    version: str = "v4"


class BfclSource(LoaderSource):
    """Tool-calling requests from the Berkeley Function Calling Leaderboard's data files."""

    Params = BfclParams
    loader = "prefgen.sources.bfcl:load_rows"
    local_paths = {"data_dir": "dir"}


class StdlibToolsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.2, ge=0, le=1, description="Share of requests held out (by hash).")
    seed: int = 0
    per_template: int | None = Field(None, ge=1, description="Requests drawn from each single-call template.")
    prompt_style: Literal["text", "chat"] = Field("text", description="text: 'Tools: ...\\nCalls:'; chat: tools in the system turn, one example.")


class StdlibToolsSource(LoaderSource):
    """Tool-calling requests over curated standard-library functions, with checked ground truths."""

    Params = StdlibToolsParams
    loader = "prefgen.sources.stdlib_tools:load_rows"


class QaParams(SourceParams):
    path: str = Field(description="A .jsonl, .json list, .parquet file or hf:NAME dataset of questions.")
    layout: str | dict[str, str] = Field(
        "plain", description="plain | triviaqa | nq | selfaware, or {question, answers, answerable} dotted paths."
    )
    template: str | None = Field(None, description="Prompt text with {question}.")
    split: str = "train"
    limit: int | None = Field(None, ge=0)


class QaSource(LoaderSource):
    """Short-answer questions with gold answers (and unanswerable ones), in common QA layouts."""

    Params = QaParams
    loader = "prefgen.sources.qa_format:load_rows"
    local_paths = {"path": "file"}


class StdlibFactsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.25, ge=0, lt=1, description="Share of questions held out (by hash).")
    unanswerable_share: float = Field(0.15, ge=0, lt=1, description="Share of questions about names that exist nowhere.")
    seed: int = 0
    prompt_style: Literal["text", "chat"] = Field("text", description="text: 'Question: ...\\nAnswer:'; chat: system + user turns.")
    instruction: str | None = Field(None, description="Chat only: the system turn (default: answer briefly; \"I don't know.\" is fine).")


class StdlibFactsSource(LoaderSource):
    """Short-answer questions about the installed standard library, some unanswerable by construction."""

    Params = StdlibFactsParams
    loader = "prefgen.sources.stdlib_facts:load_rows"
