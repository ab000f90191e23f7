"""The typed records that flow between stages: Prompt -> Candidate -> Scored -> PreferencePair.

Every stage reads and writes exactly one of these. Their JSON schemas (``prefgen schema``) are
committed under ``schemas/`` and a test keeps the two in step. In Arrow, free-form fields
(``task``, ``details``, ``sampling``) are stored as JSON strings so that one dataset can hold rows
whose details differ in shape; the ``to_row``/``from_row`` helpers do the conversion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from prefgen.hashing import content_hash

JSON_FIELDS = ("task", "details", "sampling")


class Message(BaseModel):
    """One chat message, as in the OpenAI / TRL conversational format."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: str


class Record(BaseModel):
    """Base class: conversion to and from flat Arrow rows."""

    model_config = ConfigDict(extra="forbid")

    def to_row(self) -> dict[str, Any]:
        """A flat dict for Arrow: JSON fields serialised, chat messages as plain dicts."""
        row = self.model_dump(mode="json")
        for key in JSON_FIELDS:
            if key in row:
                row[key] = json.dumps(row[key], sort_keys=True, ensure_ascii=False)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]):
        """Inverse of :meth:`to_row`."""
        data = dict(row)
        for key in JSON_FIELDS:
            if key in data and isinstance(data[key], str):
                data[key] = json.loads(data[key])
        return cls.model_validate(data)


class Prompt(Record):
    """A prompt to sample from, with what its reward needs to score answers to it."""

    id: str = Field(description="Stable content hash of prompt text, task and source.")
    prompt: str | list[Message] = Field(description="Plain text, or chat messages.")
    task: dict[str, Any] = Field(default_factory=dict, description="Reward-specific fields: tests, gold answers, tools.")
    source: str = Field(default="", description="Where the prompt came from (file and row).")
    split: str = Field(default="train", description="'train' or 'heldout'.")

    @property
    def is_chat(self) -> bool:
        return isinstance(self.prompt, list)

    @staticmethod
    def make_id(prompt: str | list[Message] | list[dict], task: dict[str, Any]) -> str:
        """The id of a prompt: a hash of what it asks and what it is scored against."""
        if isinstance(prompt, list):
            prompt = [m.model_dump() if isinstance(m, Message) else m for m in prompt]
        return content_hash({"prompt": prompt, "task": task})[:16]


class Candidate(Record):
    """One sampled response to a prompt."""

    id: str = Field(description="Hash of prompt id, sample index, model and sampling config.")
    prompt_id: str
    split: str = Field(default="train", description="The prompt's split: 'train' (paired) or 'heldout'.")
    sample_index: int
    text: str
    num_tokens: int = 0
    finish_reason: str = ""
    cumulative_logprob: float | None = None
    model: str = Field(default="", description="Fingerprint of the model that generated it.")
    sampling: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(default=None, description="Set when generation failed for this prompt.")


class Scored(Candidate):
    """A candidate with its reward."""

    reward: str
    score: float | None = Field(description="None: the reward could not score it (see reason).")
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class PreferencePair(Record):
    """One training pair, in TRL's DPO column names (prompt / chosen / rejected)."""

    prompt_id: str
    prompt: str | list[Message]
    chosen: str | list[Message]
    rejected: str | list[Message]
    chosen_score: float
    rejected_score: float
    margin: float
    strategy: str
    chosen_id: str
    rejected_id: str
    details: dict[str, Any] = Field(default_factory=dict)


class RejectedInput(Record):
    """An input row that could not become a Prompt, kept with its reason."""

    source: str
    line: int | None = None
    reason: str
    raw: str = ""


ALL_RECORDS: dict[str, type[Record]] = {
    "prompt": Prompt,
    "candidate": Candidate,
    "scored": Scored,
    "preference_pair": PreferencePair,
    "rejected_input": RejectedInput,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schema of every record, keyed by file stem (``schemas/<name>.schema.json``)."""
    return {name: cls.model_json_schema() for name, cls in ALL_RECORDS.items()}


def group_by_prompt(samples: Iterable[Any]) -> dict[str, list[Any]]:
    """Samples (anything with a ``prompt_id``) by prompt, each prompt's in their order."""
    grouped: dict[str, list[Any]] = {}
    for sample in samples:
        grouped.setdefault(sample.prompt_id, []).append(sample)
    return grouped
