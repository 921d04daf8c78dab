"""Cascading randomisation: groups, Spearman similarity and the cascade itself."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import spearmanr

from ropbench.testing.metric_contract import build_tiny_cnn, make_scoring_inputs
from ropbench.specs import ScoringInputs
from ropbench_plugins.metrics.sanity import cascading_randomization, parameter_groups, spearman_similarity

from ._helpers import score


def test_cnn_groups_run_from_the_head_back_to_the_first_convolution() -> None:
    groups = parameter_groups(build_tiny_cnn())
    assert groups == [
        ["head.weight", "head.bias"],
        ["features.2.weight", "features.2.bias"],
        ["features.0.weight", "features.0.bias"],
    ]


def test_vit_groups_include_the_embeddings_last() -> None:
    timm = pytest.importorskip("timm")
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=2)
    groups = [group[0].split(".")[0] if "." in group[0] else group[0] for group in parameter_groups(model)]
    assert groups[0] == "head"
    assert groups.index("blocks") < groups.index("patch_embed")
    assert groups[-3:] == ["patch_embed", "pos_embed", "cls_token"]
    named = [name for group in parameter_groups(model) for name in group]
    assert sorted(named) == sorted(name for name, _ in model.named_parameters())


def test_spearman_matches_scipy_with_ties() -> None:
    generator = torch.Generator().manual_seed(0)
    first = torch.floor(torch.rand(5, 6, 7, generator=generator) * 4)
    second = torch.floor(torch.rand(5, 6, 7, generator=generator) * 3) + first
    ours = spearman_similarity(first, second)
    for i in range(5):
        expected = spearmanr(first[i].flatten().numpy(), second[i].flatten().numpy()).statistic
        assert ours[i].item() == pytest.approx(expected, abs=1e-12)
    assert spearman_similarity(first, -first).tolist() == pytest.approx([-1.0] * 5)
    constant = torch.ones(1, 3, 3)
    assert spearman_similarity(constant, constant).item() == 1.0
    assert spearman_similarity(constant, first[:1, :3, :3]).item() == 0.0


def _with_explain(explain) -> ScoringInputs:
    inputs = make_scoring_inputs("sanity", count=4, size=12)
    heatmaps = explain(inputs.model, inputs.images, inputs.targets)
    return ScoringInputs(**{**vars(inputs), "explain": explain, "heatmaps": heatmaps})


def test_a_map_that_ignores_the_model_fails_the_check() -> None:
    inputs = _with_explain(lambda model, images, targets: images.mean(1))
    similarities = cascading_randomization(inputs)
    assert sorted(similarities) == [25, 50, 75, 100]
    for values in similarities.values():
        assert values.tolist() == pytest.approx([1.0] * 4)
    assert score("randomization-pass", inputs).tolist() == [0.0] * 4


def _gradient(model, images, targets):
    images = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        model(images).gather(1, targets[:, None]).sum().backward()
    return images.grad.abs().sum(1)


def test_a_map_that_depends_on_the_weights_changes_when_they_are_randomised() -> None:
    inputs = _with_explain(_gradient)
    final = score("randomization-spearman@100", inputs)
    assert (final < 0.9).all(), final
    # the trained model is left untouched
    again = _gradient(inputs.model, inputs.images, inputs.targets)
    assert torch.equal(again, inputs.heatmaps)


def test_the_cascade_is_reproducible() -> None:
    first = cascading_randomization(_with_explain(_gradient))
    second = cascading_randomization(_with_explain(_gradient))
    for percent in first:
        assert torch.equal(first[percent], second[percent])
        assert not math.isnan(first[percent].sum().item())


def test_the_five_specs_share_one_cascade() -> None:
    calls = []

    def counting(model, images, targets):
        calls.append(images.shape[0])
        return _gradient(model, images, targets)

    inputs = _with_explain(counting)
    calls.clear()
    names = ["randomization-spearman@25", "randomization-spearman@50", "randomization-spearman@75",
             "randomization-spearman@100", "randomization-pass"]
    for seed, name in enumerate(names):
        score(name, ScoringInputs(**{**vars(inputs), "seed": seed}))
    assert calls == [4, 4, 4, 4]  # one explain per depth, not per spec


def test_a_vit_cascade_randomises_every_parameter_embeddings_included() -> None:
    timm = pytest.importorskip("timm")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)  # the cascade's fresh copy is built under seed 0
        trained = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=2, depth=2).eval()
    seen = []

    def explain(model, images, targets):
        seen.append(model)
        return _gradient(model, images, targets)

    images = torch.rand(2, 3, 32, 32) * 2 - 1
    targets = torch.ones(2, dtype=torch.int64)
    inputs = ScoringInputs(
        labels=targets, probabilities=torch.full((2, 2), 0.5), seed=0,
        heatmaps=_gradient(trained, images, targets), masks=torch.ones(2, 32, 32, dtype=torch.bool),
        images=images, targets=targets, model=trained, explain=explain,
        build_model=lambda: timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=2, depth=2),
    )
    similarities = cascading_randomization(inputs)
    assert all(torch.isfinite(values).all() for values in similarities.values())
    final = dict(seen[-1].named_parameters())
    for name, parameter in trained.named_parameters():
        if parameter.numel() > 1 and parameter.std() > 0:  # constant inits (norm weights) may coincide
            assert not torch.equal(final[name], parameter), name
    assert not torch.equal(final["cls_token"], trained.cls_token)
    assert not torch.equal(final["pos_embed"], trained.pos_embed)
