"""Read prompts from wherever the config points, turning every bad row into a rejected input.

Supported sources: ``.jsonl`` / ``.json`` lines, ``.parquet``, a ``save_to_disk`` directory, any
other local directory ``datasets.load_dataset`` understands, ``hf:NAME`` (hub datasets, for users
with a hub), and ``builtin:NAME`` and ``package.module:Class`` (source plug-ins, see :mod:`prefgen.sources.base`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from prefgen.config import PromptsConfig
from prefgen.hashing import content_hash
from prefgen.records import Message, Prompt, RejectedInput

_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


TaskCheck = Callable[[dict[str, Any], bool], "str | None"]


class PromptSourceError(Exception):
    """The source as a whole cannot be read (missing file, unknown builtin)."""


@dataclass
class PromptSet:
    """The prompts read, in input order, and the rows rejected on the way."""

    prompts: list[Prompt] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)

    @property
    def train(self) -> list[Prompt]:
        return [p for p in self.prompts if p.split == "train"]

    @property
    def heldout(self) -> list[Prompt]:
        return [p for p in self.prompts if p.split == "heldout"]


def plugin_name(source: str) -> str | None:
    """The plug-in a ``prompts.source`` names (``builtin:NAME`` or ``package.module:Class``), if any."""
    if source.startswith("builtin:"):
        return source.split(":", 1)[1]
    if _IMPORT_PATH.match(source) and not source.startswith("hf:") and not Path(source).exists():
        return source
    return None


def check_source_name(source: str, options: dict[str, Any]) -> list[str]:
    """Cheap pre-flight check: does the source exist, does it take these options? Problems name the key."""
    from prefgen.registry import prompt_sources

    name = plugin_name(source)
    if name is not None:
        params, problems = prompt_sources.create_params(name, options)
        if params is not None:
            problems = prompt_sources.load(name)(params).check()
        # the plug-in's own name is prompts.source; its Params are prompts.options
        return [f"prompts.{p}" if p.startswith("source:") else f"prompts.options.{p}" for p in problems]
    if options:
        return [f"prompts.options: {source} is read as a file or dataset, which takes no options (got {sorted(options)})"]
    if source.startswith("hf:"):
        return []
    if not Path(source).exists():
        return [f"prompts.source: no such file or directory: {source}"]
    return []


def check_source(config: PromptsConfig) -> list[str]:
    """:func:`check_source_name` for a prompts section."""
    return check_source_name(config.source, config.options)


def source_plugin(config: PromptsConfig):
    """The source plug-in for ``config``, given ``heldout_fraction`` when it assigns splits itself."""
    from prefgen.registry import prompt_sources

    cls = prompt_sources.load(plugin_name(config.source))
    options = dict(config.options)
    if cls.assigns_splits() and config.heldout_fraction > 0:
        options.setdefault("heldout_fraction", config.heldout_fraction)
    return cls(cls.Params(**options))


def read_prompts(config: PromptsConfig, task_problem: TaskCheck | None = None) -> PromptSet:
    """Read, validate, deduplicate and split the prompts named by ``config``.

    ``task_problem(task, chat)`` (the reward's) can reject prompts it could never score, such as
    a coding problem without tests.
    """
    problems = check_source(config)
    if problems:
        raise PromptSourceError(problems[0])
    result = PromptSet()
    seen: dict[str, str] = {}
    row_splits = _row_splits_apply(config)
    for origin, line, row, error in _iter_rows(config):
        if config.limit is not None and len(result.prompts) >= config.limit:
            break
        if error is None:
            prompt, error = _to_prompt(row, config, origin, row_splits)
        if error is None and task_problem is not None:
            error = task_problem(prompt.task, prompt.is_chat)
        if error is None and prompt.id in seen:
            error = f"duplicate of {seen[prompt.id]}"
        if error is not None:
            raw = row if isinstance(row, str) else json.dumps(row, default=str, ensure_ascii=False)
            result.rejected.append(RejectedInput(source=origin, line=line, reason=error, raw=raw[:2000]))
            continue
        seen[prompt.id] = origin
        result.prompts.append(prompt)
    return result


def _iter_rows(config: PromptsConfig) -> Iterator[tuple[str, int | None, Any, str | None]]:
    """Yield (origin, line number, row, parse error) for every input row."""
    source = config.source
    if plugin_name(source) is not None:
        yield from _plugin_rows(config)
    elif source.startswith("hf:"):
        from datasets import load_dataset

        dataset = load_dataset(source[3:], split=config.split or "train")
        yield from ((f"{source}#{i}", i, dict(row), None) for i, row in enumerate(dataset))
    else:
        path = Path(source)
        if path.is_dir():
            yield from _directory_rows(path, config.split)
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            for i, row in enumerate(pq.read_table(path).to_pylist()):
                yield f"{path.name}#{i}", i, row, None
        else:
            yield from _jsonl_rows(path)


def _jsonl_rows(path: Path) -> Iterator[tuple[str, int, Any, str | None]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            origin = f"{path.name}:{number}"
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield origin, number, raw.decode("utf-8", "replace"), f"not UTF-8: {exc.reason}"
                continue
            if not text:
                continue  # blank lines are formatting, not rows
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield origin, number, text, f"not JSON: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(row, dict):
                yield origin, number, text, f"expected a JSON object, got {type(row).__name__}"
                continue
            yield origin, number, row, None


def _directory_rows(path: Path, split: str | None) -> Iterator[tuple[str, int, Any, str | None]]:
    import datasets

    if (path / "state.json").exists() or (path / "dataset_dict.json").exists():
        dataset = datasets.load_from_disk(str(path))
    else:
        dataset = datasets.load_dataset(str(path))
    if isinstance(dataset, datasets.DatasetDict):
        name = split or ("train" if "train" in dataset else next(iter(dataset)))
        if name not in dataset:
            raise PromptSourceError(f"prompts.split: {name!r} not in {list(dataset)}")
        dataset = dataset[name]
    for i, row in enumerate(dataset):
        yield f"{path.name}#{i}", i, dict(row), None


def _plugin_rows(config: PromptsConfig) -> Iterator[tuple[str, int | None, Any, str | None]]:
    for i, row in enumerate(source_plugin(config).rows()):
        if not isinstance(row, dict):
            yield f"{config.source}#{i}", i, str(row), f"expected a row mapping, got {type(row).__name__}"
            continue
        yield row.get("source") or f"{config.source}#{i}", i, row, None


def _row_splits_apply(config: PromptsConfig) -> bool:
    """A row's own ``split`` is used unless ``heldout_fraction`` was set for a source that does not
    take it (a source that assigns splits itself was handed the fraction, so its splits follow it)."""
    if config.heldout_fraction <= 0:
        return True
    from prefgen.registry import prompt_sources

    name = plugin_name(config.source)
    return name is not None and prompt_sources.load(name).assigns_splits()


def _to_prompt(
    row: dict[str, Any], config: PromptsConfig, origin: str, row_splits: bool = True
) -> tuple[Prompt | None, str | None]:
    """Turn one row into a Prompt, or explain why it cannot be one."""
    if config.field not in row:
        return None, f"missing field {config.field!r}"
    value = row[config.field]
    if isinstance(value, str):
        if not value.strip():
            return None, "empty prompt"
        prompt: str | list[Message] = value
    elif isinstance(value, list):
        try:
            prompt = [Message.model_validate(m) for m in value]
        except ValidationError as exc:
            return None, f"invalid chat messages: {exc.errors()[0]['msg']}"
        if not prompt or not any(m.content.strip() for m in prompt):
            return None, "empty prompt"
    else:
        return None, f"field {config.field!r} must be text or a list of messages, got {type(value).__name__}"
    task = dict(row["task"]) if isinstance(row.get("task"), dict) else {}
    for name in config.task_fields:
        if name not in row:
            return None, f"missing task field {name!r}"
        task[name] = row[name]
    error = _task_problem(task)
    if error:
        return None, error
    prompt_id = Prompt.make_id(prompt, task)
    own = row.get("split") if row_splits and row.get("split") in ("train", "heldout") else None
    split = own or _split_for(prompt_id, config)
    return Prompt(id=prompt_id, prompt=prompt, task=task, source=origin, split=split), None


def _task_problem(task: dict[str, Any]) -> str | None:
    try:
        json.dumps(task)
    except (TypeError, ValueError) as exc:
        return f"task is not JSON-serialisable: {exc}"
    return None


def _split_for(prompt_id: str, config: PromptsConfig) -> str:
    """Deterministic held-out assignment: a prompt stays in its split across runs and orders."""
    if config.heldout_fraction <= 0:
        return "train"
    bucket = int(content_hash(prompt_id)[:8], 16) / 0xFFFFFFFF
    return "heldout" if bucket < config.heldout_fraction else "train"
