"""Built-in executors: ``local`` (in-process, in order). ``ray`` lives in its own module."""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ExecutorSpec
from ropbench_plugins.executors.local import run_locally

__all__ = ["ropbench_register_executors"]


@hookimpl
def ropbench_register_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            name="local",
            run=run_locally,
            version="1",
            description="Runs every task in this process, one after another, in plan order.",
        )
    ]
