"""The deployment files say what the README says: compose.yaml starts one PostgreSQL, one Redis,
the scheduler (under its lease), workers and the web app, every one of them on the same broker
and database; the systemd units run commands that exist, with the options they pass."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def _docketwatch_args(command: list[str]) -> list[str]:
    """The arguments after `docketwatch` in a command line (xvfb-run -a docketwatch run ...)."""
    names = [Path(word).name for word in command]
    assert "docketwatch" in names, command
    return command[names.index("docketwatch") + 1 :]


def test_compose_starts_the_whole_pool() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "scheduler", "worker", "web"}
    for name in ("scheduler", "worker", "web"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DOCKETWATCH_SECRETS_KEY_FILE"].startswith("/var/lib/docketwatch/keys/")
        assert "keys:/var/lib/docketwatch/keys" in services[name]["volumes"]
    assert _docketwatch_args(services["scheduler"]["command"]) == ["run", "--standby"]
    assert _docketwatch_args(services["worker"]["command"]) == ["worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert _docketwatch_args(services["web"]["command"]) == ["web"]
    assert services["web"]["environment"]["DOCKETWATCH_WEB_LISTEN"].endswith(":8470")
    assert "setup.sh" in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_systemd_unit_runs_a_real_command(unit: Path, tmp_path: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit)
    exec_start = shlex.split(parser["Service"]["ExecStart"])
    args = _docketwatch_args(exec_start)
    config = "DOCKETWATCH_CONFIG=/etc/docketwatch/docketwatch.toml"
    assert parser["Service"]["Environment"] == config
    command = [a for a in args if not a.startswith("--")]
    options = [a for a in args if a.startswith("--")]
    result = run_cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for option in options:
        assert option in result.stdout, (unit.name, option)
    assert (ROOT / "README.md").read_text().count(unit.name) >= 1
