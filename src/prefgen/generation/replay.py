"""The replay strategy: candidates generated elsewhere, read from a file instead of sampled.

Rows are JSON objects (``.jsonl``) or Parquet rows with ``text`` and either ``prompt_id`` or the
``prompt`` itself (matched to the pipeline's prompts); ``sample_index``, ``num_tokens`` and
``finish_reason`` are optional. Rows that match no prompt are rejected with a reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from prefgen.generation.candidates import candidate_id
from prefgen.generation.strategy import GenerationStrategy, ModelIdentity, StrategyParams
from prefgen.hashing import fingerprint_files
from prefgen.records import Candidate, Message, Prompt, RejectedInput


def replay_fingerprint(path: str) -> str:
    """Replayed candidates are 'the model': their file's hash keys the cache."""
    return "replay-" + fingerprint_files([Path(path)])[:16]


def read_replay(path: str, prompts: list[Prompt]) -> tuple[dict[str, list[Candidate]], list[RejectedInput]]:
    """Candidates grouped by prompt id, and the rows that could not be used."""
    by_id = {p.id: p for p in prompts}
    by_text = {_prompt_key(p.prompt): p.id for p in prompts}
    model = replay_fingerprint(path)
    grouped: dict[str, list[Candidate]] = {}
    rejected = []
    for line, row, error in _rows(Path(path)):
        prompt_id = None
        if error is None:
            prompt_id, error = _match(row, by_id, by_text)
        if error is None and not isinstance(row.get("text"), str):
            error = "missing or non-text field 'text'"
        if error is not None:
            raw = json.dumps(row, ensure_ascii=False, default=str) if isinstance(row, dict) else str(row)
            rejected.append(RejectedInput(source=Path(path).name, line=line, reason=error, raw=raw[:2000]))
            continue
        samples = grouped.setdefault(prompt_id, [])
        index = int(row.get("sample_index", len(samples)))
        samples.append(
            Candidate(
                id=candidate_id(prompt_id, index, model, {}),
                prompt_id=prompt_id,
                sample_index=index,
                text=row["text"],
                num_tokens=int(row.get("num_tokens") or len(row["text"].split())),
                finish_reason=str(row.get("finish_reason", "replay")),
                model=model,
            )
        )
    return grouped, rejected


def _prompt_key(prompt: Any) -> str:
    if isinstance(prompt, list):
        prompt = [m.model_dump() if isinstance(m, Message) else m for m in prompt]
    return json.dumps(prompt, sort_keys=True)


def _match(row: dict, by_id: dict[str, Prompt], by_text: dict[str, str]) -> tuple[str | None, str | None]:
    if "prompt_id" in row:
        if row["prompt_id"] in by_id:
            return row["prompt_id"], None
        return None, f"prompt_id {row['prompt_id']!r} is not among the pipeline's prompts"
    if "prompt" in row:
        prompt_id = by_text.get(_prompt_key(row["prompt"]))
        return (prompt_id, None) if prompt_id else (None, "prompt text matches none of the pipeline's prompts")
    return None, "row has neither 'prompt_id' nor 'prompt'"


def _rows(path: Path):
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(path).to_pylist()):
            yield i, row, None
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, text.strip(), f"not JSON: {exc.msg}"
                continue
            yield number, row, None if isinstance(row, dict) else "expected a JSON object"


class ReplayParams(StrategyParams):
    replay_path: str = Field(description="A .jsonl or .parquet of candidates made elsewhere.")


class ReplayStrategy(GenerationStrategy):
    """Candidates read from ``replay_path``; rows matching none of the run's prompts are rejected.

    Rows are matched against every prompt of the run, so on an incremental rerun the rows of
    prompts sampled before are neither rejected nor read again.
    """

    Params = ReplayParams
    uses_model = False

    def check(self) -> list[str]:
        if not Path(self.params.replay_path).exists():
            return [f"generate.replay_path: no such file: {self.params.replay_path}"]
        return []

    @classmethod
    def identify(cls, params: ReplayParams, config: Any) -> ModelIdentity:
        return ModelIdentity(params.replay_path, None, replay_fingerprint(params.replay_path))

    def key_content(self) -> Any:
        return {}  # the file's hash is the model fingerprint: nothing else shapes the candidates

    def run(self, chunks):
        if not chunks:
            return
        grouped, rejected = read_replay(self.params.replay_path, self.context.prompts or [p for c in chunks for p in c])
        self.context.reject(rejected)
        for chunk in chunks:
            yield chunk, [c for p in chunk for c in grouped.get(p.id, [])]
