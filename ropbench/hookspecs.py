"""The hooks a ropbench plugin can implement.

Registration hooks return lists of frozen spec objects (see :mod:`ropbench.specs`, whose
docstrings give every field's contract); ``docs/plugins.md`` collects the hooks, the
fields and every rule the conformance kit and a run enforce on one page.
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

    :return: generator specs; ``generate(n, size, seed, start=0, **params) -> RetinaBatch``
        with image i depending only on (name, version, params, seed, i), a synthetic
        image i ROP iff i is odd, labels 0/1, vessels in [0, 1], JSON metadata.
    """


@hookspec
def ropbench_register_architectures() -> list[ArchitectureSpec]:
    """Return the classifier architectures this plugin provides.

    :return: architecture specs; ``build(num_classes, image_size, **params) -> nn.Module``
        carrying a :class:`ropbench.modelinfo.ModelInfo`; optional ``fit`` for models not
        trained by gradient descent.
    """


@hookspec
def ropbench_register_explainers() -> list[ExplainerSpec]:
    """Return the heatmap explainers this plugin provides.

    :return: explainer specs; ``explain(model, images, targets, context, **params)`` ->
        float32 [N, H, W] raw maps at input resolution on the images' device, the model
        left untouched; ``control=True`` for reference maps.
    """


@hookspec
def ropbench_register_metrics() -> list[MetricSpec]:
    """Return the classification, localization, faithfulness and sanity metrics.

    :return: metric specs; ``compute(context, seed, **params)`` -> per-image values [N]
        (NaN where not scored) or a 0-d value, within ``bounds``; ``chance`` the expected
        score of a uniformly random heatmap.
    """


@hookspec
def ropbench_register_executors() -> list[ExecutorSpec]:
    """Return the executors (ways to run the stage graph) this plugin provides.

    :return: executor specs; ``run(tasks, runtime, progress, **options) -> ExecutionReport``
        with ``options`` among the spec's ``params``.
    """


@hookspec
def ropbench_register_reporters() -> list[ReporterSpec]:
    """Return the reporters (leaderboards, reports) this plugin provides.

    :return: reporter specs; ``write(run_dir, table, manifest, **params) -> list[Path]``.
    """


@hookspec
def ropbench_task_finished(stage: str, label: str, status: str, info: Mapping[str, Any]) -> None:
    """Observe every finished task of a run, in the driving process (for loggers and
    dashboards); the return value is ignored.

    :param stage: ``data``, ``train``, ``explain`` or ``score``.
    :param label: the task's cell, e.g. ``rw-classic/seed-cnn/seed=0/gradcam``.
    :param status: ``done``, ``cached``, ``failed`` or ``skipped``.
    :param info: ``key``, ``seconds`` and ``error`` (the first line of a failure).
    """
