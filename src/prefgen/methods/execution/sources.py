"""The method's prompt sources: ``builtin:humaneval``, ``builtin:basic_python`` and ``builtin:mbpp``:
programming problems with tests."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from prefgen.sources.base import SourceParams
from prefgen.sources.builtin import LoaderSource


class HumanEvalParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    with_canonical: bool = True
    task_ids: list[str] | None = None


class HumanEvalSource(LoaderSource):
    """The HumanEval problems shipped with prefgen."""

    Params = HumanEvalParams
    loader = "prefgen.methods.execution.humaneval:load_rows"


class BasicPythonParams(SourceParams):
    limit: int | None = Field(None, ge=0)
    with_canonical: bool = True
    task_ids: list[str] | None = None
    prompt_style: Literal["completion", "chat"] = Field(
        "completion", description="completion: the model continues the function (HumanEval's); "
                                  "chat: a user turn asking for the whole function in a code block.")


class BasicPythonSource(LoaderSource):
    """200 easy problems written for prefgen, in HumanEval's layout (for small models)."""

    Params = BasicPythonParams
    loader = "prefgen.methods.execution.basic_python:load_rows"


class MbppParams(SourceParams):
    path: str = Field(description="An MBPP-layout .jsonl or .json file.")
    limit: int | None = Field(None, ge=0)


class MbppSource(LoaderSource):
    """Problems in MBPP's layout, from a file."""

    Params = MbppParams
    loader = "prefgen.methods.execution.mbpp:load_rows"
    local_paths = {"path": "file"}
