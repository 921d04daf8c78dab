"""A suite on the study's own export format scores the study's arithmetic, file by file.

The seed-format loader at the study's 244 px with the vessel-map explainer: each ROP test
image's ``study-precision@p`` / ``study-recall@p`` in ``per_image.csv`` (found by its
``source``, the file name) equals the independent transcription of the study's notebook
in ``tests/metrics/test_study_protocol.py`` for that file.

The vessel map is 0 on more than 95 % of a 244-px image, and the study counts every tie
at the threshold, so at every p its high region is the whole image and the scores reduce
to sum(V G V) / sum(V) and 1: what this checks is the loader's V (red channel, NEAREST)
and G (the squares, PIL's default filter) file by file, and the ``source`` column
(shifting G by 3 px makes it fail). Non-degenerate maps are checked against the same
transcription in that module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ropbench.vessels import VESSEL_THRESHOLD
from tests.e2e.conftest import run_cli, seed_format_suite
from tests.metrics.test_study_protocol import SAMPLE, _sample_rows, _transcribed_scores, _transcription_planes

SIZE = 244


def test_per_image_study_scores_equal_the_studys_arithmetic_for_each_file(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(seed_format_suite(SAMPLE.as_posix(), image_size=SIZE, counts=(4, 2, 6),
                                       metrics=["study-precision@*", "study-recall@*"]))
    process = run_cli("run", "--suite", str(suite), "--cache-dir", str(tmp_path / "cache"),
                      "--out", str(tmp_path / "run"), "--quiet")
    assert process.returncode == 0, process.stderr[-3000:]
    table = pd.read_csv(tmp_path / "run" / "per_image.csv")
    table = table[table["metric"].str.startswith("study-")]
    rows = {row["filename"]: row for row in _sample_rows()}
    scored = set(table["source"])
    assert scored and scored <= set(rows), scored  # every scored image is one of the sample's ROP files
    for source, group in table.groupby("source"):
        red, squares = _transcription_planes(rows[source], SIZE)
        vessel_map = (red >= VESSEL_THRESHOLD).astype(np.float32)  # what the vessel-map control draws
        expected = _transcribed_scores(vessel_map, red, squares)
        for metric, value in zip(group["metric"], group["value"]):
            np.testing.assert_allclose(value, expected[metric], rtol=0, atol=1e-6, err_msg=f"{source}: {metric}")
