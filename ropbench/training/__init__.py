"""The training protocol shared by every architecture (see ``config`` and ``loop``)."""

from ropbench.training.config import TrainingConfig

__all__ = ["TrainingConfig"]
