"""Choosing the runtime a config names (kept apart from the runtimes, which import its interface)."""

from __future__ import annotations

from prefgen.config import PipelineConfig
from prefgen.executors.runtime import Runtime


def make_runtime(config: PipelineConfig) -> Runtime:
    """The runtime ``config.runtime`` names."""
    if config.runtime == "local":
        from prefgen.executors.local_runtime import LocalRuntime

        return LocalRuntime()
    from prefgen.executors.ray_runtime import RayRuntime

    return RayRuntime(config.ray)
