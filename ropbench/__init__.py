"""ropbench: does the heatmap point where the disease is?

Plugin authors write ``from ropbench import hookimpl`` and return specs from
:mod:`ropbench.specs`; explainers find their helpers in :mod:`ropbench.explaining` and
tests their kit in :mod:`ropbench.testing`. ``docs/plugins.md`` has every rule.
"""

from ropbench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
