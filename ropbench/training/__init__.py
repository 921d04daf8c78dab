"""The training protocol shared by every architecture (see ``config`` and ``loop``).

Public API (what the runner calls)::

    train_model(model, train, val, config, seed, *, progress=None) -> TrainingResult
    predict_probabilities(model, images_uint8, *, batch_size, device) -> float32 [N, C]
    resolve_device(config_or_name) -> torch.device
    build_seeded(spec, num_classes, image_size, params, seed) -> nn.Module
"""

from ropbench.training.build import build_seeded
from ropbench.training.config import TrainingConfig
from ropbench.training.loop import TrainingResult, evaluate_loss, train_model
from ropbench.training.predict import predict_probabilities, resolve_device

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "train_model",
    "evaluate_loss",
    "predict_probabilities",
    "resolve_device",
    "build_seeded",
]
