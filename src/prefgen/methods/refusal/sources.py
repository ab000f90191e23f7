"""The method's prompt sources: ``builtin:qa``, ``builtin:stdlib_facts`` and ``builtin:arithmetic``: short-answer
questions, some unanswerable."""

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


class GeneratedQuestionsParams(SourceParams):
    """Options shared by the sets whose questions prefgen writes itself."""

    limit: int | None = Field(None, ge=0)
    heldout_fraction: float = Field(0.25, ge=0, lt=1, description="Share of questions held out (by hash).")
    unanswerable_share: float = Field(0.15, ge=0, lt=1, description="Share of questions that have no answer.")
    seed: int = 0
    prompt_style: Literal["text", "chat"] = Field("text", description="text: 'Question: ...\\nAnswer:'; chat: system + user turns.")
    instruction: str | None = Field(None, description="Chat only: the system turn (default: answer briefly; \"I don't know.\" is fine).")


class StdlibFactsParams(GeneratedQuestionsParams):
    pass


class StdlibFactsSource(LoaderSource):
    """Short-answer questions about the installed standard library, some unanswerable by construction."""

    Params = StdlibFactsParams
    loader = "prefgen.methods.refusal.stdlib_facts:load_rows"


class ArithmeticParams(GeneratedQuestionsParams):
    max_digits: int = Field(3, ge=1, le=6, description="Operands have 1 to this many digits.")
    per_level: int = Field(81, ge=1, description="Questions per operation and number of digits.")


class ArithmeticSource(LoaderSource):
    """Sums, differences and products from one to a few digits: a model knows some, not others."""

    Params = ArithmeticParams
    loader = "prefgen.methods.refusal.arithmetic:load_rows"
