"""Built-in architectures: the study's seed-cnn / seed-vit, gap-cnn, a conv-stem ViT, timm CNNs and ViTs, ``timm:<name>``.

Every spec's ``params`` lists every tunable parameter with its default; all accept
``pretrained`` (False: train from scratch) and ``weights`` (a local checkpoint path).
"""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ArchitectureSpec

__all__ = ["ropbench_register_architectures", "TIMM_ARCHITECTURES"]

# ropbench name -> (family, timm model name, description). The "_224" suffix of timm's
# names is dropped: these models are built at the suite's image size.
TIMM_ARCHITECTURES: dict[str, tuple[str, str, str]] = {
    "resnet18": ("cnn", "resnet18", "ResNet-18 (timm); layer4 -> GAP -> fc, so CAM applies."),
    "efficientnet_b0": ("cnn", "efficientnet_b0", "EfficientNet-B0 (timm); bn2 -> GAP -> classifier, CAM applies."),
    "convnext_atto": ("cnn", "convnext_atto", "ConvNeXt-Atto (timm); head normalises pooled features, so no CAM."),
    "vit_tiny_patch16": ("vit", "vit_tiny_patch16_224", "ViT-Ti/16 (timm) at the suite's image size."),
    "vit_small_patch16": ("vit", "vit_small_patch16_224", "ViT-S/16 (timm) at the suite's image size."),
    "vit_base_patch16": ("vit", "vit_base_patch16_224", "ViT-B/16 (timm) at the suite's image size."),
    "vit_small_patch8": ("vit", "vit_small_patch8_224", "ViT-S/8 (timm): finer token grid for small images."),
    "deit_tiny_patch16": ("vit", "deit_tiny_patch16_224", "DeiT-Ti/16 (timm), one class token."),
    "deit_tiny_distilled_patch16": (
        "vit",
        "deit_tiny_distilled_patch16_224",
        "DeiT-Ti/16 distilled (timm): class + distillation token (2 prefix tokens).",
    ),
}

_WEIGHT_PARAMS = {"pretrained": False, "weights": ""}
# Bumped whenever a builder's outputs change for the same parameters.
_VERSION = "1"


def _timm_spec(name: str, timm_name: str, description: str) -> ArchitectureSpec:
    from ropbench_plugins.architectures.timm_models import build_timm_model

    def build(num_classes: int, image_size: int, **params):
        return build_timm_model(num_classes, image_size, model_name=timm_name, architecture=name, **params)

    return ArchitectureSpec(
        name=name,
        build=build,
        version=_VERSION,
        params={**_WEIGHT_PARAMS, "model_kwargs": {}},
        description=description,
    )


def _build_any_timm(num_classes: int, image_size: int, *, model_name: str = "", **params):
    from ropbench_plugins.architectures.timm_models import build_timm_model

    return build_timm_model(num_classes, image_size, model_name=model_name, **params)


@hookimpl
def ropbench_register_architectures() -> list[ArchitectureSpec]:
    from ropbench_plugins.architectures.convstem_vit import build_convstem_vit
    from ropbench_plugins.architectures.seed_cnn import build_gap_cnn, build_seed_cnn
    from ropbench_plugins.architectures.seed_vit import build_seed_vit

    specs = [
        ArchitectureSpec(
            name="seed-cnn",
            build=build_seed_cnn,
            version=_VERSION,
            params={**_WEIGHT_PARAMS, "dropout": 0.5, "unit_input": False},
            description="The study's CNN: 4 conv (16-128, 3x3, leaky ReLU, 2x2 max-pool), flatten, dropout, linear.",
        ),
        ArchitectureSpec(
            name="gap-cnn",
            build=build_gap_cnn,
            version=_VERSION,
            params=dict(_WEIGHT_PARAMS),
            description="seed-cnn's trunk ending in global average pooling and a linear layer (CAM applies).",
        ),
        ArchitectureSpec(
            name="seed-vit",
            build=build_seed_vit,
            version=_VERSION,
            params={**_WEIGHT_PARAMS, "hidden": 1024, "dense_l2": 0.01},
            description="The study's ViT: ViT-B/16 + dense 1024 (L2) + batch norm + leaky ReLU + linear.",
        ),
        ArchitectureSpec(
            name="vit-convstem-tiny",
            build=build_convstem_vit,
            version=_VERSION,
            params={**_WEIGHT_PARAMS, "patch_size": 8, "embed_dim": 192, "depth": 6, "num_heads": 3},
            description="ViT-Ti width, 6 blocks, convolutional stem (Xiao et al. 2021): trains from scratch on small data.",
        ),
        ArchitectureSpec(
            name="timm:*",
            build=_build_any_timm,
            version=_VERSION,
            params={"model_name": "", **_WEIGHT_PARAMS, "model_kwargs": {}},
            description="Any timm model by name (timm:<name>); family read from the built model.",
        ),
    ]
    specs += [_timm_spec(name, timm_name, text) for name, (_, timm_name, text) in TIMM_ARCHITECTURES.items()]
    return specs

