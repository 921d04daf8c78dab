"""What gradient-magnitude-blur promises beyond the generic contract."""

from __future__ import annotations

import json
import subprocess
import sys

import torch
from torch import nn

from ropbench.specs import ExplainContext
from ropbench_example_plugin import gradient_magnitude_blur
from ropbench_example_plugin.gradient_blur import gaussian_blur


def test_registered_through_its_entry_point(ropbench_registry):
    provider = ropbench_registry.explainers.providers["gradient-magnitude-blur"]
    assert provider == "ropbench-example"
    sources = {p.name: p.source for p in ropbench_registry.plugins}
    assert "ropbench-example-plugin 0.1.0" in sources["ropbench-example"]


def test_blur_preserves_mass_and_spreads_a_point():
    point = torch.zeros(1, 21, 21)
    point[0, 10, 10] = 1.0
    blurred = gaussian_blur(point, sigma=2.0)
    torch.testing.assert_close(blurred.sum(), torch.tensor(1.0))
    assert blurred[0, 10, 10] == blurred.max() and 0 < blurred[0, 10, 10] < 0.1
    torch.testing.assert_close(blurred[0], blurred[0].T)  # isotropic
    assert torch.equal(gaussian_blur(point, sigma=0.0), point)


def test_linear_model_gives_its_weights_magnitude():
    # For logits = W x, d logit_t / d x = W_t: the map is |W_t| (max over channels).
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2, bias=False))
    torch.manual_seed(0)
    images = torch.randn(2, 3, 8, 8)
    targets = torch.tensor([0, 1])
    maps = gradient_magnitude_blur(model, images, targets, ExplainContext(seed=0), sigma_fraction=0.0)
    weights = model[1].weight.detach().view(2, 3, 8, 8).abs().amax(dim=1)
    torch.testing.assert_close(maps, weights)
    assert model[1].weight.grad is None


def test_listed_by_ropbench_plugins_list():
    listing = subprocess.run([sys.executable, "-m", "ropbench.cli.main", "plugins", "list", "--all", "--json"],
                             capture_output=True, text=True, timeout=300, check=True)
    plugins = {row["name"]: row for row in json.loads(listing.stdout)}
    assert plugins["ropbench-example"]["provides"] == {"explainers": ["gradient-magnitude-blur"],
                                                       "generators": ["sine-lines"],
                                                       "metrics": ["hottest-pixel-on-tortuous"]}
    assert plugins["ropbench-example"]["hooks"] == ["ropbench_register_explainers", "ropbench_register_generators",
                                                    "ropbench_register_metrics"]
