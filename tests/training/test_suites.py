"""The shipped quick and paper suites: what they promise, and the paper protocol at reduced scale."""

from __future__ import annotations

from dataclasses import replace

import torch

from ropbench.registry import get_registry
from ropbench.suite import load_suite
from ropbench.training import build_seeded, predict_probabilities, train_model


def _families(suite) -> list[str]:
    """The ModelInfo family of each architecture entry, built on the meta device."""
    from ropbench.modelinfo import model_info

    registry = get_registry()
    families = []
    for entry in suite.architectures:
        params = {k: v for k, v in entry.params.items() if k not in ("weights", "pretrained")}
        with torch.device("meta"):
            families.append(model_info(registry.architectures.get(entry.name).build(2, suite.image_size, **params)).family)
    return families


def test_quick_suite_trains_two_cnns_and_a_vit_on_two_generators_with_two_seeds() -> None:
    suite = load_suite("quick", get_registry())
    families = _families(suite)
    assert len({e.name for e, f in zip(suite.architectures, families) if f == "cnn"}) >= 2
    assert "vit" in families
    assert {"rw-classic", "rw-graded"} <= {e.name for e in suite.generators}
    assert len(suite.seeds) >= 2
    guided = [e for e in suite.architectures if e.training.get("guidance_weight", 0) > 0]
    assert guided and all(e.label != e.name for e in guided)  # its own leaderboard row


def test_paper_suite_is_the_original_protocol() -> None:
    suite = load_suite("paper", get_registry())
    assert suite.image_size == 224
    assert suite.data.train + suite.data.val + suite.data.test == 2000  # 1000 per class
    epochs = {e.name: e.training.get("epochs", suite.training.epochs) for e in suite.architectures}
    assert epochs == {"seed-cnn": 40, "seed-vit": 10}
    assert suite.training.learning_rate == 1e-3 and suite.training.plateau_factor < 1


def test_paper_protocol_runs_at_reduced_scale(line_splits) -> None:
    """Every paper architecture trains one epoch under the paper's settings on 32-px stand-ins."""
    suite = load_suite("paper", get_registry())
    train, val, test = (split.select(slice(0, 16)) for split in line_splits)
    for entry in suite.architectures:
        config = replace(suite.training, **{**entry.training, "epochs": 1, "batch_size": 8, "device": "cpu"})
        spec = get_registry().architectures.get(entry.name)
        model = build_seeded(spec, 2, 32, entry.params, 0)
        result = train_model(model, train, val, config, seed=0)
        assert len(result.history) == 1
        probabilities = predict_probabilities(result.model, test.images, batch_size=8, device="cpu")
        assert probabilities.shape == (16, 2) and bool(torch.isfinite(probabilities).all())


def test_faithful_suite_draws_rw_classic_at_its_defaults() -> None:
    """The faithful suite exists to test the generator's own defaults: no parameter overrides."""
    suite = load_suite("faithful", get_registry())
    assert [(e.name, dict(e.params)) for e in suite.generators] == [
        ("rw-classic", dict(get_registry().generators.get("rw-classic").params))
    ]
    assert suite.image_size >= 128 and len(suite.seeds) >= 2
    assert set(_families(suite)) == {"cnn", "vit"}
