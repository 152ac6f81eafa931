"""Who is doing a piece of work: a process tag that outlives nothing it names.

A tag is ``host:pid:start`` (the process's start time in clock ticks since boot, from /proc),
so a pid reused by another process is never taken for the one that wrote the tag.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_start(pid: int) -> str:
    """Start time of a process (clock ticks since boot), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{process_start(os.getpid())}"[:120]


def tag_alive(tag: str) -> bool | None:
    """Whether the process of ``tag`` still runs: True or False on this host, None for a tag
    from another machine (only its age can tell)."""
    host, _, rest = tag.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    return Path(f"/proc/{pid}").exists() and process_start(pid) == start
