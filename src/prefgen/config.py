"""Pipeline configuration: the YAML file as pydantic models.

Unknown keys are errors. ``key=value`` overrides from the command line are applied to the raw
YAML before validation, and ``${VAR}`` / ``${VAR:-default}`` in string values are expanded from the
environment. :func:`prefgen.preflight.load_config` collects *every* problem (YAML paths with what was expected) and
raises one :class:`ConfigError`, before anything heavy starts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from prefgen.pair_quality import BiasThresholds
from prefgen.train.settings import DPOSettings


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(Section):
    """vLLM engine settings."""

    num_engines: int = Field(1, ge=1, description="Engines in the pool (one per GPU / tensor-parallel group).")
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float | None = Field(
        None, gt=0, le=1, description="On CPU this is the share of RAM kept for the KV cache; default 0.25 there."
    )
    dtype: str = "auto"
    enforce_eager: bool = True
    extra: dict[str, Any] = Field(default_factory=dict, description="Passed to vllm.LLM as keyword arguments.")


class ModelConfig(Section):
    path: str = Field(description="'demo', a local model directory, or a hub id.")
    max_model_len: int = Field(512, gt=0)
    chat_template: Literal["auto", "never"] = Field(
        "auto", description="auto: chat prompts use the model's chat template; never: join messages as text."
    )
    engine: EngineConfig = Field(default_factory=EngineConfig)


class PromptsConfig(Section):
    source: str = Field(description="A .jsonl/.parquet file, a save_to_disk directory, hf:NAME, or builtin:NAME.")
    field: str = Field("prompt", description="Column holding the prompt text or chat messages.")
    task_fields: list[str] = Field(default_factory=list, description="Columns copied into the prompt's task.")
    split: str | None = Field(None, description="Split to read from a DatasetDict or hub dataset.")
    options: dict[str, Any] = Field(default_factory=dict, description="Keyword options for builtin sources.")
    limit: int | None = Field(None, gt=0)
    heldout_fraction: float = Field(0.0, ge=0, lt=1, description="Share of prompts kept out of pairs for evaluation.")


class PluginSection(BaseModel):
    """A section naming a plug-in; every key but the section's own belongs to the plug-in's Params."""

    model_config = ConfigDict(extra="allow")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class GenerateConfig(PluginSection):
    """``strategy`` makes the candidates (``sampling`` with vLLM, ``replay`` from a file, or a
    plug-in); its keys (``n``, ``temperature``, ... for sampling) are validated by its Params."""

    strategy: str = Field("sampling", description="sampling | replay | package.module:Class")
    shard_size: int = Field(64, gt=0, description="Prompts per checkpointed shard.")

    @model_validator(mode="before")
    @classmethod
    def _backend_is_the_old_name(cls, data: Any) -> Any:
        return upgrade_generate(data)


def upgrade_generate(section: Any) -> Any:
    """``backend: vllm | replay`` was the key before generation strategies and still works: the one
    place that translates it (to ``strategy: sampling | replay``)."""
    if isinstance(section, dict) and "backend" in section and "strategy" not in section:
        section = dict(section)
        backend = section.pop("backend")
        section["strategy"] = "sampling" if backend == "vllm" else backend
    return section


class RewardConfig(PluginSection):
    """``name`` picks the reward; every other key belongs to that reward's Params.

    A list of rewards is one ``combined`` reward of those components (weights summed).
    """

    name: str

    @model_validator(mode="before")
    @classmethod
    def _a_list_is_combined(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"name": "combined", "components": data}
        return data


class PairingConfig(PluginSection):
    """``strategy`` picks the pairing strategy; every other key belongs to its Params."""

    strategy: str = "best_worst"


class OutputConfig(Section):
    dir: str = "outputs"
    keep_versions: int = Field(3, ge=1, description="Published versions kept beside 'latest'.")
    bias_warnings: BiasThresholds = Field(default_factory=BiasThresholds, description="When the card warns of a pair bias.")


class RayConfig(Section):
    address: str | None = Field(None, description="Cluster to join; default: $RAY_ADDRESS, else start locally.")
    num_cpus: int | None = Field(None, gt=0)


class TargetPairsConfig(Section):
    """``target_pairs:``: sample again the prompts left without a pair until ``pairs`` pairs are
    made or the budget (``max_rounds`` and/or ``max_samples``) is spent."""

    pairs: int = Field(gt=0, description="Pairs to publish: exactly this many when reached.")
    max_rounds: int | None = Field(None, ge=1, description="Most re-sampling rounds after the first sampling.")
    max_samples: int | None = Field(
        None, ge=1, description="Most samples the re-sampling rounds may draw in all (prompts re-sampled x n)."
    )

    @model_validator(mode="before")
    @classmethod
    def _a_number_alone_has_no_budget(cls, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool):
            return {"pairs": data}
        return data

    @model_validator(mode="after")
    def _a_budget_is_required(self) -> TargetPairsConfig:
        if self.max_rounds is None and self.max_samples is None:
            raise ValueError("a budget is required: set target_pairs.max_rounds and/or target_pairs.max_samples")
        return self


class PipelineConfig(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: ModelConfig | None = Field(
        None, description="The policy; required by generation strategies that sample from a model and by rounds > 0."
    )
    prompts: PromptsConfig
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    reward: RewardConfig
    pairing: PairingConfig = Field(default_factory=PairingConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    runtime: Literal["ray", "local"] = Field(
        "ray", description="ray: engines as actors, scoring as tasks (ray.address joins a cluster); local: in this process."
    )
    rounds: int = Field(
        0, ge=0, description="Training rounds: round k samples with policy k and trains policy k+1 on its pairs."
    )
    dpo: DPOSettings = Field(default_factory=DPOSettings, description="The DPO stage (used when rounds > 0).")
    target_pairs: TargetPairsConfig | None = Field(
        None, description="Sample unpaired prompts again until this many pairs, within a budget."
    )

    @model_validator(mode="after")
    def _target_pairs_needs_one_run(self) -> PipelineConfig:
        if self.target_pairs is not None and self.rounds > 0:
            raise ValueError("target_pairs: not supported with rounds > 0 (each round's run is sized by its prompts)")
        return self

    def run_dir(self) -> Path:
        return Path(self.output.dir) / self.name

    def card_dump(self) -> dict[str, Any]:
        """The config as cards and config hashes show it: optional sections left unset are left
        out, so adding one to prefgen leaves the hash of configs that do not use it unchanged."""
        return self.model_dump(mode="json", exclude={"target_pairs"} if self.target_pairs is None else set())


class ConfigError(Exception):
    """Every problem found in a config, each as 'yaml.path: message'."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, missing: list[str], path: str = "") -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string; unset variables are reported."""
    if isinstance(value, dict):
        return {k: expand_env(v, missing, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, missing, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        missing.append(f"{path}: environment variable ${{{name}}} is not set")
        return match.group(0)

    return _ENV_PATTERN.sub(substitute, value)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> list[str]:
    """Apply ``a.b.c=value`` overrides in place (values parsed as YAML). Returns problems."""
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            problems.append(f"override {item!r}: expected key=value, e.g. generate.n=8")
            continue
        node = raw
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                problems.append(f"override {item!r}: {part} is not a section")
                break
            node = child
        else:
            try:
                node[parts[-1]] = yaml.safe_load(text) if text else ""
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem", None) or type(exc).__name__
                problems.append(f"override {item!r}: the value is not valid YAML ({mark}); "
                                f"quote it, e.g. {key}='\"{text}\"'")
    return problems


def read_raw(path: str | Path, overrides: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """A pipeline YAML as a dict, overrides applied and ``${VAR}`` expanded; raises ConfigError when
    the file cannot be read as a mapping. Returns the dict and the problems found so far."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, [f"no such file: {source}"]) from None
    except IsADirectoryError:
        raise ConfigError(source, [f"is a directory, not a pipeline YAML file: {source}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot read {source}: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(source, ["(top level): expected a mapping of sections"])
    problems = apply_overrides(raw, overrides or [])
    return expand_env(raw, problems), problems
