"""What every plug-in's parameters are: a pydantic model whose unknown keys are config errors.

Rewards, pairing strategies, prompt sources and generation strategies share one shape: a
``Params`` model derived from :class:`PluginParams`, ``check() -> list[str]`` on the instance
(cheap, before any heavy work) and one work method of their kind. The registry
(:mod:`prefgen.registry`) builds them by name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PluginParams(BaseModel):
    """A plug-in's keys from its YAML section (minus the key that names the plug-in)."""

    model_config = ConfigDict(extra="forbid")
