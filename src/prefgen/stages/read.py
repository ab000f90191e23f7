"""Read stage: the prompts, with every unusable row written to ``rejected_inputs.jsonl``."""

from __future__ import annotations

import logging

from prefgen.config import PromptsConfig
from prefgen.rewards import Reward
from prefgen.rundir import RunDir, write_text_atomic
from prefgen.sources.reader import PromptSet, read_prompts
from prefgen.stages import RunFailed

log = logging.getLogger("prefgen")


class NoPromptsError(RunFailed):
    """No usable prompt was read."""


def read_stage(config: PromptsConfig, reward: Reward, run_dir: RunDir, prompt_set: PromptSet | None = None) -> PromptSet:
    """Read and split the prompts (unless ``prompt_set`` was read already, as a loop does once for
    all its rounds); rejects replace the file (they are this run's)."""
    if prompt_set is None:
        prompt_set = read_prompts(config, reward.task_problem)
    write_text_atomic(run_dir.rejects_path, "".join(r.model_dump_json() + "\n" for r in prompt_set.rejected))
    log.info("prompts: %d read, %d rejected", len(prompt_set.prompts), len(prompt_set.rejected))
    if not prompt_set.prompts:
        raise NoPromptsError(
            f"prompts.source: no usable prompts in {config.source} "
            f"({len(prompt_set.rejected)} rejected; see {run_dir.rejects_path})"
        )
    return prompt_set


def append_rejects(run_dir: RunDir, rejected: list) -> None:
    """Add rows rejected after reading (a replay row matching no prompt) to the rejects file."""
    if rejected:
        with open(run_dir.rejects_path, "a", encoding="utf-8") as handle:
            handle.writelines(r.model_dump_json() + "\n" for r in rejected)
