"""Reading a run needs no torch: check, compare, leaderboard and report's tables work in
a process where importing torch fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BLOCK_TORCH = (
    "import sys\n"
    "class _NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'torch' or name.startswith('torch.'):\n"
    "            raise ImportError('torch is not importable in this test')\n"
    "sys.meta_path.insert(0, _NoTorch())\n"
    "from ropbench.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run_without_torch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A tiny finished run (made with torch, in another process)."""
    root = tmp_path_factory.mktemp("torchfree")
    suite = root / "suite.toml"
    suite.write_text(
        'name = "tiny"\nseeds = [0]\nimage_size = 32\ngenerators = ["rw-classic"]\narchitectures = ["seed-cnn"]\n'
        'explainers = ["random", "vessel-map"]\nmetrics = ["accuracy", "relevance-mass"]\n'
        "[data]\ntrain = 8\nval = 4\ntest = 4\n[training]\nepochs = 1\nbatch_size = 4\n")
    made = subprocess.run([sys.executable, "-m", "ropbench.cli.main", "run", "--suite", str(suite), "--cache-dir",
                           str(root / "cache"), "--out", str(root / "run"), "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr[-3000:]
    return root / "run"


def test_the_blocker_really_blocks_torch():
    probe = subprocess.run([sys.executable, "-c", BLOCK_TORCH.replace("from ropbench.cli.main import main\n"
                                                                       "sys.exit(main(sys.argv[1:]))\n",
                                                                       "import torch\n")],
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode != 0 and "torch is not importable" in probe.stderr


def test_check_leaderboard_and_compare_read_a_run_without_torch(run_dir):
    check = _run_without_torch("check", str(run_dir), "--baseline", str(run_dir / "leaderboard.csv"))
    assert check.returncode == 0, check.stderr[-2000:]
    board = _run_without_torch("leaderboard", str(run_dir))
    assert board.returncode == 0, board.stderr[-2000:]
    assert board.stdout == (run_dir / "leaderboard.md").read_text()  # exactly what the run wrote
    csv = _run_without_torch("leaderboard", str(run_dir), "--format", "csv")
    assert csv.returncode == 0 and csv.stdout.startswith("generator,architecture")
    compare = _run_without_torch("compare", str(run_dir), str(run_dir))
    assert compare.returncode == 0, compare.stderr[-2000:]
