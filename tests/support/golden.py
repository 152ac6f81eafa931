"""Golden files: a missing or different ``*.expected.json`` fails; ``--update-goldens`` rewrites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def check_golden(expected_path: Path, actual: Any, update: bool) -> None:
    text = json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if update:
        expected_path.write_text(text)
        return
    if not expected_path.exists():
        pytest.fail(f"no golden {expected_path.name}; run pytest --update-goldens and read it")
    assert json.loads(text) == json.loads(expected_path.read_text()), expected_path.name
