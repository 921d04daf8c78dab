"""Built-in retina generators (this module) and dataset loaders (their own plugin modules).

- ``rw-classic``, ``rw-fundus``, ``rw-graded``: random-walker retinas (synthetic),
  registered here;
- ``seed-format`` (:mod:`.seed_format`) and ``folder`` (:mod:`.folder_format`): datasets
  on disk (the original generator's export format, and a plain folder of images with a
  labels CSV), each registered by its own module.
"""

from __future__ import annotations

from functools import partial

from ropbench import hookimpl
from ropbench.specs import GeneratorSpec

from .classic import CLASSIC
from .fundus import FUNDUS
from .graded import GRADED
from .interventions import straighten_variant
from .pipeline import Variant, check_params, generate_variant

__all__ = ["ropbench_register_generators", "VARIANTS"]

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
        # pairing / twin_ink choices are checked when the suite loads, not at generation
        validate_params=partial(check_params, variant),
    )


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [_spec(variant) for variant in VARIANTS]
