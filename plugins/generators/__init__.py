"""Built-in retina generators and dataset loaders.

- ``rw-classic``, ``rw-fundus``, ``rw-graded``: random-walker retinas (synthetic);
- ``seed-format``, ``folder``: datasets on disk (the original generator's export
  format, and a plain folder of images with a labels CSV).
"""

from __future__ import annotations

from functools import partial

from ropbench import hookimpl
from ropbench.specs import GeneratorSpec

from .classic import CLASSIC
from .folder_format import load_folder
from .fundus import FUNDUS
from .graded import GRADED
from .pipeline import Variant, generate_variant
from .seed_format import load_seed_format

__all__ = ["ropbench_register_generators", "VARIANTS", "LOADERS"]

VARIANTS: tuple[Variant, ...] = (CLASSIC, FUNDUS, GRADED)


def _spec(variant: Variant) -> GeneratorSpec:
    # A partial of a module-level function stays picklable for out-of-process executors.
    generate = partial(generate_variant, variant)
    generate.__doc__ = f"Images start..start+n-1 of {variant.name!r} (image i is ROP iff i is odd)."
    return GeneratorSpec(
        name=variant.name, generate=generate, version=variant.version,
        params=dict(variant.defaults), description=variant.description, kind="synthetic",
    )


LOADERS: tuple[GeneratorSpec, ...] = (
    GeneratorSpec(
        name="seed-format", generate=load_seed_format, version="1", params={"path": ""}, kind="dataset",
        description="Images exported by the original study's generator (images/data.csv, "
        "tortuous_points in 600-px coordinates); the region is the points dilated by 1/60 of the side.",
    ),
    GeneratorSpec(
        name="folder", generate=load_folder, version="1", params={"path": ""}, kind="dataset",
        description="A folder of your own retinas: labels.csv (filename, label[, mask, "
        "tortuous_vessels, vessels]) with images and optional annotation images.",
    ),
)


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [_spec(variant) for variant in VARIANTS] + list(LOADERS)
