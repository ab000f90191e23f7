"""The Ray runtime: start Ray locally or join a cluster; engines as actors, scoring as tasks."""

from __future__ import annotations

import logging
import os

from prefgen.config import RayConfig

log = logging.getLogger(__name__)


def ensure_ray(config: RayConfig) -> bool:
    """Initialise Ray once per process: the config's address, else ``$RAY_ADDRESS``, else local.

    Returns whether this call started it.
    """
    import ray

    if ray.is_initialized():
        return False
    address = config.address or os.environ.get("RAY_ADDRESS") or None
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is None and config.num_cpus:
        kwargs["num_cpus"] = config.num_cpus
    ray.init(address=address, **kwargs)
    log.info("ray: %s, resources %s", address or "local", ray.cluster_resources())
    return True


def cluster_has_gpus() -> bool:
    import ray

    return ray.cluster_resources().get("GPU", 0) > 0


def shutdown_ray() -> None:
    """Stop Ray (and with it every engine actor) if this process started it."""
    import ray

    from prefgen.executors.engine_pool import release_all_pools

    release_all_pools()
    if ray.is_initialized():
        ray.shutdown()


class RayRuntime:
    """The Ray runtime: joins ``ray.address`` (or ``$RAY_ADDRESS``) or starts Ray on first use."""


    def __init__(self, config: RayConfig):
        self.config = config
        self.started = False  # only a Ray this runtime started is stopped by it

    def _ensure(self) -> None:
        self.started |= ensure_ray(self.config)

    def scoring_jobs(self, reward_name: str, reward_params: dict):
        from prefgen.executors.engine_scoring import EngineScoringJobs, needs_engines
        from prefgen.executors.scoring import ScoringQueue

        if needs_engines(reward_name, reward_params):  # a judge or reward model: scored on the pool
            return EngineScoringJobs(self, reward_name, reward_params)
        self._ensure()
        return ScoringQueue(reward_name, reward_params)

    def engines(self, model_path: str, fingerprint: str, model):
        from prefgen.executors.engine_pool import get_pool

        self._ensure()
        return get_pool(model_path, fingerprint, model, cluster_has_gpus())

    def live_engines(self, fingerprint: str):
        """The running pool for the model with this fingerprint, if any."""
        from prefgen.executors.engine_pool import live_pool

        return live_pool(fingerprint)

    def release_engines(self) -> None:
        import ray

        from prefgen.executors.engine_pool import release_all_pools

        if ray.is_initialized():
            release_all_pools()

    def shutdown(self) -> None:
        if self.started:
            shutdown_ray()
            self.started = False
