"""The lock files match pyproject.toml: CI fails when a dependency changes without deploy/lock."""

from __future__ import annotations

import shutil
from pathlib import Path

from storage.lockfile import ROOT, pins, problems


def test_the_lock_files_are_fresh_and_every_pin_has_its_hashes() -> None:
    assert problems() == []
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert "fastapi" in runtime and "pytest" not in runtime  # the tools in their own lock
    assert "pytest" in dev and all(dev[name][0] == v for name, (v, _) in runtime.items())
    assert all(n >= 1 for _, n in [*runtime.values(), *dev.values()])


def _copy(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_changed_range_or_a_pin_without_hash_is_stale(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    assert '"fastapi>=0.115,<0.200",' in text
    pyproject.write_text(text.replace('"fastapi>=0.115,<0.200",', '"fastapi>=0.200,<0.300",'))
    found = problems(root)
    assert "requirements.lock was made from another pyproject.toml: run deploy/lock" in found
    assert any(p.startswith("requirements.lock: fastapi==") and "outside" in p for p in found)

    (tmp_path / "b").mkdir()
    root2 = _copy(tmp_path / "b")
    lock = root2 / "requirements.lock"
    lines = lock.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("fastapi=="))
    end = start + 1
    while lines[end].strip().startswith("--hash"):
        end += 1
    lines[start:end] = [lines[start].rstrip(" \\")]
    lock.write_text("\n".join(lines) + "\n")
    assert problems(root2) == ["requirements.lock: fastapi has no hash"]
