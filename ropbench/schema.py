"""The result-schema version: part of every cache key, so that a harness whose stages
compute or write something different never reuses what an older harness cached.

The rule, enforced by ``tests/core/test_schema.py``: the code that decides what a stage
writes (:data:`STAGE_CODE`) is fingerprinted (its syntax tree, so comments, docstrings
and formatting do not count). When that fingerprint changes, the test fails until the
developer records the new fingerprint, and bumps :data:`RESULT_SCHEMA_VERSION` in the
same edit if the change alters any output (a new column, another seed, a fixed bug in a
metric's input). Plugins are not covered: their spec ``version`` is in the keys.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

__all__ = ["RESULT_SCHEMA_VERSION", "STAGE_CODE", "STAGE_CODE_FINGERPRINT", "stage_code_fingerprint"]

RESULT_SCHEMA_VERSION = 3

# Modules (relative to the ropbench package) whose code determines cached outputs.
STAGE_CODE: tuple[str, ...] = (
    "stages/data.py",
    "stages/train.py",
    "stages/explain.py",
    "stages/scoring.py",
    "stages/context.py",
    "tasks.py",
    "training/augment.py",
    "training/build.py",
    "training/config.py",
    "training/determinism.py",
    "training/guidance.py",
    "training/loop.py",
    "training/precision.py",
    "training/predict.py",
    "training/sampling.py",
    "aggregation.py",
    "imaging.py",
    "seeding.py",
    "vessels.py",
    "generation.py",
    "attention.py",
)

STAGE_CODE_FINGERPRINT = "319e5fc0c67c657449572db2de82f48a46b42ec043179928fbf398e7ae0f2282"


def _normalised_source(path: Path) -> str:
    """The module's syntax tree without docstrings: what the code does, not how it reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def stage_code_fingerprint(root: Path | None = None) -> str:
    """sha256 over the normalised source of every :data:`STAGE_CODE` module that exists."""
    root = root or Path(__file__).parent
    digest = hashlib.sha256()
    for relative in STAGE_CODE:
        path = root / relative
        if path.is_file():
            digest.update(relative.encode() + b"\0" + _normalised_source(path).encode() + b"\0")
    return digest.hexdigest()
