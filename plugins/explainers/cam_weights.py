"""The batched arithmetic of the gradient CAM family: [N, C, h, w] in, [N, h, w] out.

Pure functions of target-layer activations ``A`` and gradients ``G`` so that they can be
tested against the papers' formulas without a model. Outputs are raw (no per-image
normalisation); ReLU where the method's paper applies one.
"""

from __future__ import annotations

import torch

__all__ = [
    "weighted_sum",
    "gradcam_map",
    "gradcam_pp_map",
    "xgradcam_map",
    "hirescam_map",
    "layercam_map",
    "principal_projection",
    "eigencam_map",
    "svd_gradcam_map",
]

_EPS = 1e-7  # as pytorch-grad-cam, so that the two agree on near-zero denominators


def weighted_sum(weights: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    """sum_c w[n, c] * A[n, c] -> [N, h, w]."""
    return torch.einsum("nc,nchw->nhw", weights, activations)


def gradcam_map(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017): channel weight = spatial mean of the gradient."""
    return weighted_sum(gradients.mean(dim=(2, 3)), activations).relu()


def gradcam_pp_map(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhay et al. 2018), exponential-output closed form for alpha."""
    grads_2 = gradients.pow(2)
    grads_3 = grads_2 * gradients
    activation_sums = activations.sum(dim=(2, 3), keepdim=True)
    alpha = grads_2 / (2 * grads_2 + activation_sums * grads_3 + _EPS)
    alpha = torch.where(gradients != 0, alpha, torch.zeros_like(alpha))
    weights = (gradients.relu() * alpha).sum(dim=(2, 3))
    return weighted_sum(weights, activations).relu()


def xgradcam_map(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM (Fu et al. 2020): gradients weighted by normalised activations."""
    activation_sums = activations.sum(dim=(2, 3), keepdim=True)
    weights = (gradients * activations / (activation_sums + _EPS)).sum(dim=(2, 3))
    return weighted_sum(weights, activations).relu()


def hirescam_map(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """HiResCAM (Draelos & Carin 2020): element-wise gradient x activation, summed over channels."""
    return (gradients * activations).sum(dim=1).relu()


def layercam_map(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """LayerCAM (Jiang et al. 2021): positive gradients as per-location weights."""
    return (gradients.relu() * activations).sum(dim=1).relu()


def principal_projection(activations: torch.Tensor) -> torch.Tensor:
    """Each location's activation vector projected on the first principal component of
    the image's [hw, C] activation matrix, [N, h, w], signed.

    The singular vector's sign is arbitrary (LAPACK's choice); it is fixed so that the
    projection correlates positively with the channel-summed activation, i.e. points
    along the salient direction. pytorch-grad-cam keeps LAPACK's sign, so on some images
    it shows the opposite component.
    """
    n, c, h, w = activations.shape
    locations = activations.reshape(n, c, h * w).transpose(1, 2).to(torch.float32)  # [N, hw, C]
    centred = locations - locations.mean(dim=1, keepdim=True)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)
    projection = torch.einsum("npc,nc->np", centred, right[:, 0, :])
    total = activations.sum(dim=1).reshape(n, h * w).to(torch.float32)
    agreement = (projection * (total - total.mean(dim=1, keepdim=True))).sum(dim=1)
    sign = torch.where(agreement < 0, -1.0, 1.0).to(projection.dtype)
    return (projection * sign[:, None]).reshape(n, h, w)


def eigencam_map(activations: torch.Tensor) -> torch.Tensor:
    """Eigen-CAM (Muhammad & Yeasin 2020): the positive part of the oriented projection
    on the first principal component (see :func:`principal_projection`)."""
    return principal_projection(activations).relu()


def svd_gradcam_map(activations: torch.Tensor, gradients: torch.Tensor, components: int) -> torch.Tensor:
    """SVD-Grad-CAM (Thota et al., ICPR 2024): Grad-CAM weights from the gradient matrix
    [C, hw] reconstructed from its top ``components`` singular triplets (noise filtered).

    The rank-n reconstruction is sign-invariant, so no orientation convention is needed.
    """
    n, c, h, w = gradients.shape
    matrix = gradients.reshape(n, c, h * w).to(torch.float32)
    left, singular, right = torch.linalg.svd(matrix, full_matrices=False)
    k = max(1, min(int(components), singular.shape[1]))
    reconstructed = (left[:, :, :k] * singular[:, None, :k]) @ right[:, :k, :]
    return weighted_sum(reconstructed.mean(dim=2), activations).relu()
