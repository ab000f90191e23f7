"""An LLM judge with a rubric written in the YAML: pointwise (a score on a stated scale) or
pairwise (A/B in both orders, kept only when the orders agree).

The parts, each a module: :mod:`rubric` (templates and reading a reply), :mod:`job` (the judge's
requests as one engine job, unparseable replies retried inside the engine), :mod:`verdicts` (two
orders to one verdict), :mod:`reward` (the reward), :mod:`pairing` (pairs from agreed verdicts)
and :mod:`figures` (flip, tie, abstain and failure rates for the card). See README.md beside this file.
"""

PLUGINS = {
    "reward": {"judge": "prefgen.methods.judge.reward:JudgeReward"},
    "pairing strategy": {"judge": "prefgen.methods.judge.pairing:JudgePairing"},
}
