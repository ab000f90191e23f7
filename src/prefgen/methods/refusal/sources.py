"""The method's prompt sources: ``builtin:qa`` and ``builtin:stdlib_facts``: short-answer questions, some unanswerable."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from prefgen.sources.base import SourceParams
from prefgen.sources.builtin import LoaderSource


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
    loader = "prefgen.methods.refusal.qa_format:load_rows"
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
    loader = "prefgen.methods.refusal.stdlib_facts:load_rows"
