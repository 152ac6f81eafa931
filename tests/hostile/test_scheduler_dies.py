"""Issue 15, item 1: if the scheduler's thread dies anyway (a fault no guard foresaw),
``docketwatch run`` stops with status 1, so that systemd restarts it, instead of living on
without a heartbeat."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import scheduler
from storage.settings import Settings


# the scheduler's thread dies of the injected fault: that is the point, not a stray warning
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_scheduler_thread_ends_the_service_with_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: scheduler.SteadyJobStore) -> datetime | None:
        raise RuntimeError("a fault nobody foresaw")

    monkeypatch.setattr(scheduler.SteadyJobStore, "get_next_run_time", broken)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'dw.db'}", sources=[], heartbeat_seconds=1
    )
    assert scheduler.serve(settings) == 1
