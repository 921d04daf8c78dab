"""ropbench: does the heatmap point where the disease is?

Plugin authors need only ``from ropbench import hookimpl`` and :mod:`ropbench.specs`.
"""

from ropbench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
