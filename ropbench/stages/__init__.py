"""What each stage computes (data, train, explain) and the runtime that dispatches them.

Every stage reads its inputs from the cache and writes its outputs there; stages never
talk to each other directly, which is what lets any executor run them anywhere.
"""

from ropbench.stages.runtime import StageRuntime

__all__ = ["StageRuntime"]
