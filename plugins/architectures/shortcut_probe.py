"""``shortcut-probe``: a classifier that cannot see tortuosity, as a control on every board.

It reads 16 global statistics of an image that say nothing about how winding a vessel
is (vessel area, connected components, where the vessels lie, brightness, an intensity
histogram, skeleton branch and end points) and puts a logistic regression on them. If it
tells healthy from ROP, the data carries a label cue besides the disease, and a model's
accuracy on it is no evidence that the model looks at tortuosity.

The features are computed from the model input itself (float [-1, 1] as
:func:`ropbench.imaging.to_model_input` makes it), so the probe sees exactly what the
other architectures see. Vessel pixels are those whose grey level (channel mean in
[0, 1]) is at least one half. The module stores the standardisation and the fitted
linear layer as its state, so a rebuilt module with the state dict loaded predicts the
same; :func:`fit_shortcut_probe` fits it (no gradient descent, no epochs).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from ropbench import hookimpl
from ropbench.imaging import INPUT_MEAN, INPUT_STD, to_model_input
from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.specs import ArchitectureSpec, RetinaBatch
from ropbench_plugins.architectures.weights import load_local_weights, refuse_hub_download

__all__ = [
    "FEATURE_NAMES", "ShortcutProbe", "tortuosity_blind_features", "build_shortcut_probe", "fit_shortcut_probe",
    "ropbench_register_architectures",
]

HISTOGRAM_BINS = 8
FEATURE_NAMES: tuple[str, ...] = (
    "vessel_area", "vessel_components", "vessel_radius_mean", "vessel_radius_std", "image_mean", "image_std",
    *(f"intensity_bin_{k}" for k in range(HISTOGRAM_BINS)),
    "skeleton_branch_points", "skeleton_end_points",
)
_FIT_CHUNK = 256  # images per feature pass: bounded memory on large training sets
# In-plane 8-connectivity only: a stack of images is labelled in one call, image by image.
_PLANE_CONNECTIVITY = np.zeros((3, 3, 3), bool)
_PLANE_CONNECTIVITY[1] = True


def _components_per_image(mask: np.ndarray) -> np.ndarray:
    """float64 [N]: 8-connected components of each image of a bool stack [N, H, W]."""
    labels, _ = ndimage.label(mask, structure=_PLANE_CONNECTIVITY)
    component_image = np.zeros(int(labels.max()) + 1, np.int64)
    component_image[labels.ravel()] = np.repeat(np.arange(len(mask)), mask[0].size if len(mask) else 0)
    return np.bincount(component_image[1:], minlength=len(mask)).astype(np.float64)


def _skeleton_points(vessel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Branch points and end points of the vessels' skeleton, per image.

    An end point is a skeleton pixel with exactly one skeleton neighbour; a branch point
    is a connected cluster of pixels with three or more (a junction of one-pixel lines
    makes several such pixels side by side).
    """
    from skimage.morphology import skeletonize

    # scikit-image skeletonizes one 2-D image at a time (3-D input would join the images).
    skeleton = np.stack([skeletonize(image) for image in vessel]) if len(vessel) else vessel
    kernel = torch.ones(1, 1, 3, 3)
    kernel[0, 0, 1, 1] = 0
    bones = torch.from_numpy(skeleton).to(torch.float32)[:, None]
    neighbours = torch.nn.functional.conv2d(bones, kernel, padding=1)[:, 0].numpy()
    branch = _components_per_image(skeleton & (neighbours >= 3))
    ends = (skeleton & (neighbours == 1)).sum((1, 2)).astype(np.float64)
    return branch, ends


def tortuosity_blind_features(inputs: torch.Tensor) -> torch.Tensor:
    """float64 [N, 16] (:data:`FEATURE_NAMES`) of model inputs float [N, 3, H, W] in [-1, 1].

    Radii are distances from the image centre in image sides; counts are per image.
    """
    grey = (inputs.detach().to("cpu", torch.float64) * INPUT_STD + INPUT_MEAN).mean(1).clamp(0.0, 1.0)
    n, height, width = grey.shape
    vessel = (grey >= 0.5).numpy()
    flat = grey.flatten(1)
    area = vessel.reshape(n, -1).mean(1)

    components = _components_per_image(vessel)

    rows = (np.arange(height) + 0.5 - height / 2) / max(height, width)
    cols = (np.arange(width) + 0.5 - width / 2) / max(height, width)
    radius = np.hypot(rows[:, None], cols[None, :])
    count = np.maximum(vessel.reshape(n, -1).sum(1), 1)
    radius_mean = (vessel * radius).reshape(n, -1).sum(1) / count
    radius_var = (vessel * (radius[None] - radius_mean[:, None, None]) ** 2).reshape(n, -1).sum(1) / count

    bins = torch.clamp((flat * HISTOGRAM_BINS).long(), max=HISTOGRAM_BINS - 1)
    offsets = torch.arange(n)[:, None] * HISTOGRAM_BINS
    histogram = torch.bincount((bins + offsets).ravel(), minlength=n * HISTOGRAM_BINS).view(n, HISTOGRAM_BINS)
    branch, ends = _skeleton_points(vessel)
    columns = [
        area, components, radius_mean, np.sqrt(radius_var), flat.mean(1).numpy(), flat.std(1, correction=0).numpy(),
        *(histogram / (height * width)).double().numpy().T, branch, ends,
    ]
    return torch.from_numpy(np.stack(columns, axis=1))


class ShortcutProbe(nn.Module):
    """Features -> standardisation (stored mean and std) -> linear layer -> logits [N, 2]."""

    def __init__(self, regularization: float = 1.0) -> None:
        super().__init__()
        features = len(FEATURE_NAMES)
        self.regularization = regularization  # LogisticRegression's C, used by the fit
        self.register_buffer("feature_mean", torch.zeros(features, dtype=torch.float64))
        self.register_buffer("feature_std", torch.ones(features, dtype=torch.float64))
        self.classifier = nn.Linear(features, 2)
        self.classifier.requires_grad_(False)  # fitted in closed form, never by gradients

    def standardised(self, inputs: torch.Tensor) -> torch.Tensor:
        features = tortuosity_blind_features(inputs).to(self.feature_mean.device)
        return ((features - self.feature_mean) / self.feature_std).to(torch.float32)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.classifier(self.standardised(inputs)).to(inputs.device)


def build_shortcut_probe(
    num_classes: int, image_size: int, *, pretrained: bool = False, weights: str = "", C: float = 1.0
) -> nn.Module:
    """An unfitted probe (random linear layer); ``fit_shortcut_probe`` fits it."""
    if num_classes != 2:
        raise ValueError(f"shortcut-probe is a healthy-vs-ROP classifier: num_classes must be 2, got {num_classes}")
    if pretrained and not weights:
        refuse_hub_download("shortcut-probe")
    model = ShortcutProbe(regularization=float(C))
    if weights:
        load_local_weights(model, weights)
    return attach_model_info(model, ModelInfo(family="probe", target_layer=""))  # type: ignore[arg-type]


def _features_of(model: ShortcutProbe, batch: RetinaBatch) -> np.ndarray:
    parts = [
        tortuosity_blind_features(to_model_input(batch.images[start : start + _FIT_CHUNK])).numpy()
        for start in range(0, len(batch), _FIT_CHUNK)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, len(FEATURE_NAMES)))


def fit_shortcut_probe(model: nn.Module, train: RetinaBatch, val: RetinaBatch, seed: int) -> dict[str, Any]:
    """Fit ``model`` in place: a seeded logistic regression on the standardised features of
    ``train``; returns JSON-able notes (accuracies, coefficients per feature, seconds)."""
    from sklearn.linear_model import LogisticRegression

    if not isinstance(model, ShortcutProbe):
        raise TypeError(f"fit_shortcut_probe fits a ShortcutProbe, got {type(model).__name__}")
    started = time.perf_counter()
    labels = train.labels.numpy()
    if len(np.unique(labels)) != 2:
        raise ValueError(f"shortcut-probe needs both classes in the training split, got labels {sorted(set(labels))}")
    features = _features_of(model, train)
    mean = features.mean(0)
    std = features.std(0)
    std = np.where(std > 0, std, 1.0)  # a constant feature carries no information
    regression = LogisticRegression(C=model.regularization, random_state=seed, max_iter=5000)
    regression.fit((features - mean) / std, labels)
    # Class 0's logit is 0, class 1's is the regression's: softmax gives its probabilities.
    weight = torch.zeros(2, len(FEATURE_NAMES))
    weight[1] = torch.from_numpy(regression.coef_[0])
    bias = torch.tensor([0.0, float(regression.intercept_[0])])
    model.feature_mean.copy_(torch.from_numpy(mean))
    model.feature_std.copy_(torch.from_numpy(std))
    model.classifier.weight.copy_(weight)
    model.classifier.bias.copy_(bias)

    def accuracy(batch_features: np.ndarray, batch: RetinaBatch) -> float | None:
        if len(batch) == 0:
            return None
        standardised = torch.from_numpy((batch_features - mean) / std).to(torch.float32)
        with torch.no_grad():
            predicted = model.classifier(standardised.to(model.classifier.weight.device)).argmax(1).cpu()
        return float((predicted == batch.labels).double().mean())

    return {
        "train_accuracy": accuracy(features, train),
        "val_accuracy": accuracy(_features_of(model, val), val),
        "coefficients": dict(zip(FEATURE_NAMES, np.round(regression.coef_[0], 6).tolist())),
        "seconds": time.perf_counter() - started,
    }


@hookimpl
def ropbench_register_architectures() -> list[ArchitectureSpec]:
    return [
        ArchitectureSpec(
            name="shortcut-probe",
            build=build_shortcut_probe,
            fit=fit_shortcut_probe,
            version="1",
            params={"pretrained": False, "weights": "", "C": 1.0},
            description=(
                "Control: logistic regression on 16 tortuosity-blind image statistics (vessel area, "
                "components, radial spread, intensity histogram, skeleton branch/end points); "
                "should stay at chance on data with no label cue but the disease."
            ),
        )
    ]
