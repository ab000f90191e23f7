"""A multi-node Ray cluster on one Linux machine, for trying cluster behaviour without a cluster.

Every node is a real ``ray start`` (head, then ``ray start --address``), each with its own CPUs,
name and temp dir. They live in a network namespace of their own that has only a loopback
interface, so every node binds to 127.0.0.1 and nothing in it can reach any other address (Ray
2.60's ``ray start`` turns ``--node-ip-address 127.0.0.1`` into the machine's own address when
other interfaces exist). Token authentication is on, with a token file made here. Commands run
inside with :attr:`LocalCluster.prefix` (``nsenter``); :meth:`stop` kills every process in the
namespace, which are all, and only, the cluster's and its drivers'.

Needs root (or CAP_SYS_ADMIN), ``unshare``, ``nsenter`` and ``ip`` (util-linux, iproute2).
Used by the cluster tests and benchmarks; see the README's "Running on a cluster" for real ones.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD_ADDRESS = "127.0.0.1:6379"
_START_TIMEOUT_S = 120
_OBJECT_STORE_BYTES = 512 << 20  # Ray's default is 30% of RAM per node; nodes here share one machine


class LocalCluster:
    """Ray nodes in a loopback-only network namespace; use as a context manager."""

    def __init__(self, env: dict[str, str] | None = None):
        # short: Ray's socket paths under the temp dir must fit in 107 bytes
        self.temp = Path(tempfile.mkdtemp(prefix="pgc-", dir="/tmp"))
        (self.temp / "token").write_text(secrets.token_hex(32))
        self.env = {**os.environ, **(env or {}), "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN_PATH": str(self.temp / "token"), "RAY_USAGE_STATS_ENABLED": "0"}
        self.env.pop("RAY_ADDRESS", None)  # drivers get the address in their config
        self._holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"], start_new_session=True)
        self.prefix = ["nsenter", "-t", str(self._holder.pid), "-n", "--"]
        self._wait_for_namespace()
        subprocess.run([*self.prefix, "ip", "link", "set", "lo", "up"], check=True)
        self.nodes: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def add_node(self, name: str, num_cpus: int, setup: str = "") -> None:
        """Start a node (the first one is the head). ``setup``: shell commands run first in a
        mount namespace of the node's own (e.g. mounts that only this node sees)."""
        command = [self._ray(), "start", "--node-ip-address", "127.0.0.1", "--num-cpus", str(num_cpus),
                   "--node-name", name, "--temp-dir", str(self.temp / name), "--disable-usage-stats",
                   "--object-store-memory", str(_OBJECT_STORE_BYTES)]
        if self.nodes:
            command += ["--address", HEAD_ADDRESS]
        else:
            command += ["--head", "--port", HEAD_ADDRESS.rsplit(":", 1)[1], "--include-dashboard", "false"]
        if setup:
            command = ["unshare", "--mount", "--", "sh", "-c", f'{setup} && exec "$@"', "node-setup", *command]
        done = subprocess.run([*self.prefix, *command], env=self.env, capture_output=True, text=True,
                              timeout=_START_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ray start for node {name} failed:\n{done.stdout}\n{done.stderr}")
        self.nodes.append(name)

    def stop(self) -> None:
        """SIGKILL every process in the namespace (Ray's daemons, workers, engines, drivers)."""
        namespace = os.readlink(f"/proc/{self._holder.pid}/ns/net")
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != self._holder.pid:
                try:
                    if os.readlink(f"/proc/{entry}/ns/net") == namespace:
                        os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    continue  # exited meanwhile
        self._holder.kill()
        self._holder.wait()
        shutil.rmtree(self.temp, ignore_errors=True)

    def _wait_for_namespace(self) -> None:
        mine = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{self._holder.pid}/ns/net") == mine:
            if time.monotonic() > deadline or self._holder.poll() is not None:
                raise RuntimeError("unshare --net did not create a network namespace (needs root)")
            time.sleep(0.05)

    @staticmethod
    def _ray() -> str:
        return str(Path(sys.executable).with_name("ray"))
