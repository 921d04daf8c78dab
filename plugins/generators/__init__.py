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
from .folder_format import FolderWriter, folder_fingerprint, load_folder
from .fundus import FUNDUS
from .graded import GRADED
from .interventions import straighten_variant
from .pipeline import Variant, generate_variant
from .seed_format import SeedFormatWriter, load_seed_format, seed_format_fingerprint

__all__ = ["ropbench_register_generators", "VARIANTS", "LOADERS"]

VARIANTS: tuple[Variant, ...] = (CLASSIC, FUNDUS, GRADED)


def _spec(variant: Variant) -> GeneratorSpec:
    # A partial of a module-level function stays picklable for out-of-process executors.
    generate = partial(generate_variant, variant)
    generate.__doc__ = f"Images start..start+n-1 of {variant.name!r} (image i is ROP iff i is odd)."
    straighten = partial(straighten_variant, variant)
    straighten.__doc__ = f"Image index of {variant.name!r} once per tortuous stretch, that stretch straightened."
    return GeneratorSpec(
        name=variant.name, generate=generate, version=variant.version,
        params=dict(variant.defaults), description=variant.description, source="synthetic",
        straighten=straighten,
    )


LOADERS: tuple[GeneratorSpec, ...] = (
    GeneratorSpec(
        name="seed-format", generate=load_seed_format, version="2", source="dataset",
        params={"path": "", "resize": "nearest", "region_shape": "square", "fingerprint": "stat"},
        fingerprint=seed_format_fingerprint, writer=SeedFormatWriter,
        description="Images exported by the original study's generator (images/data.csv, "
        "tortuous_points in 600-px coordinates), read as the study did: NEAREST resizing, the "
        "vessel plane is the red channel, the region is a 21-px square per tortuous point.",
    ),
    GeneratorSpec(
        name="folder", generate=load_folder, version="2", source="dataset",
        params={"path": "", "resize": "bilinear", "fingerprint": "stat"},
        fingerprint=folder_fingerprint, writer=FolderWriter,
        description="A folder of your own retinas: labels.csv (filename, label[, mask, "
        "tortuous_vessels, vessels]) with images and optional annotation images.",
    ),
)


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [_spec(variant) for variant in VARIANTS] + list(LOADERS)
