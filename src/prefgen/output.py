"""Writing the published datasets: explicit Arrow features for the records' known columns, so even
an empty dataset has them and ``datasets.load_from_disk`` gives the same schema on every run; any
other field a record carries is published too, typed from its values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefgen.hashing import content_hash

MESSAGES = [{"role": "string", "content": "string"}]


def _features(spec: dict[str, Any]):
    from datasets import Features, Value

    def convert(value):
        if isinstance(value, list):
            return [convert(value[0])]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return Value(value)

    return Features({name: convert(kind) for name, kind in spec.items()})


def pair_features(chat: bool):
    """Columns of ``pairs/``: TRL's prompt/chosen/rejected first, then scores and provenance."""
    text = MESSAGES if chat else "string"
    return _features(
        {
            "prompt": text,
            "chosen": text,
            "rejected": text,
            "prompt_id": "string",
            "chosen_score": "float64",
            "rejected_score": "float64",
            "margin": "float64",
            "strategy": "string",
            "chosen_id": "string",
            "rejected_id": "string",
            "details": "string",
        }
    )


def candidate_features():
    """Columns of ``candidates/``: every scored sample (Scored records)."""
    return _features(
        {
            "id": "string",
            "prompt_id": "string",
            "split": "string",
            "sample_index": "int64",
            "text": "string",
            "num_tokens": "int64",
            "finish_reason": "string",
            "cumulative_logprob": "float64",
            "model": "string",
            "sampling": "string",
            "error": "string",
            "reward": "string",
            "score": "float64",
            "reason": "string",
            "details": "string",
        }
    )


def write_dataset(rows: list[dict[str, Any]], path: Path, features=None) -> None:
    """Save rows with ``save_to_disk`` (features inferred when not given)."""
    from datasets import Dataset, disable_progress_bars

    disable_progress_bars()  # prefgen shows its own progress; one bar per save is noise
    if features is not None:
        features = with_extra_columns(features, rows)
        rows = [{name: row.get(name) for name in features} for row in rows]
        dataset = Dataset.from_list(rows, features=features) if rows else _empty(features)
    else:
        dataset = Dataset.from_list(rows)
    # An empty dataset saved with the default sharding writes no data file and cannot be loaded back.
    dataset.save_to_disk(str(path), **({"num_shards": 1} if dataset.num_rows == 0 else {}))


def with_extra_columns(features, rows: list[dict[str, Any]]):
    """``features`` plus a column for every field the records carry that it does not list.

    The listed columns keep their declared types (so an empty dataset still has them); any other
    field is published with the type inferred from its values, never dropped.
    """
    from datasets import Dataset, Features

    extra = sorted({name for row in rows for name in row} - set(features))
    if not extra:
        return features
    inferred = Dataset.from_list([{name: row.get(name) for name in extra} for row in rows]).features
    return Features({**features, **inferred})


def _empty(features):
    from datasets import Dataset

    return Dataset.from_dict({name: [] for name in features}, features=features)


def rows_fingerprint(rows: list[dict[str, Any]]) -> str:
    """Content fingerprint of a dataset's rows, order included."""
    return content_hash(rows)[:16]
