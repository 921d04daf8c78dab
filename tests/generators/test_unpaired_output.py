"""``pairing="none"`` (the default) draws exactly what the generators drew before twins.

The digests below were computed by running the generators of commit afebf7a (before twin
rendering, straightening and the speed work existed) with the function ``_digest`` below,
one torch thread. They are a record of that output, not of this code's: any change to
the default images, planes or metadata, however small, fails here.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from ropbench.specs import RetinaBatch
from ropbench_plugins.generators import ropbench_register_generators

# (generator, n, size, seed, start) -> sha256[:16] of each field, from commit afebf7a.
COMMITTED = {
    ("rw-classic", 6, 48, 7, 0): {"images": "8195652c368de8ac", "labels": "741b91ec0d673aba", "masks": "643dcd0dfb11fa5c", "tortuous_vessels": "643dcd0dfb11fa5c", "vessels": "ab8146fe52af4416", "metadata": "7baee3e7cd2079dc"},  # noqa: E501
    ("rw-classic", 5, 128, 3, 11): {"images": "5dea1f0277bd3b81", "labels": "4624f8627528d322", "masks": "12d61ad48b2b4660", "tortuous_vessels": "e223fa1d973c88b7", "vessels": "15922381ce539d1d", "metadata": "774ffe51bcca4422"},  # noqa: E501
    ("rw-classic", 3, 600, 1, 0): {"images": "a55f2fc4e220c456", "labels": "87d82d155685fda4", "masks": "566001b57059b17e", "tortuous_vessels": "84022ae8c1a81610", "vessels": "65438bfee9fcfc15", "metadata": "73890715bc204526"},  # noqa: E501
    ("rw-fundus", 6, 48, 7, 0): {"images": "4b6cac43c6d79760", "labels": "741b91ec0d673aba", "masks": "449a9fe98191647c", "tortuous_vessels": "449a9fe98191647c", "vessels": "45584aa3b81f8305", "metadata": "b93d48037dcfa666"},  # noqa: E501
    ("rw-fundus", 5, 128, 3, 11): {"images": "d14e341aca2ad133", "labels": "4624f8627528d322", "masks": "18df768c83ac722d", "tortuous_vessels": "3f41c772a249ee89", "vessels": "0b6567fcb8ad489b", "metadata": "4bdc746099d9c0c0"},  # noqa: E501
    ("rw-fundus", 3, 600, 1, 0): {"images": "afc0a26cddb77d67", "labels": "87d82d155685fda4", "masks": "aa9dea1c2f5858c7", "tortuous_vessels": "2843b024d804fcc2", "vessels": "3065a019aed73cbc", "metadata": "53f7687d65e321ac"},  # noqa: E501
    ("rw-graded", 6, 48, 7, 0): {"images": "38defa047f9c37bf", "labels": "741b91ec0d673aba", "masks": "8da28b5e16cc9279", "tortuous_vessels": "8da28b5e16cc9279", "vessels": "cbd609d513efbbbb", "metadata": "92badc1ac869917f"},  # noqa: E501
    ("rw-graded", 5, 128, 3, 11): {"images": "899b00246f00c808", "labels": "4624f8627528d322", "masks": "61a0deb272a89127", "tortuous_vessels": "d3b9e095ab96c3ca", "vessels": "2678fbd4f4885463", "metadata": "a0fa705a0ce57222"},  # noqa: E501
    ("rw-graded", 3, 600, 1, 0): {"images": "2009f358ca81cb84", "labels": "87d82d155685fda4", "masks": "54be8d5da90986da", "tortuous_vessels": "45f37b5e91cc9c61", "vessels": "454530d9293e19a5", "metadata": "bce351163dd3e6a6"},  # noqa: E501
}


def _digest(batch: RetinaBatch) -> dict[str, str]:
    out = {}
    for name in ("images", "labels", "masks", "tortuous_vessels", "vessels"):
        out[name] = hashlib.sha256(getattr(batch, name).contiguous().numpy().tobytes()).hexdigest()[:16]
    out["metadata"] = hashlib.sha256(json.dumps(batch.metadata, sort_keys=True).encode()).hexdigest()[:16]
    return out


@pytest.mark.parametrize("case", sorted(COMMITTED), ids=lambda c: f"{c[0]}-{c[2]}px")
def test_default_output_is_the_committed_output(case: tuple) -> None:
    name, n, size, seed, start = case
    spec = {s.name: s for s in ropbench_register_generators()}[name]
    assert spec.params["pairing"] == "none"
    assert _digest(spec.generate(n=n, size=size, seed=seed, start=start)) == COMMITTED[case]
