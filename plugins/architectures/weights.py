"""Initial weights from local files only: ropbench never reaches a model hub at build time.

Models train from scratch by default. A user who wants pretrained weights downloads them
once, by whatever means their site allows, and passes the file as ``weights=``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import torch
from torch import nn

from ropbench.errors import RopbenchError

__all__ = ["PretrainedWeightsUnavailable", "refuse_hub_download", "read_state_dict", "load_local_weights"]


class PretrainedWeightsUnavailable(RopbenchError):
    """``pretrained=True`` was asked for without a local weights file."""


def refuse_hub_download(architecture: str) -> NoReturn:
    """Fail at once, saying how to provide weights (no download is ever attempted)."""
    raise PretrainedWeightsUnavailable(
        f"{architecture}: pretrained=True needs a local weights file because ropbench never "
        "downloads from a model hub. Download the checkpoint yourself (e.g. the timm "
        "model's .safetensors or .pth file) and pass its path as the architecture "
        "parameter weights (e.g. build(..., weights='/path/to/model.safetensors'), or "
        "weights = \"/path/to/model.safetensors\" in the suite's parameters for this "
        "architecture)."
    )


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from ``.safetensors`` or a torch checkpoint (tensors only, no pickled code)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    # Common wrappers: {"state_dict": ...} (Lightning), {"model": ...} (timm training scripts).
    for key in ("state_dict", "model"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    return checkpoint


def load_local_weights(model: nn.Module, path: str | Path) -> None:
    """Load a complete state dict for exactly this model (strict: every key must match)."""
    model.load_state_dict(read_state_dict(path), strict=True)
