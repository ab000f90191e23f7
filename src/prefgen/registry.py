"""One plug-in contract for rewards, pairing strategies, prompt sources, generation strategies and
named models.

A registry maps short names to ``"module:Object"`` and imports a module only when its plug-in is
used, so validating a config stays cheap. The core registers only what every method shares
(``length``, ``regex``, ``combined``, ``best_worst``, ``all_pairs``, ``sampling``, ``replay``).
Methods add theirs without the core naming them: a method is a package whose light
``__init__`` holds a ``PLUGINS`` table (kind -> name -> ``"module:Object"``), announced through
the ``prefgen.methods`` entry-point group. prefgen's own methods (``prefgen.methods.*``) are
announced in its ``pyproject.toml`` exactly as a third-party package would announce one.

A user's own plug-in can also be named by its import path (``my_package.module:MyStrategy``).
Every plug-in class has a ``Params`` pydantic model that forbids unknown keys;
:meth:`Registry.params_problems` turns its errors into lines naming the YAML path
(``pairing.min_margn: unknown key``), and a misspelt name gets "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
import threading
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from prefgen.validation import format_validation_error

ENTRY_POINT_GROUP = "prefgen.methods"
KINDS = ("reward", "pairing strategy", "prompt source", "generation strategy", "model")


class UnknownPluginError(ValueError):
    """A plug-in name is neither registered nor an importable ``module:Object`` path."""


def import_object(target: str, kind: str) -> Any:
    """The object a ``"module:Object"`` path names; UnknownPluginError naming ``kind`` if none."""
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownPluginError(f"cannot import {kind} {target!r}: {exc}") from exc


_methods_lock = threading.Lock()
_methods: dict[str, dict[str, dict[str, str]]] | None = None


def installed_methods() -> dict[str, dict[str, dict[str, str]]]:
    """Every method announced in the ``prefgen.methods`` entry-point group: name -> its PLUGINS table.

    Read once per process (under a lock: scoring threads may ask at the same time). A method whose
    table cannot be loaded is an installation error, raised naming the method."""
    global _methods
    with _methods_lock:
        if _methods is None:
            found = {}
            for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
                try:
                    table = point.load()
                except Exception as exc:
                    raise UnknownPluginError(f"method {point.name!r} ({point.value}) cannot be loaded: {exc}") from exc
                unknown = set(table) - set(KINDS)
                if unknown:
                    raise UnknownPluginError(f"method {point.name!r}: unknown plug-in kinds {sorted(unknown)}; known: {KINDS}")
                found[point.name] = table
            _methods = found
        return _methods


class Registry:
    """Names of one kind of plug-in, resolved lazily to classes derived from ``base``."""

    def __init__(self, kind: str, core: dict[str, str], base: str | None):
        self.kind = kind  # how messages name it, and the key of a method's PLUGINS table
        self.core = core  # name -> "module:Object" for the plug-ins every method shares
        self.base = base  # "module:Class" every plug-in must derive from (None: any object)

    @property
    def entries(self) -> dict[str, str]:
        """Every registered name: the core's and the installed methods'."""
        merged = dict(self.core)
        for method, table in installed_methods().items():
            for name, target in table.get(self.kind, {}).items():
                if name in merged and merged[name] != target:
                    raise UnknownPluginError(f"{self.kind} {name!r} is registered twice (method {method!r})")
                merged[name] = target
        return merged

    def names(self) -> list[str]:
        return sorted(self.entries)

    def load(self, name: str) -> Any:
        """The object registered under ``name``, or imported from ``package.module:Object``."""
        entries = self.entries
        target = entries.get(name)
        if target is None:
            if ":" not in name:
                close = difflib.get_close_matches(name, entries, n=3)
                hint = f" Did you mean: {', '.join(close)}?" if close else ""
                raise UnknownPluginError(
                    f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(entries))}; "
                    "or give an import path 'package.module:Class'."
                )
            target = name
        obj = import_object(target, self.kind)
        if self.base is not None:
            base = import_object(self.base, self.kind)
            if not (isinstance(obj, type) and issubclass(obj, base)):
                raise UnknownPluginError(f"{target!r} is not a subclass of {self.base.replace(':', '.')}")
        return obj

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
            return None, [f"{prefix}{line}" for line in format_validation_error(exc)]

    def build(self, name: str, params: dict[str, Any], *args: Any) -> Any:
        """An instance: ``cls(cls.Params(**params), *args)``; raises on bad params."""
        cls = self.load(name)
        return cls(cls.Params(**params), *args)


def _name_key(kind: str) -> str:
    return {"reward": "name", "prompt source": "source", "model": "path"}.get(kind, "strategy")


rewards = Registry(
    "reward",
    {
        "length": "prefgen.rewards.length:LengthReward",
        "regex": "prefgen.rewards.regex:RegexReward",
        "combined": "prefgen.rewards.combined:CombinedReward",
    },
    base="prefgen.rewards.base:Reward",
)

pairing_strategies = Registry(
    "pairing strategy",
    {
        "best_worst": "prefgen.pairing:BestWorst",
        "all_pairs": "prefgen.pairing:AllPairs",
    },
    base="prefgen.pairing:PairingStrategy",
)

prompt_sources = Registry("prompt source", {}, base="prefgen.sources.base:PromptSource")

generation_strategies = Registry(
    "generation strategy",
    {
        "sampling": "prefgen.generation.sampling:SamplingStrategy",
        "replay": "prefgen.generation.replay:ReplayStrategy",
    },
    base="prefgen.generation.strategy:GenerationStrategy",
)

# Named models (``model.path: smollm2``): name -> "module:function" returning the model's directory,
# made (converted, trained) on first use and cached; ``force=True`` makes it again. The function may
# carry a ``check()`` listing what it lacks (a package) for pre-flight. Methods add their demo
# policies (``demo``, ``demo:facts``, ``demo:tools``).
models = Registry("model", {"smollm2": "prefgen.models.smollm2:smollm2_dir"}, base=None)
