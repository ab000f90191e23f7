"""A reward model: a sequence classifier (as in RLHF pipelines) scoring each answer, through
vLLM's pooling runner on the run's engine pool. See README.md beside this file.

Modules: :mod:`job` (a shard's answers classified in one engine call) and :mod:`reward`.
"""

PLUGINS = {
    "reward": {"reward_model": "prefgen.methods.reward_model.reward:RewardModelReward"},
}
