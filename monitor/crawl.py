"""Running one crawl in its own process and recording it as a CrawlRun."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storage.db import session_scope
from storage.models import CrawlRun
from storage.settings import Settings

log = logging.getLogger(__name__)


def start_run(engine: sa.Engine, source: str) -> int:
    with session_scope(engine) as session:
        run = CrawlRun(source=source, started_at=datetime.now(UTC))
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def crawl(
    settings: Settings,
    source: str,
    run_id: int,
    targets: list[dict[str, Any]],
    args: list[str],
    progress: Callable[[str], None] | None = None,
) -> str:
    """Run ``python -m spiders.run SOURCE`` for ``targets``; return "" or what went wrong."""
    fd, name = tempfile.mkstemp(prefix=f"dw-{source}-", suffix=".json")  # 0600: A-numbers
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(targets, out)
        command = [
            sys.executable,
            "-m",
            "spiders.run",
            source,
            "--run-id",
            str(run_id),
            "--targets",
            name,
            *args,
        ]
        if settings.browser_headed and not os.environ.get("DISPLAY"):
            command = ["xvfb-run", "-a", *command]  # the headed browser needs a display
        env = dict(os.environ, DATABASE_URL=settings.database_url)
        return _run_child(command, env, settings.crawl_timeout_seconds, progress)
    finally:
        Path(name).unlink(missing_ok=True)


def _run_child(
    command: list[str], env: dict[str, str], timeout: float, progress: Callable[[str], None] | None
) -> str:
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    tail: list[str] = []
    try:
        for line in proc.stdout:
            if line.startswith('{"done"'):
                if progress is not None:
                    progress(json.loads(line).get("outcome", ""))
            else:
                tail = [*tail[-19:], line.rstrip()]  # the child's log is already redacted
                log.debug("crawl: %s", line.rstrip())
        proc.wait()
    finally:
        timer.cancel()
    if proc.returncode != 0:
        last = next((x for x in reversed(tail) if x.strip()), "")
        return f"crawl process exited {proc.returncode}" + (f": {last}" if last else "")
    return ""
