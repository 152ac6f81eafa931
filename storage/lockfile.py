"""The lock files (``requirements.lock``, ``requirements-dev.lock``) against ``pyproject.toml``.

``deploy/lock`` writes each lock with the digest of pyproject.toml's dependency lists
(:func:`digest`); :func:`problems` says what is stale: a changed list, a pin outside its range,
a required package missing, a pin without hashes. ``python -m storage.lockfile check`` prints
them (and exits 1); ``python -m storage.lockfile digest`` prints the digest.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)")


def _requirements(pyproject: Path) -> tuple[list[str], list[str]]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return list(project["dependencies"]), list(project["optional-dependencies"]["dev"])


def digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    runtime, dev = _requirements(pyproject)
    text = json.dumps({"dependencies": runtime, "dev": dev}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """Package name -> (version, number of hashes) in a lock file."""
    found: dict[str, tuple[str, int]] = {}
    current = ""
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = _name(match.group(1))
            found[current] = (match.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
    return found


def problems(root: Path = ROOT) -> list[str]:
    from packaging.requirements import Requirement

    runtime, dev = _requirements(root / "pyproject.toml")
    want = digest(root / "pyproject.toml")
    out: list[str] = []
    for name, required in (
        ("requirements.lock", runtime),
        ("requirements-dev.lock", runtime + dev),
    ):
        lock = root / name
        if not lock.exists():
            out.append(f"{name} is missing: run deploy/lock")
            continue
        header = re.search(r"pyproject-dependencies-sha256: ([0-9a-f]{64})", lock.read_text())
        if header is None or header.group(1) != want:
            out.append(f"{name} was made from another pyproject.toml: run deploy/lock")
        pinned = pins(lock)
        for text in required:
            req = Requirement(text)
            got = pinned.get(_name(req.name))
            if got is None:
                out.append(f"{name}: {req.name} is not pinned")
            elif not req.specifier.contains(got[0], prereleases=True):
                out.append(f"{name}: {req.name}=={got[0]} is outside {req.specifier}")
        out += [f"{name}: {pkg} has no hash" for pkg, (_, n) in pinned.items() if n == 0]
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["digest"]:
        sys.stdout.write(digest() + "\n")
        return 0
    found = problems()
    for line in found:
        sys.stderr.write(line + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
