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
from .fundus import FUNDUS
from .graded import GRADED
from .pipeline import Variant, generate_variant

__all__ = ["ropbench_register_generators", "VARIANTS"]

VARIANTS: tuple[Variant, ...] = (CLASSIC, FUNDUS, GRADED)


def _spec(variant: Variant) -> GeneratorSpec:
    generate = partial(generate_variant, variant)
    return GeneratorSpec(
        name=variant.name, generate=generate, version=variant.version,
        params=dict(variant.defaults), description=variant.description, kind="synthetic",
    )


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [_spec(variant) for variant in VARIANTS]
