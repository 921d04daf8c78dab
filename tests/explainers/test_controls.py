"""The controls: what each map is, value for value, and the errors when a plane is missing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ropbench.explaining import explanation_grid
from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.specs import ExplainContext
from ropbench.vessels import vessel_pixels
from ropbench_plugins.explainers.controls import pool_to_grid

EXPLAINERS = get_registry().explainers
CONTROLS = ("random", "vessel-map", "vessel-map-pooled", "oracle", "sobel")


def explain(name, images, context, model=None, **params):
    model = model if model is not None else nn.Identity()
    targets = torch.ones(len(images), dtype=torch.long)
    spec = EXPLAINERS.get(name)
    return spec.explain(model, images, targets, context, **{**spec.params, **params})


def test_controls_and_only_controls_are_marked_control():
    marked = {name for name in EXPLAINERS if EXPLAINERS.get(name).control}
    assert marked == set(CONTROLS)


# ---- vessel-map --------------------------------------------------------------------------


def test_vessel_map_is_the_vessel_pixel_indicator():
    # Coverage below a quarter is not a vessel pixel, exactly a quarter is (vessels.py).
    vessels = torch.tensor([[[0.0, 0.24], [0.25, 1.0]]])
    out = explain("vessel-map", torch.zeros(1, 3, 2, 2), ExplainContext(0, vessels=vessels))
    assert out.dtype == torch.float32
    assert out.tolist() == [[[0.0, 0.0], [1.0, 1.0]]]


def test_vessel_map_equals_vessel_pixels_on_random_planes():
    vessels = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    out = explain("vessel-map", torch.zeros(3, 3, 16, 16), ExplainContext(0, vessels=vessels))
    assert torch.equal(out, vessel_pixels(vessels).float())


def test_vessel_map_is_at_input_resolution_and_needs_the_vessel_plane():
    vessels = torch.rand(2, 8, 8)
    assert explain("vessel-map", torch.zeros(2, 3, 16, 16), ExplainContext(0, vessels=vessels)).shape == (2, 16, 16)
    with pytest.raises(ValueError, match="vessel-map control needs ExplainContext.vessels"):
        explain("vessel-map", torch.zeros(2, 3, 8, 8), ExplainContext(0))
    with pytest.raises(ValueError, match="for 3 images"):
        explain("vessel-map", torch.zeros(3, 3, 8, 8), ExplainContext(0, vessels=vessels))


# ---- vessel-map-pooled -------------------------------------------------------------------

# Indicator, and its 2x2 cell means: top-left 3/4, top-right 0, bottom-left 0, bottom-right 1.
QUADRANTS = torch.tensor([[
    [1.0, 1.0, 0.0, 0.0],
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 1.0],
    [0.0, 0.0, 1.0, 1.0],
]])
# Bilinear 2 -> 4 with half-pixel centres: output i samples source i/2 - 1/4, clamped, so
# its weights on the two cells are (1, 0), (3/4, 1/4), (1/4, 3/4), (0, 1) along each axis;
# out[i, j] = 3/4 * wi[0] * wj[0] + 1 * wi[1] * wj[1].
QUADRANTS_POOLED = torch.tensor([[
    [3 / 4, 9 / 16, 3 / 16, 0.0],
    [9 / 16, 31 / 64, 21 / 64, 1 / 4],
    [3 / 16, 21 / 64, 39 / 64, 3 / 4],
    [0.0, 1 / 4, 3 / 4, 1.0],
]])


def test_vessel_map_pooled_equals_hand_pooled_example():
    out = explain("vessel-map-pooled", torch.zeros(1, 3, 4, 4), ExplainContext(0, vessels=QUADRANTS), grid=2)
    torch.testing.assert_close(out, QUADRANTS_POOLED)
    # [rows, cols] form; a grid of the image's own size is the indicator itself.
    same = explain("vessel-map-pooled", torch.zeros(1, 3, 4, 4), ExplainContext(0, vessels=QUADRANTS), grid=[4, 4])
    torch.testing.assert_close(same, QUADRANTS)


def test_pooling_handles_a_grid_that_does_not_divide_the_image():
    # 5 rows into 2 cells: adaptive pooling takes rows [0, 3) and [2, 5) (floor start,
    # ceil end), likewise columns. Ones in column 0: each left cell holds 3 of its 9.
    column = torch.zeros(1, 5, 5)
    column[0, :, 0] = 1.0
    torch.testing.assert_close(pool_to_grid(column, (2, 2), (2, 2)), torch.tensor([[[1 / 3, 0.0], [1 / 3, 0.0]]]))
    assert pool_to_grid(column, (2, 2), (5, 5)).shape == (1, 5, 5)


def tiny_vit():
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    model = VisionTransformer(img_size=(48, 80), patch_size=16, embed_dim=32, depth=1, num_heads=2, num_classes=2)
    info = ModelInfo(family="vit", target_layer="blocks.0", patch_size=16, token_grid=(3, 5), num_prefix_tokens=1,
                     attention_layers=("blocks.0.attn",))
    return attach_model_info(model.eval(), info)


def test_vessel_map_pooled_uses_the_vit_token_grid_by_default():
    model = tiny_vit()
    vessels = torch.rand(2, 48, 80, generator=torch.Generator().manual_seed(1))
    out = explain("vessel-map-pooled", torch.zeros(2, 3, 48, 80), ExplainContext(0, vessels=vessels), model=model)
    # 48x80 px in 16-px patches: the 3x5 token grid the model was built with.
    assert explanation_grid(model, (48, 80)) == (3, 5)
    torch.testing.assert_close(out, pool_to_grid(vessel_pixels(vessels).float(), (3, 5), (48, 80)))


def test_vessel_map_pooled_uses_the_cnn_target_layer_grid_by_default():
    model = get_registry().architectures.get("seed-cnn").build(2, 64).eval()
    # seed-cnn's target layer act4 follows three 2x2 pools: 64 / 8 = 8 cells a side.
    assert explanation_grid(model, (64, 64)) == (8, 8)
    vessels = torch.rand(2, 64, 64, generator=torch.Generator().manual_seed(2))
    out = explain("vessel-map-pooled", torch.zeros(2, 3, 64, 64), ExplainContext(0, vessels=vessels), model=model)
    torch.testing.assert_close(out, pool_to_grid(vessel_pixels(vessels).float(), (8, 8), (64, 64)))


def test_cnn_grid_is_measured_once_per_model_and_size():
    model = get_registry().architectures.get("gap-cnn").build(2, 32).eval()
    calls = []
    handle = model.register_forward_pre_hook(lambda module, inputs: calls.append(inputs[0].shape))
    try:
        first = explanation_grid(model, (48, 40))
        again = explanation_grid(model, (48, 40))
    finally:
        handle.remove()
    assert first == again == (6, 5)  # gap-cnn's act4 follows three pools: 48 / 8, 40 / 8
    assert len(calls) == 1


def test_vessel_map_pooled_without_a_native_grid_asks_for_grid():
    context = ExplainContext(0, vessels=torch.rand(1, 8, 8))
    with pytest.raises(ValueError, match="set the control's grid parameter"):
        explain("vessel-map-pooled", torch.zeros(1, 3, 8, 8), context)  # nn.Identity: no ModelInfo
    probe = attach_model_info(nn.Identity(), ModelInfo(family="probe", target_layer=""))
    with pytest.raises(ValueError, match="'probe' model"):
        explain("vessel-map-pooled", torch.zeros(1, 3, 8, 8), context, model=probe)
    assert explain("vessel-map-pooled", torch.zeros(1, 3, 8, 8), context, model=probe, grid=2).shape == (1, 8, 8)


# ---- oracle ------------------------------------------------------------------------------


def test_oracle_is_two_on_tortuous_vessels_one_in_the_region_zero_outside():
    masks = torch.tensor([[[True, True, False], [True, False, False]]])
    tortuous = torch.tensor([[[True, False, False], [False, False, False]]])
    context = ExplainContext(0, masks=masks, tortuous_vessels=tortuous)
    out = explain("oracle", torch.zeros(1, 3, 2, 3), context)
    assert out.dtype == torch.float32
    assert out.tolist() == [[[2.0, 1.0, 0.0], [1.0, 0.0, 0.0]]]


def test_oracle_pooled_like_the_vessel_map():
    # Region = the QUADRANTS indicator, no tortuous pixels: the same hand-pooled values.
    context = ExplainContext(0, masks=QUADRANTS.bool(), tortuous_vessels=torch.zeros(1, 4, 4, dtype=torch.bool))
    torch.testing.assert_close(explain("oracle", torch.zeros(1, 3, 4, 4), context, grid=2), QUADRANTS_POOLED)


def test_oracle_names_the_plane_it_lacks():
    masks = torch.ones(1, 4, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match="oracle control needs ExplainContext.masks"):
        explain("oracle", torch.zeros(1, 3, 4, 4), ExplainContext(0, tortuous_vessels=masks))
    with pytest.raises(ValueError, match="oracle control needs ExplainContext.tortuous_vessels"):
        explain("oracle", torch.zeros(1, 3, 4, 4), ExplainContext(0, masks=masks))


# ---- random and sobel --------------------------------------------------------------------


def test_sobel_lights_a_vertical_edge_and_nothing_flat():
    images = -torch.ones(1, 3, 16, 16)
    images[..., 8:] = 1.0
    edges = explain("sobel", images, ExplainContext(0))[0]
    assert edges[:, 7:9].min() > 0
    assert edges[:, :6].abs().max() == 0 and edges[:, 10:].abs().max() == 0


def test_random_map_is_seeded_per_image_and_differs_between_images_and_seeds():
    images = torch.rand(2, 3, 8, 8)
    first = explain("random", images, ExplainContext(1))
    assert not torch.equal(first[0], first[1])
    assert torch.equal(first, explain("random", images, ExplainContext(1)))
    assert not torch.equal(first, explain("random", images, ExplainContext(2)))


def test_smooth_random_map_is_noise_on_a_coarse_grid_upsampled():
    images = torch.rand(3, 3, 32, 32)
    smooth = explain("random", images, ExplainContext(1), grid=4)
    assert smooth.shape == (3, 32, 32) and smooth.dtype == torch.float32
    assert torch.equal(smooth, explain("random", images, ExplainContext(1), grid=4))
    # bilinear from a 4 x 4 field: neighbouring pixels differ far less than per-pixel noise
    assert smooth.diff(dim=-1).abs().max() < 0.2 < explain("random", images, ExplainContext(1)).diff(dim=-1).abs().max()
    # one image's map does not depend on the batch it arrives in
    assert torch.equal(explain("random", images[1:2], ExplainContext(1), grid=4)[0], smooth[1])


@pytest.mark.parametrize("grid", [-1, [2, 0], [2, 2, 2], 2.5, True])
def test_pooled_controls_reject_malformed_grids(grid):
    context = ExplainContext(0, vessels=torch.rand(1, 8, 8))
    with pytest.raises(ValueError, match="vessel-map-pooled control's grid"):
        explain("vessel-map-pooled", torch.zeros(1, 3, 8, 8), context, grid=grid)
