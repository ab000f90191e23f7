"""Checks before any heavy work: every problem that can be known from a config, all at once.

:func:`load_config` is how every command reads a pipeline: schema, plug-in parameters and the
checks below, reported together.

Nothing here creates, starts or downloads anything, so ``prefgen validate`` leaves no trace. The
same checks also run on the raw YAML of a config that failed its schema, on whichever values are
usable, so a user sees the missing model next to the misspelt key (not one after the other).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from prefgen.config import ConfigError, PipelineConfig, read_raw, upgrade_generate
from prefgen.generation.model_ref import check_model_path
from prefgen.registry import UnknownPluginError, generation_strategies, pairing_strategies, rewards
from prefgen.validation import format_validation_error


def load_config(path: str | Path, overrides: list[str] | None = None) -> PipelineConfig:
    """Read, override, expand and validate a pipeline YAML; raise ConfigError listing every problem.

    Also validates the plug-ins' own parameters (importing only their light modules) and, when
    anything is wrong, adds the problems that the usable values show, so a user sees the missing
    model next to the misspelt key (not one after the other).
    """
    raw, problems = read_raw(path, overrides)
    config = None
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(format_validation_error(exc))
    problems.extend(plugin_problems(raw))
    if problems:
        problems.extend(p for p in raw_problems(raw) if p not in problems)  # all that can be known, at once
    if problems:
        raise ConfigError(str(path), problems)
    assert config is not None
    return config


def plugin_problems(raw: dict[str, Any]) -> list[str]:
    """The Params of the reward, pairing and generation plug-ins the raw config names."""
    problems = []
    reward = raw.get("reward")
    if isinstance(reward, list):
        reward = {"name": "combined", "components": reward}
    if isinstance(reward, dict) and isinstance(reward.get("name"), str):
        problems += rewards.params_problems(reward["name"], _without(reward, "name"), "reward")
    pairing = raw.get("pairing", {})
    if isinstance(pairing, dict) and isinstance(pairing.get("strategy", ""), str):
        name = pairing.get("strategy", "best_worst")
        problems += pairing_strategies.params_problems(name, _without(pairing, "strategy"), "pairing")
    generate = raw.get("generate", {})
    if isinstance(generate, dict):
        generate = upgrade_generate(generate)
        if isinstance(generate.get("strategy", ""), str):
            name = generate.get("strategy", "sampling")
            params = _without(generate, "strategy", "shard_size")
            problems += generation_strategies.params_problems(name, params, "generate")
            problems += _resampling_problems(raw, name)
    return problems


def _resampling_problems(raw: dict[str, Any], strategy: str) -> list[str]:
    """``target_pairs`` needs a generation strategy that can draw fresh samples for a prompt."""
    if raw.get("target_pairs") is None:
        return []
    try:
        cls = generation_strategies.load(strategy)
    except UnknownPluginError:
        return []  # reported with the strategy's own problems
    if cls.resamples:
        return []
    return [f"target_pairs: generate.strategy {strategy!r} cannot sample a prompt again (use sampling, or remove target_pairs)"]


def _without(section: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k not in keys}


def config_problems(config: PipelineConfig) -> list[str]:
    """Problems of a schema-valid config: model, prompt source, replay file, output directory."""
    problems = _generation_problems(config.generate.strategy, config.model and config.model.path, config.generate.params)
    if config.rounds > 0 and config.model is None:
        problems.append("model: required key is missing (rounds > 0 trains the policy it names)")
    problems += source_problems(config.prompts.source, config.prompts.options)
    problems += pairing_problems(config)
    problems += output_problems(config.run_dir())
    problems += engine_cpu_problems(config)
    return problems


def raw_problems(raw: dict[str, Any]) -> list[str]:
    """The same checks on the raw YAML of a config with schema errors, where values are usable."""
    problems: list[str] = []
    model, prompts, generate = (raw.get(k) if isinstance(raw.get(k), dict) else {} for k in ("model", "prompts", "generate"))
    generate = upgrade_generate(generate)
    strategy = generate.get("strategy") or "sampling"
    if isinstance(strategy, str):
        params = {k: v for k, v in generate.items() if k not in ("strategy", "shard_size")}
        path = model.get("path") if _usable(model.get("path")) else None
        if _all_usable(params) and (path is not None or not isinstance(raw.get("model"), dict)):
            problems += _generation_problems(strategy, path, params)
    if _usable(prompts.get("source")):
        options = prompts.get("options") if isinstance(prompts.get("options"), dict) else {}
        problems += source_problems(prompts["source"], options)
    output = raw.get("output") if isinstance(raw.get("output"), dict) else {}
    if _usable(raw.get("name")) and _usable(output.get("dir", "outputs")):
        problems += output_problems(Path(output.get("dir", "outputs")) / raw["name"])
    return problems


def _usable(value: Any) -> bool:
    """A string value whose environment variables were all set (a missing one is already reported)."""
    return isinstance(value, str) and "${" not in value


def _all_usable(params: dict[str, Any]) -> bool:
    return all(_usable(v) or not isinstance(v, str) for v in params.values())


def _generation_problems(strategy: str, model_path: str | None, params: dict[str, Any]) -> list[str]:
    try:
        cls = generation_strategies.load(strategy)
    except UnknownPluginError:
        return []  # reported with the schema problems
    if not cls.uses_model:
        problems = []
    elif model_path is None:
        problems = [f"model: required key is missing (generate.strategy {strategy!r} samples from a model)"]
    else:
        problems = check_model_path(model_path)
    try:
        return problems + cls(cls.Params(**params)).check()
    except ValueError:
        return problems  # bad params are reported with the schema problems


def pairing_problems(config: PipelineConfig) -> list[str]:
    """The pairing strategy's own checks (its params' schema is checked with the config)."""
    try:
        strategy = pairing_strategies.build(config.pairing.strategy, config.pairing.params)
    except (UnknownPluginError, ValueError):
        return []  # reported with the schema problems
    return [f"pairing.{problem}" for problem in strategy.check()]


def engine_cpu_problems(config: PipelineConfig) -> list[str]:
    """Enough Ray CPUs for the engines and scoring, when Ray is started here (a cluster's are
    checked when it is joined: :func:`prefgen.executors.engine_pool.get_pool`)."""

    if config.runtime != "ray" or config.ray.address or os.environ.get("RAY_ADDRESS"):
        return []
    try:
        if not generation_strategies.load(config.generate.strategy).uses_model:
            return []
    except UnknownPluginError:
        return []
    cpus = config.ray.num_cpus or os.cpu_count() or 1
    problem = engine_cpu_problem(config.model.engine.num_engines, cpus)
    return [problem] if problem else []


def engine_cpu_problem(num_engines: int, cpus: float) -> str | None:
    """Each engine holds one Ray CPU for the whole run and each scoring job needs one more: with no
    CPU left over, scoring would wait for the engines for ever."""
    if num_engines < cpus:
        return None
    return (f"model.engine.num_engines: {num_engines} engine(s) hold one Ray CPU each and scoring needs at least "
            f"one more, but Ray has {cpus:g} CPU(s) (ray.num_cpus, or this machine's): use at most {int(cpus) - 1} "
            "engine(s) or more CPUs")


def source_problems(source: str, options: dict[str, Any]) -> list[str]:
    """Does the prompt source exist, and are its options ones it takes?"""
    from prefgen.sources.reader import check_source_name

    return check_source_name(source, options)


def output_problems(run_dir: Path) -> list[str]:
    """Could the run directory be created and written? Creates nothing."""
    existing = run_dir
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return [f"output.dir: cannot write {run_dir}: {existing} is not a directory"]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"output.dir: cannot write {run_dir}: permission denied on {existing}"]
    return []
