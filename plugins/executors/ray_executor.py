"""The ``ray`` executor: the stage graph as Ray tasks on a local or existing cluster.

The driver (this process) keeps the graph: it submits a task once every dependency is
done or cached, skips the dependants of a failed task, and reports progress as tasks
come back. Workers only call ``runtime.execute(task)``, which reads and writes the
content-addressed cache, so the cache must live on storage every worker sees and the
results are the local executor's. Ray is an optional extra, imported only in
:func:`run_on_ray`.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ropbench import hookimpl
from ropbench.errors import RopbenchError
from ropbench.executing import (
    ExecutionReport,
    ProgressSink,
    Task,
    TaskOutcome,
    TaskRuntime,
    order_check,
    run_when_ready,
)

if TYPE_CHECKING:
    from types import ModuleType

    from ray import ObjectRef

from ropbench.specs import ExecutorSpec

__all__ = ["run_on_ray", "task_options", "forwarded_environment", "execute_in_worker", "execute_on_gpu",
           "ropbench_register_executors"]

INSTALL_HINT = "the ray executor needs Ray: pip install 'ropbench[ray]'"
PROBE_FOLDER = ".ray-probes"  # hidden: the cache's stage folders never start with a dot
ENV_PREFIX = "ROPBENCH_"


def run_on_ray(tasks: Sequence[Task], runtime: TaskRuntime, progress: ProgressSink, *,
               address: str | None = None, num_cpus: int | None = None, max_retries: int = 3,
               poll_seconds: float = 0.5) -> ExecutionReport:
    """Run ``tasks`` as Ray tasks; a failure skips only the tasks that depend on it.

    :param address: a cluster to join (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``).
        Without one, ``$RAY_ADDRESS`` if set, else a new local Ray instance that is shut
        down at the end. A Ray already initialised in this process is used as it is.
    :param num_cpus: CPUs of a local instance started here (default: all).
    :param max_retries: resubmissions of a task whose worker or node died; a task's
        own error is never retried (the runtime reports it as ``failed``).
    :param poll_seconds: longest wait between checks, so Ctrl-C is handled promptly.

    Ctrl-C cancels the outstanding tasks and returns with ``interrupted``; every
    finished stage is in the cache, so rerunning the same command resumes.
    """
    in_process = getattr(runtime, "in_process_plugins", ())
    if in_process:
        raise RopbenchError(f"plugins registered in this process ({', '.join(in_process)}) cannot reach Ray "
                            "workers; install them (pip install -e) or use --executor local")
    ray = _import_ray()
    connected_here = _connect(ray, address, num_cpus)
    probe = None
    try:
        probe = _write_probe(runtime)
        order_check(tasks)  # before anything is submitted: a missing dependency is a plan error
        return run_when_ready(tasks, _RayPool(ray, runtime, max_retries, probe), progress,
                              poll_seconds=poll_seconds)
    finally:
        if probe is not None:
            probe.unlink(missing_ok=True)
        if connected_here:
            ray.shutdown()  # stops a local instance we started; only disconnects from a cluster


def _import_ray() -> "ModuleType":
    try:
        import ray
    except ImportError as error:
        raise RopbenchError(INSTALL_HINT) from error
    return ray


def _connect(ray: "ModuleType", address: str | None, num_cpus: int | None) -> bool:
    """Initialise Ray unless this process already did; True when we did (so we shut it down)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    # Ray's own default would silently join the last cluster started on this machine;
    # without an address we start a fresh one that we own and shut down.
    local = address is None
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": "warning"}
    if local:
        options["num_cpus"] = num_cpus
    elif num_cpus is not None:
        raise RopbenchError("num_cpus applies to a local Ray instance; a cluster has its own CPUs")
    try:
        ray.init(address="local" if local else address, **options)
    except ConnectionError as error:
        raise RopbenchError(f"cannot connect to the Ray cluster at {address!r}: {error}") from error
    return True


def _write_probe(runtime: TaskRuntime) -> Path | None:
    """A file that workers look for, to fail fast when they do not share the cache."""
    cache_root = getattr(runtime, "cache_root", None)
    if cache_root is None:
        return None
    probe = Path(cache_root) / PROBE_FOLDER / uuid.uuid4().hex
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.touch()
    return probe


def forwarded_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``ROPBENCH_*`` variables: workers must load the same plugins as the driver."""
    return {name: value for name, value in environ.items() if name.startswith(ENV_PREFIX)}


def task_options(task: Task, *, threads: int, cluster_gpus: float, largest_node_cpus: float,
                 env_vars: Mapping[str, str], max_retries: int) -> dict[str, Any]:
    """Ray's ``.options()`` for one task.

    A task gets a GPU when it asks for one and the cluster has any; otherwise it runs
    on CPUs, with CUDA hidden on GPU clusters so that ``device = "auto"`` cannot put it
    on a GPU that Ray gave to another task. It reserves as many CPUs as torch threads
    it runs (but no more than the largest node has, or it could never be scheduled).
    """
    gpus = float(task.resources.get("gpu", 0.0)) if cluster_gpus > 0 else 0.0
    cpus = max(float(task.resources.get("cpu", 1.0)), float(threads))
    env = dict(env_vars)
    if cluster_gpus > 0 and gpus == 0:
        env["CUDA_VISIBLE_DEVICES"] = ""
    options: dict[str, Any] = {
        "name": f"ropbench {task.stage} {task.label}",
        "num_cpus": min(cpus, largest_node_cpus) if largest_node_cpus > 0 else cpus,
        "num_gpus": gpus,
        "max_retries": max_retries,
        "retry_exceptions": False,  # a task's own error is an outcome, not a crash
    }
    if env:
        options["runtime_env"] = {"env_vars": env}
    return options


def execute_in_worker(runtime: TaskRuntime, task: Task, probe: str | None) -> TaskOutcome:
    """What a Ray worker runs: check that it sees the driver's cache, then the task."""
    if probe is not None and not os.path.exists(probe):
        import socket

        return TaskOutcome(task.key, "failed", error=(
            f"RopbenchError: the Ray worker on {socket.gethostname()} does not see the cache "
            f"at {Path(probe).parent.parent}; put the cache on storage every node mounts at the "
            "same path (see docs/ray.md)"))
    return runtime.execute(task)


def execute_on_gpu(runtime: TaskRuntime, task: Task, probe: str | None) -> TaskOutcome:
    """:func:`execute_in_worker` for tasks granted a GPU.

    A Ray function of its own, declared with a GPU, so that Ray ends its worker after
    each task: a reused process would keep its CUDA context on the GPU of its previous
    task, which Ray may since have given to another one.
    """
    return execute_in_worker(runtime, task, probe)


class _RayPool:
    """Ray tasks as a :class:`ropbench.executing.WorkerPool`; Ray does the scheduling."""

    capacity = 1 << 30

    def __init__(self, ray: "ModuleType", runtime: TaskRuntime, max_retries: int, probe: Path | None) -> None:
        self.ray = ray
        self.max_retries = max_retries
        self.on_cpu, self.on_gpu = ray.remote(execute_in_worker), ray.remote(num_gpus=1)(execute_on_gpu)
        resources = ray.cluster_resources()
        self.common = {
            "threads": int(getattr(runtime, "threads", 0) or 0),
            "cluster_gpus": float(resources.get("GPU", 0.0)),
            "largest_node_cpus": max((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n["Alive"]),
                                     default=0.0),
            "env_vars": forwarded_environment(),
            "max_retries": max_retries,
        }
        self.runtime_ref = ray.put(runtime)
        self.probe = str(probe) if probe is not None else None
        self.submitted: dict[Any, float] = {}

    def submit(self, task: Task) -> "ObjectRef":
        options = task_options(task, **self.common)
        function = self.on_gpu if options["num_gpus"] > 0 else self.on_cpu
        ref = function.options(**options).remote(self.runtime_ref, task, self.probe)
        self.submitted[ref] = time.perf_counter()
        return ref

    def wait(self, handles: list["ObjectRef"], timeout: float) -> list["ObjectRef"]:
        ready, _ = self.ray.wait(handles, num_returns=len(handles), timeout=timeout, fetch_local=True)
        return ready

    def outcome(self, handle: "ObjectRef", task: Task) -> TaskOutcome:
        """The task's outcome, or ``failed`` naming what Ray reported (lost worker, ...)."""
        submitted = self.submitted.pop(handle, time.perf_counter())
        try:
            return self.ray.get(handle)
        except self.ray.exceptions.RayError as error:
            seconds = time.perf_counter() - submitted
            lost = isinstance(error, (self.ray.exceptions.WorkerCrashedError, self.ray.exceptions.NodeDiedError))
            why = f" (worker lost {self.max_retries + 1} times)" if lost else ""
            return TaskOutcome(task.key, "failed", seconds, error=f"{type(error).__name__}{why}: {error}")

    def cancel(self, handles: list["ObjectRef"]) -> None:
        for ref in handles:
            self.ray.cancel(ref, force=True)  # force: stop a running stage, not only queued ones


@hookimpl
def ropbench_register_executors() -> list[ExecutorSpec]:
    return [ExecutorSpec(
        name="ray", run=run_on_ray,
        params={"address": None, "num_cpus": None, "max_retries": 3},
        description="Runs tasks on a Ray cluster (--address) or a local Ray instance; "
        "needs pip install 'ropbench[ray]' and a cache every node sees.",
    )]
