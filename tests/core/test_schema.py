"""The result-schema rule: stage code cannot change without a conscious decision."""

from __future__ import annotations

from pathlib import Path

import ropbench
from ropbench.schema import RESULT_SCHEMA_VERSION, STAGE_CODE, STAGE_CODE_FINGERPRINT, stage_code_fingerprint

ROOT = Path(ropbench.__file__).parent


def test_stage_code_matches_the_recorded_fingerprint():
    current = stage_code_fingerprint()
    assert current == STAGE_CODE_FINGERPRINT, (
        "code that decides what a stage writes changed (ropbench/schema.py STAGE_CODE). If any "
        "cached output would now differ, bump RESULT_SCHEMA_VERSION; either way record "
        f"STAGE_CODE_FINGERPRINT = {current!r} in ropbench/schema.py "
        f"(schema version now {RESULT_SCHEMA_VERSION})."
    )


def test_every_listed_stage_module_exists():
    missing = [relative for relative in STAGE_CODE if not (ROOT / relative).is_file()]
    assert not missing, f"ropbench/schema.py lists modules that do not exist: {missing}"


def test_comments_and_docstrings_do_not_count_but_code_does(tmp_path):
    module = tmp_path / "tasks.py"  # a name STAGE_CODE lists
    module.write_text('"""Doc."""\nX = 1  # a comment\n')
    first = stage_code_fingerprint(tmp_path)
    module.write_text('"""Another doc."""\n\nX = 1\n')
    assert stage_code_fingerprint(tmp_path) == first
    module.write_text('"""Doc."""\nX = 2\n')
    assert stage_code_fingerprint(tmp_path) != first
