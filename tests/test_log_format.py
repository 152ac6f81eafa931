"""``log_format = "json"``: one JSON object a line, every value redacted (issue 29, point 2)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from sandbox.court_status import CourtStatusSandbox
from storage.db import make_engine, upgrade
from storage.logs import log_context, setup_logging
from tests.support.cli import run_cli


def test_a_json_line_carries_the_context_and_no_a_number() -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream, fmt="json")
    log = logging.getLogger("docketwatch.test")
    try:
        with log_context(source="acis", run_id=7):
            log.info("client A-012-345-678 looked up", extra={"client": "012345678"})
            try:
                raise ValueError("bad answer for 012345678")
            except ValueError:
                log.exception("lookup failed")
        log.warning("outside any run")
    finally:
        setup_logging("WARNING")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [x["level"] for x in lines] == ["INFO", "ERROR", "WARNING"]
    first, failed, outside = lines
    assert first["logger"] == "docketwatch.test" and first["time"].endswith("+00:00")
    assert (first["source"], first["run_id"], first["client"]) == ("acis", 7, "***5678")
    assert first["message"] == "client ***5678 looked up"
    assert "ValueError: bad answer for ***5678" in failed["error"]
    assert "source" not in outside and "run_id" not in outside
    text = stream.getvalue()
    assert "012345678" not in text and "012-345-678" not in text


def test_a_check_logs_json_lines_with_its_source_and_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'dw.db'}"
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()
    with CourtStatusSandbox() as courts:
        result = run_cli(
            "court_status",
            "check",
            "--no-dispatch",
            cwd=tmp_path,
            env={
                "DATABASE_URL": db,
                "DOCKETWATCH_LOG_FORMAT": "json",
                "DOCKETWATCH_COURT_STATUS_BASE_URL": courts.url,
            },
            child=True,
        )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    finished = [x for x in lines if "court_status run #" in x["message"]]
    assert finished and finished[-1]["source"] == "court_status"
    assert finished[-1]["run_id"] == 1
