"""The hooks a ropbench plugin can implement: the one page a plugin author reads.

Registration hooks return lists of frozen spec objects (see :mod:`ropbench.specs`).
Built-in plugins (``ropbench_plugins.*``) and third-party plugins (entry-point group
``ropbench``) implement them in exactly the same way::

    from ropbench import hookimpl
    from ropbench.specs import ExplainerSpec

    @hookimpl
    def ropbench_register_explainers():
        return [ExplainerSpec(name="my-map", explain=..., supports=...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pluggy

if TYPE_CHECKING:
    from ropbench.specs import (
        ArchitectureSpec,
        ExecutorSpec,
        ExplainerSpec,
        GeneratorSpec,
        MetricSpec,
        ReporterSpec,
    )

__all__ = [
    "PROJECT_NAME",
    "hookspec",
    "hookimpl",
    "ropbench_register_generators",
    "ropbench_register_architectures",
    "ropbench_register_explainers",
    "ropbench_register_metrics",
    "ropbench_register_executors",
    "ropbench_register_reporters",
    "ropbench_task_finished",
]

PROJECT_NAME = "ropbench"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def ropbench_register_generators() -> list[GeneratorSpec]:
    """Return the retina generators and dataset loaders this plugin provides.

    :return: generator specs; ``generate(n, size, seed, start=0, **params)``.
    """


@hookspec
def ropbench_register_architectures() -> list[ArchitectureSpec]:
    """Return the classifier architectures this plugin provides.

    :return: architecture specs; ``build(num_classes, image_size, **params)``.
    """


@hookspec
def ropbench_register_explainers() -> list[ExplainerSpec]:
    """Return the heatmap explainers this plugin provides.

    :return: explainer specs; ``explain(model, images, targets, context, **params)``.
    """


@hookspec
def ropbench_register_metrics() -> list[MetricSpec]:
    """Return the classification, localization, faithfulness and sanity metrics.

    :return: metric specs; ``compute(inputs, **params)``.
    """


@hookspec
def ropbench_register_executors() -> list[ExecutorSpec]:
    """Return the executors (ways to run the stage graph) this plugin provides.

    :return: executor specs; ``run(tasks, runtime, progress, **options)``.
    """


@hookspec
def ropbench_register_reporters() -> list[ReporterSpec]:
    """Return the reporters (leaderboards, reports) this plugin provides.

    :return: reporter specs; ``write(run_dir, table, manifest)``.
    """


@hookspec
def ropbench_task_finished(stage: str, label: str, status: str, info: Mapping[str, Any]) -> None:
    """Observe a finished stage task (for loggers and dashboards); return value ignored.

    :param stage: ``data``, ``train`` or ``explain``.
    :param label: the human-readable cell name, e.g. ``rw-classic/seed-cnn/seed=0``.
    :param status: ``done``, ``cached``, ``failed`` or ``skipped``.
    :param info: seconds taken, cache key, error text where failed.
    """
