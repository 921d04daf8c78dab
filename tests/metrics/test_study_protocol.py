"""The study's vessel-weighted percentile precision and recall: by hand, against an
independent transcription of the study's arithmetic on the 12-image sample, the
percentile thresholds against NumPy, and the chance level by Monte Carlo."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from ropbench_plugins.metrics.pixel_ranking import ranking_summary

from ._helpers import chance, localization_context, score

PERCENTILES = (50, 75, 80, 90, 95)
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "seed-format-sample"


def _study_context(heat, vessels, region):
    heat = torch.as_tensor(heat, dtype=torch.float32)
    region = torch.as_tensor(region, dtype=torch.bool)
    return localization_context(heat, region, vessels=torch.as_tensor(vessels, dtype=torch.float32), region_masks=region)


# 4 x 4, heat = 0..15 row-major. V: pixel 15 -> 1, 14 -> 0.5, 12 -> 1, 8 -> 0.5, 3 -> 1;
# G: pixels 15, 12, 8, 3 and 0 (V = 0 there). sum(G V) = 1 + 1 + 0.5 + 1 = 3.5.
# np.percentile of 0..15: p=50 -> 7.5 (A = 8..15), 75 -> 11.25 (12..15), 80 -> 12
# (12..15), 90 -> 13.5 (14, 15), 95 -> 14.25 (15).
HEAT = torch.arange(16, dtype=torch.float32).reshape(4, 4)
V = torch.zeros(16)
V[[15, 14, 12, 8, 3]] = torch.tensor([1.0, 0.5, 1.0, 0.5, 1.0])
V = V.reshape(4, 4)
G = torch.zeros(16, dtype=torch.bool)
G[[15, 12, 8, 3, 0]] = True
G = G.reshape(4, 4)


@pytest.mark.parametrize(
    "name, expected",
    [
        # A = 8..15: sum(A V) = 1 + .5 + 1 + .5 = 3; overlap = 1 + 1 + .25 = 2.25
        ("study-precision@50", 2.25 / 3),
        ("study-recall@50", 2.25 / 3.5),
        # A = 12..15: sum(A V) = 2.5; overlap = 1 + 1 = 2
        ("study-precision@75", 2 / 2.5),
        ("study-recall@75", 2 / 3.5),
        ("study-precision@80", 2 / 2.5),
        # A = {14, 15}: sum(A V) = 1.5; overlap = 1
        ("study-precision@90", 1 / 1.5),
        ("study-recall@90", 1 / 3.5),
        # A = {15}
        ("study-precision@95", 1.0),
        ("study-recall@95", 1 / 3.5),
    ],
)
def test_by_hand(name: str, expected: float) -> None:
    assert score(name, _study_context(HEAT, V, G)).item() == pytest.approx(expected, abs=1e-12)


def test_every_pixel_tied_with_the_threshold_is_in_the_region() -> None:
    # heat 1 on pixels 12..15 and on pixel 3, 0 elsewhere: the 75th percentile is 0.25
    # (between the 11th and 12th sorted values 0 and 1), so A = the five ones; the 50th
    # percentile is 0, so A = every pixel.
    heat = torch.zeros(16)
    heat[[12, 13, 14, 15, 3]] = 1.0
    context = _study_context(heat.reshape(4, 4), V, G)
    # p=75: sum(A V) = 1 + .5 + 1 + 1 = 3.5 (pixels 15, 14, 12, 3); overlap = 1 + 1 + 1
    assert score("study-precision@75", context).item() == pytest.approx(3 / 3.5)
    # p=50: A is everything: sum(A V) = 4, overlap = 3.25
    assert score("study-precision@50", context).item() == pytest.approx(3.25 / 4)
    assert score("study-recall@50", context).item() == pytest.approx(3.25 / 3.5)


@pytest.mark.parametrize("score_name", ["precision", "recall"])
def test_not_scored_without_ground_truth_on_vessels_or_with_a_nan_map(score_name: str) -> None:
    nan_map = HEAT.clone()
    nan_map[0, 0] = math.nan
    no_truth = torch.zeros_like(G)
    no_truth[0, 0] = True  # G only where V = 0
    for context in (_study_context(HEAT, V, no_truth), _study_context(HEAT, torch.zeros(4, 4), G),
                    _study_context(nan_map, V, G)):
        assert math.isnan(score(f"study-{score_name}@50", context).item())
    # the high region meets no vessel: precision undefined, recall 0
    far = torch.zeros(16)
    far[[0, 1, 2, 4, 5, 6, 7, 9, 10, 11, 13]] = 1.0  # heat off the vessels
    context = _study_context(far.reshape(4, 4), V, G)
    value = score(f"study-{score_name}@90", context).item()
    assert math.isnan(value) if score_name == "precision" else value == 0.0


@settings(max_examples=60, deadline=None)
@given(
    values=hnp.arrays(
        np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9),
        elements=st.one_of(st.sampled_from([0.0, -0.0, 1.0, -2.5]), st.floats(-1e6, 1e6, width=32)),
    ),
    percentile=st.sampled_from([0, 10, 33.3, 50, 75, 80, 90, 95, 99.9, 100]),
)
def test_the_shared_pass_reads_off_numpys_percentile_bit_for_bit(values, percentile) -> None:
    summary = ranking_summary(torch.from_numpy(values)[None], torch.zeros((1, *values.shape), dtype=torch.bool),
                              [percentile])
    expected = np.percentile(values, percentile)
    assert summary.percentile_values[0, 0] == expected or (np.isnan(expected) and np.isnan(summary.percentile_values[0, 0]))
    assert summary.percentile_values.dtype == expected.dtype


def _sample_rows() -> list[dict[str, str]]:
    """The ROP rows of the sample's tab-separated table (cells too long for ``csv``)."""
    lines = (SAMPLE / "images" / "data.csv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]
    return [row for row in rows if row["tortuous"] == "1"]


def _transcription_planes(row: dict[str, str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """(V, G) the study's way at ``size`` px: the red channel after NEAREST resizing, in
    [0, 1]; the 0/1 square mask of every tortuous point, resized with PIL's default."""
    image = Image.open(SAMPLE / row["filename"]).convert("RGB")
    red = np.asarray(image.resize((size, size), Image.NEAREST), dtype=np.float64)[..., 0] / 255.0
    truth = np.zeros((600, 600), dtype=np.uint8)
    for x, y in ast.literal_eval(row["tortuous_points"]):  # x indexes rows, 600-px frame
        truth[int(max(x - 10, 0)) : int(min(x + 10, 599)) + 1, int(max(y - 10, 0)) : int(min(y + 10, 599)) + 1] = 1
    squares = np.asarray(Image.fromarray(truth).resize((size, size)), dtype=np.float64)  # PIL's default filter
    return red, squares


def _transcribed_scores(heatmap: np.ndarray, red: np.ndarray, squares: np.ndarray) -> dict[str, float]:
    """The study's arithmetic, step by step, for one image."""
    ground_truth = squares * red
    scores = {}
    for p in PERCENTILES:
        high_attention = (heatmap >= np.percentile(heatmap, p)).astype(np.float64) * red
        overlap = np.sum(high_attention * ground_truth)
        scores[f"study-precision@{p}"] = overlap / np.sum(high_attention)
        scores[f"study-recall@{p}"] = overlap / np.sum(ground_truth)
    return scores


def test_the_metric_is_the_study_notebooks_arithmetic_on_the_sample() -> None:
    size = 244  # the study's CNN input in its code
    rows = _sample_rows()
    assert len(rows) == 6
    generator = np.random.default_rng(0)
    planes = [_transcription_planes(row, size) for row in rows]
    assert all(set(np.unique(squares)) <= {0.0, 1.0} for _, squares in planes)  # 8-bit 0/1 stays 0/1
    heatmap_kinds = {
        "uniform": lambda red, squares: generator.random((size, size)).astype(np.float32),
        "coarse (many ties)": lambda red, squares: np.kron(
            generator.integers(0, 4, (61, 61)), np.ones((4, 4))
        ).astype(np.float32),
        "vessel map": lambda red, squares: (red >= 0.5).astype(np.float32),
        "ground truth": lambda red, squares: (squares * red).astype(np.float32),
    }
    for kind, make in heatmap_kinds.items():
        heatmaps = np.stack([make(red, squares) for red, squares in planes])
        context = _study_context(
            torch.from_numpy(heatmaps),
            torch.from_numpy(np.stack([red for red, _ in planes]).astype(np.float32)),
            torch.from_numpy(np.stack([squares for _, squares in planes]) > 0),
        )
        for name in [f"study-{s}@{p}" for s in ("precision", "recall") for p in PERCENTILES]:
            metric = score(name, context).numpy()
            expected = [_transcribed_scores(heatmaps[i].astype(np.float32), *planes[i])[name] for i in range(6)]
            np.testing.assert_allclose(metric, expected, rtol=0, atol=1e-6, err_msg=f"{kind}: {name}")


@pytest.mark.parametrize("graded", [False, True])
def test_chance_is_the_mean_score_of_random_maps(graded: bool) -> None:
    # 300 random maps of a 48-px image whose vessels cover a band; G a disc across it.
    size, draws = 48, 300
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    vessels = ((rows % 8) < 2).float()
    if graded:  # anti-aliased fringes: V takes values between 0 and 1
        vessels = vessels + 0.4 * ((rows % 8) == 2).float()
    region = (rows - 20) ** 2 + (cols - 24) ** 2 <= 12**2
    generator = torch.Generator().manual_seed(7)
    maps = torch.rand(draws, size, size, generator=generator)
    context = _study_context(maps, vessels.expand(draws, -1, -1), region.expand(draws, -1, -1))
    for p in PERCENTILES:
        for name in (f"study-precision@{p}", f"study-recall@{p}"):
            values = score(name, context)
            values = values[~values.isnan()]
            expected = chance(name, context)[0].item()
            standard_error = values.std().item() / math.sqrt(values.numel())
            # exact for recall and for a 0/1 V; the ratio of expectations for graded V
            assert values.mean().item() == pytest.approx(expected, abs=4 * standard_error + 1e-3), name
