"""The run manifest: everything needed to know what produced a results table."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from ropbench import __version__
from ropbench.registry import Registry
from ropbench.suite import Suite

__all__ = ["library_versions", "git_state", "suite_provenance", "plugin_inventory"]

LIBRARIES = ("torch", "timm", "torchmetrics", "captum", "numpy", "pandas", "pluggy", "tabulate", "pillow")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state() -> dict[str, Any] | None:
    """Commit and dirtiness of the ropbench checkout, else of the working directory's
    repository (an installed ropbench run from a checkout, as in tox)."""
    for root in (Path(__file__).resolve().parent.parent, Path.cwd()):
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                    text=True, timeout=10, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        return {"commit": commit, "dirty": bool(dirty), "repository": str(root)}
    return None


def suite_provenance(suite: Suite) -> dict[str, Any]:
    path = Path(suite.source)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"file": str(path), "sha256": digest}


def plugin_inventory(registry: Registry, suite: Suite) -> dict[str, Any]:
    """Loaded plugins with versions, and for each suite entry the spec version used."""
    used: dict[str, Any] = {}
    for family, entries in (("generators", suite.generators), ("architectures", suite.architectures),
                            ("explainers", suite.explainers), ("metrics", suite.metrics)):
        table = getattr(registry, family)
        used[family] = {
            e.label: {"name": e.name, "version": e.version,
                      "plugin": table.providers.get(e.name, table.providers.get(e.name.split(":")[0] + ":*"))}
            for e in entries
        }
    return {
        "loaded": [{"name": p.name, "source": p.source, "version": p.version} for p in registry.plugins],
        "used": used,
    }


def machine() -> dict[str, Any]:
    import torch

    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "ropbench": __version__,
    }
