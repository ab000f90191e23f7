"""Real models prefgen can hand to vLLM and TRL without a model hub (``model.path: smollm2``)."""

from __future__ import annotations

from prefgen.models.smollm2 import LICENCE as _SMOLLM2_LICENCE

_LICENCES = {"smollm2": _SMOLLM2_LICENCE}


def model_licence(name: str) -> str | None:
    """The licence line of an embedded model named ``name`` (None for any other ``model.path``)."""
    return _LICENCES.get(name)
