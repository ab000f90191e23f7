"""Turn engine outputs into Candidate records."""

from __future__ import annotations

from typing import Any

from prefgen.generation.requests import GenerationRequest
from prefgen.hashing import content_hash
from prefgen.records import Candidate


def candidate_id(prompt_id: str, sample_index: int, model: str, sampling: dict[str, Any]) -> str:
    """Stable id: the same prompt, model and sampling always give the same ids."""
    return content_hash([prompt_id, sample_index, model, sampling])[:16]


def to_candidates(request: GenerationRequest, result: dict[str, Any], model: str, first_index: int = 0) -> list[Candidate]:
    """The candidates of one request; a failed request yields one error candidate.

    ``first_index`` numbers a re-sampling round's samples after the earlier rounds' ones, so a
    prompt's pooled samples have distinct indexes."""
    if "error" in result:
        return [
            Candidate(
                id=candidate_id(request.prompt_id, first_index, model, request.sampling),
                prompt_id=request.prompt_id,
                sample_index=first_index,
                text="",
                model=model,
                sampling=request.sampling,
                error=result["error"],
            )
        ]
    return [
        Candidate(
            id=candidate_id(request.prompt_id, index, model, request.sampling),
            prompt_id=request.prompt_id,
            sample_index=index,
            model=model,
            sampling=request.sampling,
            **completion,
        )
        for index, completion in enumerate(result["completions"], start=first_index)
    ]
