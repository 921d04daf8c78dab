"""Cascading randomisation: groups, Spearman similarity and the cascade itself."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import spearmanr

import dataclasses

from ropbench.specs import ScoringContext, SharedPasses
from ropbench.testing.metric_contract import build_tiny_cnn, make_scoring_context
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


def _with_explain(explain) -> ScoringContext:
    """The kit's sanity context, its maps and re-explanations made by ``explain``."""
    context = make_scoring_context("sanity", count=4, size=12)
    heatmaps = explain(context.model, context.images, context.targets)
    return dataclasses.replace(
        context,
        heatmaps=heatmaps,
        reexplain=lambda model, images, targets, rows: explain(model, images, targets),
        shared=SharedPasses(),
    )


def test_a_map_that_ignores_the_model_fails_the_check() -> None:
    context = _with_explain(lambda model, images, targets: images.mean(1))
    similarities = cascading_randomization(context)
    assert sorted(similarities) == [25, 50, 75, 100]
    for values in similarities.values():
        assert values.tolist() == pytest.approx([1.0] * 4)
    assert score("randomization-pass", context).tolist() == [0.0] * 4


def _gradient(model, images, targets):
    images = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        model(images).gather(1, targets[:, None]).sum().backward()
    return images.grad.abs().sum(1)


def test_a_map_that_depends_on_the_weights_changes_when_they_are_randomised() -> None:
    context = _with_explain(_gradient)
    final = score("randomization-spearman@100", context)
    assert (final < 0.9).all(), final
    # the trained model is left untouched
    again = _gradient(context.model, context.images, context.targets)
    assert torch.equal(again, context.heatmaps)


def test_the_cascade_is_reproducible() -> None:
    first = cascading_randomization(_with_explain(_gradient))
    second = cascading_randomization(_with_explain(_gradient))
    for percent in first:
        assert torch.equal(first[percent], second[percent])
        assert not math.isnan(first[percent].sum().item())


def test_the_five_specs_share_one_cascade_through_one_context() -> None:
    calls = []

    def counting(model, images, targets):
        calls.append(images.shape[0])
        return _gradient(model, images, targets)

    context = _with_explain(counting)
    calls.clear()
    names = ["randomization-spearman@25", "randomization-spearman@50", "randomization-spearman@75",
             "randomization-spearman@100", "randomization-pass"]
    for seed, name in enumerate(names):
        score(name, context, seed=seed)  # each metric its own seed, one randomization_seed
    assert calls == [4, 4, 4, 4]  # one explain per depth, not per spec
    score("randomization-pass", context, randomization_seed=1)  # another cascade
    assert calls == [4] * 8


def test_the_cascade_reexplains_image_i_as_row_i() -> None:
    seen = []
    context = _with_explain(_gradient)

    def recording(model, images, targets, rows):
        seen.append(rows.tolist())
        return _gradient(model, images, targets)

    cascading_randomization(dataclasses.replace(context, reexplain=recording, shared=SharedPasses()))
    assert seen == [[0, 1, 2, 3]] * 4


def test_the_randomization_seed_is_a_parameter_not_the_metric_seed() -> None:
    context = _with_explain(_gradient)
    first = score("randomization-spearman@100", context, seed=0)
    assert torch.equal(first, score("randomization-spearman@100", _with_explain(_gradient), seed=99))
    other = score("randomization-spearman@100", _with_explain(_gradient), randomization_seed=5)
    assert not torch.equal(first, other)


def test_a_vit_cascade_randomises_every_parameter_embeddings_included() -> None:
    timm = pytest.importorskip("timm")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)  # the cascade's fresh copy is built under seed 0
        trained = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=2, depth=2).eval()
    seen = []

    def reexplain(model, images, targets, rows):
        seen.append(model)
        return _gradient(model, images, targets)

    images = torch.rand(2, 3, 32, 32) * 2 - 1
    targets = torch.ones(2, dtype=torch.int64)
    context = ScoringContext(
        labels=targets, probabilities=torch.full((2, 2), 0.5),
        heatmaps=_gradient(trained, images, targets), masks=torch.ones(2, 32, 32, dtype=torch.bool),
        images=images, targets=targets, model=trained, reexplain=reexplain,
        build_fresh_model=lambda: timm.create_model(
            "vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=2, depth=2
        ),
    )
    similarities = cascading_randomization(context)
    assert all(torch.isfinite(values).all() for values in similarities.values())
    final = dict(seen[-1].named_parameters())
    for name, parameter in trained.named_parameters():
        if parameter.numel() > 1 and parameter.std() > 0:  # constant inits (norm weights) may coincide
            assert not torch.equal(final[name], parameter), name
    assert not torch.equal(final["cls_token"], trained.cls_token)
    assert not torch.equal(final["pos_embed"], trained.pos_embed)
