"""Every registered architecture honours the architecture contract (the registry is the test matrix)."""

from __future__ import annotations

from ropbench.registry import get_registry
from ropbench.testing.architecture_contract import ArchitectureContract

# Heavy models run at the smallest size their patch allows, one image at a time.
_SMALL = {"vit_base_patch16": 32, "seed-vit": 32, "vit_small_patch16": 32, "vit_small_patch8": 16}
_HEAVY = {"vit_base_patch16", "seed-vit"}
# timm:<name> is a resolver: exercise it on a CNN without a CAM head and on a ViT with a
# register token instead of a class token.
_TIMM_EXAMPLES = ("timm:mobilenetv3_small_050", "timm:vit_little_patch16_reg1_gap_256", "timm:resnet10t")


def _contract_classes() -> dict[str, type]:
    names = [n for n in get_registry().architectures if not n.endswith(":*")] + list(_TIMM_EXAMPLES)
    classes = {}
    for name in names:
        size = _SMALL.get(name, 32)
        classes[f"TestArchitecture_{name}"] = type(
            f"TestArchitecture_{name}",
            (ArchitectureContract,),
            {"architecture_name": name, "image_size": size, "batch_size": 1 if name in _SMALL else 2,
             "heavy": name in _HEAVY},
        )
    return classes


globals().update(_contract_classes())


def test_every_required_architecture_is_registered() -> None:
    names = set(get_registry().architectures)
    required = {
        "seed-cnn", "gap-cnn", "resnet18", "efficientnet_b0", "convnext_atto", "vit_tiny_patch16",
        "vit_small_patch16", "vit_base_patch16", "vit_small_patch8", "deit_tiny_patch16", "seed-vit", "timm:*",
        "vit-convstem-tiny",
    }
    assert required <= names, required - names
    assert "model_name" in get_registry().architectures.get("timm:*").params
