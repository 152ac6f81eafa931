"""Things made once for the whole test run, whichever xdist worker asks first: a worker makes
it under a lock in the run's shared temporary folder, the others wait and reuse it (a
module-scoped fixture is otherwise made again on every worker that runs a test of the module)."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)``'s result, made once per test run; ``folder`` is kept for the run."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / f"shared-{name}", root / f"shared-{name}.pickle"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if done.exists():
            result: T = pickle.loads(done.read_bytes())
            return result
        folder.mkdir(parents=True, exist_ok=True)
        result = make(folder)
        done.write_bytes(pickle.dumps(result))
        return result
