"""A throwaway local Ray cluster with the composer tier on it, for tests and benchmarks.

`ray start --head` runs in a temporary directory on free ports (other clusters on the machine, a
bench's or another test run's, are left alone), the app is deployed from deploy/ray/serve.yaml with
the replica count and engine overridden, and stopping kills exactly this cluster's processes: the
ones whose command line names its temporary directory, and their children (replicas, the Serve
controller). `ray stop` would stop every cluster of the user.

    with ray_cluster(num_cpus=4) as cluster:
        cluster.deploy(replicas=2, engine="rules")
        remote = RemoteComposer.connect(cluster.address)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVE_YAML = ROOT / "deploy" / "ray" / "serve.yaml"
APP = "muse-composer"
BIN = Path(sys.executable).parent
ENV = {"RAY_DEDUP_LOGS": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}


class ClusterError(RuntimeError):
    """The local cluster did not start, or the app did not come up, in time."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RayCluster:
    temp_dir: Path
    port: int
    num_cpus: int
    num_gpus: int = 0  # what Ray may schedule; a bench on a GPU machine offers its GPUs
    client_port: int = field(default_factory=free_port)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- the app ------------------------------------------------------------------------------
    def serve_config(self, replicas: int = 2, engine: str = "rules", **user_config: Any) -> dict[str, Any]:
        """deploy/ray/serve.yaml with a fixed replica count and the given engine and user_config."""
        config = yaml.safe_load(SERVE_YAML.read_text())
        (app,) = config["applications"]
        app["args"] = {**app["args"], "num_replicas": replicas}
        (deployment,) = app["deployments"]
        deployment["user_config"] = {**deployment["user_config"], "engine": engine, **user_config}
        return config

    def deploy(self, replicas: int = 2, engine: str = "rules", timeout_s: float = 120, **user_config: Any) -> float:
        """Deploy (or reconfigure) the app with `serve run --non-blocking` as an operator would, then
        wait until every replica runs; returns the seconds it took. Needs `connect()` first."""
        started = time.perf_counter()
        path = self.temp_dir / "serve.yaml"
        path.write_text(yaml.safe_dump(self.serve_config(replicas, engine, **user_config)))
        self._run([str(BIN / "serve"), "run", str(path), "--non-blocking", "--address", self.address])
        self.wait_running(replicas, timeout_s)
        self.timings_s["deploy"] = time.perf_counter() - started
        return self.timings_s["deploy"]

    def wait_running(self, replicas: int, timeout_s: float = 120) -> None:
        """Until the app is RUNNING with `replicas` replicas running (Serve replaces a killed one)."""
        from ray import serve

        deadline = time.monotonic() + timeout_s
        state: Any = None
        while time.monotonic() < deadline:
            app = serve.status().applications.get(APP)
            state = app
            if app is not None and str(app.status.value) == "RUNNING":
                running = sum(d.replica_states.get("RUNNING", 0) for d in app.deployments.values())
                if running == replicas and len(self.replica_names()) == replicas:
                    return
            time.sleep(0.25)
        raise ClusterError(f"{APP} not running with {replicas} replicas after {timeout_s} s: {state}")

    def replica_names(self) -> list[str]:
        """The Ray actor names of the app's live replicas (in Serve's namespace)."""
        import ray

        prefix = f"SERVE_REPLICA::{APP}#"
        return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                      if a["name"].startswith(prefix))

    def replica_name(self, replica_id: str) -> str:
        """The actor name of the replica whose stats() say `replica_id`."""
        (name,) = [n for n in self.replica_names() if n.endswith(f"#{replica_id}")]
        return name

    def kill_replica(self, name: str) -> None:
        """Kill one replica actor as a crash would (no restart by Ray; Serve starts another)."""
        import ray

        ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)

    # -- this process as a driver ---------------------------------------------------------------
    def connect(self) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, namespace="muse", log_to_driver=False, configure_logging=False)

    # -- the cluster ------------------------------------------------------------------------------
    def start(self, timeout_s: float = 60) -> float:
        started = time.perf_counter()
        ports = {flag: free_port() for flag in ("--dashboard-port", "--dashboard-agent-listen-port",
                                                "--dashboard-agent-grpc-port", "--metrics-export-port",
                                                "--runtime-env-agent-port")}
        ports["--ray-client-server-port"] = self.client_port
        self._run([str(BIN / "ray"), "start", "--head", f"--port={self.port}", "--node-ip-address=127.0.0.1",
                   f"--num-cpus={self.num_cpus}", f"--num-gpus={self.num_gpus}", "--include-dashboard=false",
                   "--disable-usage-stats", f"--temp-dir={self.temp_dir}", "--object-store-memory=300000000",
                   *(f"{flag}={port}" for flag, port in ports.items())], timeout_s)
        self.timings_s["start"] = time.perf_counter() - started
        return self.timings_s["start"]

    def stop(self) -> None:
        """Disconnect this process, then end this cluster's processes (TERM, then KILL after 2 s)."""
        import ray
        from ray.serve import context as serve_context

        # Serve caches this cluster's controller for the process; a later cluster (the next test
        # module's) must not be asked through it
        serve_context._set_global_client(None)
        if ray.is_initialized():
            ray.shutdown()
        pids = self.pids()
        _signal(pids, signal.SIGTERM)
        deadline = time.monotonic() + 2  # gcs and raylet are slow to leave on TERM; KILL is `ray stop --force`
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        _signal([p for p in self.pids() + pids if _alive(p)], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def pids(self) -> list[int]:
        """This cluster's processes: those naming its temp dir (gcs, raylet, agents), its Ray Client
        server, and their children."""
        table = _processes()
        client_server = f"--port={self.client_port} "  # the Ray Client server names no temp dir
        ours = {pid for pid, (_, cmd) in table.items() if str(self.temp_dir) in cmd
                or ("ray.util.client.server" in cmd and client_server in cmd)}
        grew = True
        while grew:
            children = {pid for pid, (ppid, _) in table.items() if ppid in ours} - ours
            ours |= children
            grew = bool(children)
        ours.discard(os.getpid())
        return sorted(ours)

    def _run(self, argv: list[str], timeout_s: float = 120) -> None:
        done = subprocess.run(argv, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=timeout_s,
                              cwd=ROOT)
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stdout[-2000:]}"
                               f"\n{done.stderr[-4000:]}")


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry.name)] = (ppid, cmd)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@contextlib.contextmanager
def ray_cluster(num_cpus: int = 4, num_gpus: int = 0) -> Iterator[RayCluster]:
    """A started cluster this process is connected to; stopped (every process of it) on the way out.

    `num_cpus` is what Ray may schedule, not what the machine has: two one-CPU replicas fit in 4 on
    a 2-core machine (the Serve controller takes none)."""
    cluster = RayCluster(Path(tempfile.mkdtemp(prefix="muse-ray-", dir="/tmp")), free_port(), num_cpus, num_gpus)
    try:
        cluster.start()
        cluster.connect()
        yield cluster
    finally:
        cluster.stop()
