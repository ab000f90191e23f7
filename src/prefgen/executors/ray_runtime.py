"""Start Ray locally or join a cluster."""

from __future__ import annotations

import logging
import os

from prefgen.config import RayConfig

log = logging.getLogger(__name__)


def ensure_ray(config: RayConfig) -> None:
    """Initialise Ray once per process: the config's address, else ``$RAY_ADDRESS``, else local."""
    import ray

    if ray.is_initialized():
        return
    address = config.address or os.environ.get("RAY_ADDRESS") or None
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is None and config.num_cpus:
        kwargs["num_cpus"] = config.num_cpus
    ray.init(address=address, **kwargs)
    log.info("ray: %s, resources %s", address or "local", ray.cluster_resources())


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
