"""One plug-in contract for rewards, pairing strategies, prompt sources and generation strategies.

A registry maps short names to ``"module:Object"`` and imports a module only when its plug-in is
used, so validating a config stays cheap. A user's own plug-in is named by its import path
(``my_package.module:MyStrategy``). Every plug-in class has a ``Params`` pydantic model that
forbids unknown keys; :meth:`Registry.params_problems` turns its errors into lines naming the YAML
path (``pairing.min_margn: unknown key``), and a misspelt name gets "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from pydantic import BaseModel, ValidationError


class UnknownPluginError(ValueError):
    """A plug-in name is neither registered nor an importable ``module:Object`` path."""


class Registry:
    """Names of one kind of plug-in, resolved lazily to classes derived from ``base``."""

    def __init__(self, kind: str, entries: dict[str, str], base: str):
        self.kind = kind  # how messages name it: "reward", "pairing strategy", ...
        self.entries = entries  # name -> "module:Object"; the dict stays shared with its module
        self.base = base  # "module:Class" every plug-in must derive from

    def names(self) -> list[str]:
        return sorted(self.entries)

    def load(self, name: str) -> type:
        """The class registered under ``name``, or imported from ``package.module:Object``."""
        target = self.entries.get(name)
        if target is None:
            if ":" not in name:
                close = difflib.get_close_matches(name, self.entries, n=3)
                hint = f" Did you mean: {', '.join(close)}?" if close else ""
                raise UnknownPluginError(
                    f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}; "
                    "or give an import path 'package.module:Class'."
                )
            target = name
        cls = _import(target, self.kind)
        base = _import(self.base, self.kind)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise UnknownPluginError(f"{target!r} is not a subclass of {self.base.replace(':', '.')}")
        return cls

    def params_problems(self, name: str, params: dict[str, Any], path: str) -> list[str]:
        """Every problem with ``name`` and its ``params``, each line prefixed with the YAML path."""
        return self.create_params(name, params, path)[1]

    def create_params(self, name: str, params: dict[str, Any], path: str = "") -> tuple[BaseModel | None, list[str]]:
        """The plug-in's validated Params, or None and the problems (prefixed with ``path``)."""
        prefix = f"{path}." if path else ""
        try:
            cls = self.load(name)
        except UnknownPluginError as exc:
            return None, [f"{prefix}{_name_key(self.kind)}: {exc}"]
        try:
            return cls.Params(**params), []
        except ValidationError as exc:
            from prefgen.config import format_validation_error

            return None, [f"{prefix}{line}" for line in format_validation_error(exc)]

    def build(self, name: str, params: dict[str, Any], *args: Any) -> Any:
        """An instance: ``cls(cls.Params(**params), *args)``; raises on bad params."""
        cls = self.load(name)
        return cls(cls.Params(**params), *args)


def _import(target: str, kind: str) -> Any:
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownPluginError(f"cannot import {kind} {target!r}: {exc}") from exc


def _name_key(kind: str) -> str:
    return {"reward": "name", "prompt source": "source"}.get(kind, "strategy")


rewards = Registry(
    "reward",
    {
        "length": "prefgen.rewards.length:LengthReward",
        "regex": "prefgen.rewards.regex:RegexReward",
        "quote": "prefgen.rewards.quote:QuoteReward",
        "execution": "prefgen.rewards.execution:ExecutionReward",
        "combined": "prefgen.rewards.combined:CombinedReward",
        "tool_call": "prefgen.rewards.tool_call:ToolCallReward",
        "refusal": "prefgen.rewards.refusal:RefusalReward",
    },
    base="prefgen.rewards.base:Reward",
)

pairing_strategies = Registry(
    "pairing strategy",
    {
        "best_worst": "prefgen.pairing:BestWorst",
        "all_pairs": "prefgen.pairing:AllPairs",
        "quote_tuning": "prefgen.pairing:QuoteTuning",
        "refusal": "prefgen.refusal.pairing:RefusalPairing",
        "tree": "prefgen.tooluse.tree_pairing:TreePairing",
    },
    base="prefgen.pairing:PairingStrategy",
)

prompt_sources = Registry(
    "prompt source",
    {
        "humaneval": "prefgen.sources.builtin:HumanEvalSource",
        "stdlib_docs": "prefgen.sources.builtin:StdlibDocsSource",
        "mbpp": "prefgen.sources.builtin:MbppSource",
        "bfcl": "prefgen.sources.builtin:BfclSource",
        "stdlib_tools": "prefgen.sources.builtin:StdlibToolsSource",
        "qa": "prefgen.sources.builtin:QaSource",
        "stdlib_facts": "prefgen.sources.builtin:StdlibFactsSource",
    },
    base="prefgen.sources.base:PromptSource",
)

generation_strategies = Registry(
    "generation strategy",
    {
        "sampling": "prefgen.generation.sampling:SamplingStrategy",
        "replay": "prefgen.generation.replay:ReplayStrategy",
        "tree_search": "prefgen.generation.tree_search:TreeSearchStrategy",
    },
    base="prefgen.generation.strategy:GenerationStrategy",
)
