"""Explainer tests run tiny models: one intra-op thread is as fast and, on a shared or
loaded machine, avoids OpenMP oversubscription (measured: 24 s vs 224 s for this folder
under load). Restored after each module so other folders keep their setting."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def single_intra_op_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
