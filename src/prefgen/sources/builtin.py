"""The built-in prompt sets as source plug-ins (``prompts.source: builtin:NAME``)."""

from __future__ import annotations

from typing import Any, Iterable, Literal

from pydantic import Field

from prefgen.sources.base import PromptSource, SourceParams


class StdlibDocsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.1, ge=0, le=1, description="Share of objects held out (by name hash).")
    seed: int = 0
    min_reference_chars: int | None = None
    max_reference_chars: int | None = None
    kinds: list[str] | None = None
    modules: list[str] | str | None = None


class StdlibDocsSource(PromptSource):
    """Questions about standard-library objects, answered by their docstrings."""

    Params = StdlibDocsParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.stdlib_docs import load_rows

        return load_rows(**self.params.model_dump(exclude_none=True))


class HumanEvalParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    with_canonical: bool = True
    task_ids: list[str] | None = None


class HumanEvalSource(PromptSource):
    """The HumanEval problems shipped with prefgen."""

    Params = HumanEvalParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.humaneval import load_rows

        return load_rows(**self.params.model_dump())


class MbppParams(SourceParams):
    path: str = Field(description="An MBPP-layout .jsonl or .json file.")
    limit: int | None = Field(None, ge=0)


class MbppSource(PromptSource):
    """Problems in MBPP's layout, from a file."""

    Params = MbppParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.mbpp_format import load_rows

        return load_rows(**self.params.model_dump())


class BfclParams(SourceParams):
    data_dir: str = Field(description="The folder holding BFCL_<version>_<category>.json and possible_answer/.")
    categories: list[str] | None = Field(None, description="BFCL categories to read (default: the single-turn ones).")
    limit: int | None = Field(None, ge=0)
    prompt_style: Literal["chat", "text"] = "chat"
    version: str = "v4"


class BfclSource(PromptSource):
    """Tool-calling requests from the Berkeley Function Calling Leaderboard's data files."""

    Params = BfclParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.bfcl import load_rows

        return load_rows(**self.params.model_dump(exclude_none=True))


class StdlibToolsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.2, ge=0, le=1, description="Share of requests held out (by hash).")
    seed: int = 0
    per_template: int | None = Field(None, ge=1, description="Requests drawn from each single-call template.")


class StdlibToolsSource(PromptSource):
    """Tool-calling requests over curated standard-library functions, with checked ground truths."""

    Params = StdlibToolsParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.stdlib_tools import load_rows

        return load_rows(**self.params.model_dump(exclude_none=True))


class QaParams(SourceParams):
    path: str = Field(description="A .jsonl, .json list, .parquet file or hf:NAME dataset of questions.")
    layout: str | dict[str, str] = Field(
        "plain", description="plain | triviaqa | nq | selfaware, or {question, answers, answerable} dotted paths."
    )
    template: str | None = Field(None, description="Prompt text with {question}.")
    split: str = "train"
    limit: int | None = Field(None, ge=0)


class QaSource(PromptSource):
    """Short-answer questions with gold answers (and unanswerable ones), in common QA layouts."""

    Params = QaParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.qa_format import load_rows

        return load_rows(**self.params.model_dump(exclude_none=True))


class StdlibFactsParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.25, ge=0, lt=1, description="Share of questions held out (by hash).")
    unanswerable_share: float = Field(0.15, ge=0, lt=1, description="Share of questions about names that exist nowhere.")
    seed: int = 0


class StdlibFactsSource(PromptSource):
    """Short-answer questions about the installed standard library, some unanswerable by construction."""

    Params = StdlibFactsParams

    def rows(self) -> Iterable[dict[str, Any]]:
        from prefgen.sources.stdlib_facts import load_rows

        return load_rows(**self.params.model_dump(exclude_none=True))
