"""The service as a child process: its environment, waiting on observable state, stopping it
and its children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

EXE = str(Path(sys.executable).with_name("docketwatch"))


def service_env(db: str, courts: str, foia: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env.update(
        {
            "DATABASE_URL": db,
            "DOCKETWATCH_SOURCES": "court_status,eoir_foia",
            "DOCKETWATCH_COURT_STATUS_BASE_URL": courts,
            "DOCKETWATCH_EOIR_FOIA_URL": foia,
            "DOCKETWATCH_COURT_STATUS_INTERVAL_HOURS": "0.005",  # 18 s
            "DOCKETWATCH_EOIR_FOIA_INTERVAL_HOURS": "0.005",
            "DOCKETWATCH_SCHEDULE_JITTER_SECONDS": "0",
            "DOCKETWATCH_HEARTBEAT_SECONDS": "1",
            "DOCKETWATCH_DISPATCH_SECONDS": "1",
            "DOCKETWATCH_EOIR_FOIA_COURTS": "ADL,LOS",
        }
    )
    return env


def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the service and its check processes, as a power cut would."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                stat = (entry / "stat").read_text().split()
            except OSError:
                continue
            if int(stat[3]) == proc.pid and b"cli" in cmd:
                children.append(int(entry.name))
    proc.send_signal(signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    proc.wait(timeout=10)
