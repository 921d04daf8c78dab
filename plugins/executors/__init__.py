"""Built-in executors: ``local`` (in-process, in order) and ``ray`` (a Ray cluster).

``ray`` is always registered so that ``ropbench list executors`` shows it; Ray itself
is an optional extra, imported only when a run uses it.
"""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ExecutorSpec
from ropbench_plugins.executors.local import run_locally
from ropbench_plugins.executors.ray_executor import run_on_ray

__all__ = ["ropbench_register_executors"]


@hookimpl
def ropbench_register_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            name="local",
            run=run_locally,
            version="1",
            description="Runs every task in this process, one after another, in plan order.",
        ),
        ExecutorSpec(
            name="ray",
            run=run_on_ray,
            version="1",
            params={"address": None, "num_cpus": None, "max_retries": 3},
            description="Runs tasks on a Ray cluster (--address) or a local Ray instance; "
            "needs pip install 'ropbench[ray]' and a cache every node sees.",
        ),
    ]
