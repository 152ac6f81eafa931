"""The installed ``docketwatch`` command, run as a user runs it (a subprocess, real files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sandbox.roster import make_roster, write_csv, write_xlsx
from tests.support.cli import COMMANDS, run_cli

OLD_GROUPS = {
    "custody": "detainee_locator",
    "foia": "eoir_foia",
    "stats": "detention_stats",
    "courts": "court_status",
}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_every_command_explains_itself(command: list[str]) -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, [*command, "--help"], prog_name="docketwatch")
    assert result.exit_code == 0, result.output
    assert "Usage: docketwatch" in result.output
    # The line after the usage says what the command is for, in a sentence.
    lines = [line.strip(" │") for line in result.output.splitlines() if line.strip(" │")]
    usage = next(i for i, line in enumerate(lines) if line.startswith("Usage:"))
    description = lines[usage + 1]
    assert description[0].isalpha() and len(description) > 20, description


def test_the_groups_are_built_only_when_called() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from cli import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, ['--help']); "
        "print(sorted(m for m in sys.modules if m.startswith(('cli.', 'sandbox', 'sqlalchemy'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "['cli.common', 'cli.groups', 'cli.service']"


def test_every_source_has_its_command_group() -> None:
    from storage.sources import SOURCES

    for name, source in SOURCES.items():
        assert [name] in COMMANDS and [name, "check"] in COMMANDS, name
        assert list(source.check_command[:2]) == [name, "check"]


def test_the_installed_command_and_the_old_group_names_still_work(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path, child=True)  # the console script itself
    assert result.returncode == 0 and "Usage: docketwatch" in result.stdout
    for old, new in OLD_GROUPS.items():
        aliased = run_cli(old, "check", "--help", cwd=tmp_path)
        current = run_cli(new, "check", "--help", cwd=tmp_path)
        assert aliased.returncode == 0, aliased.stderr
        words = aliased.stdout.replace(old, new).split()
        assert words == current.stdout.split()


def test_commands_before_init_give_advice(tmp_path: Path) -> None:
    result = run_cli("clients", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "run `docketwatch init`" in result.stderr


def test_roster_workflow_never_shows_a_full_a_number(tmp_path: Path) -> None:
    env = {"DOCKETWATCH_LOG_LEVEL": "DEBUG"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    added = run_cli(
        "staff",
        "add",
        "--name",
        "Ana Ruiz",
        "--email",
        "ana@example.org",
        "--role",
        "attorney",
        "--channel",
        "mailto://localhost:2525?to=ana@example.org",
        cwd=tmp_path,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    roster = make_roster(300, bad=13, attorneys=["ana@example.org"], seed=3)
    path = write_xlsx(roster, tmp_path / "roster.xlsx")
    result = run_cli("clients", "import", str(path), cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr  # rows were rejected
    assert "287 accepted (287 new" in result.stdout
    assert "13 rejected" in result.stdout
    assert "roster.rejects.csv" in result.stdout
    assert (tmp_path / "roster.rejects.csv").exists()
    listed = run_cli("clients", "list", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    assert len(json.loads(listed.stdout)) == 287

    everything = "".join(r.stdout + r.stderr for r in (added, result, listed))
    assert "DEBUG" in everything or "INFO" in everything  # the log really was captured
    full_numbers = set()
    for row in roster.rows:
        digits = re.sub(r"\D", "", row[0])
        if len(digits) in (8, 9):
            full_numbers.add(digits.zfill(9))
    leaked = [n for n in full_numbers if n in re.sub(r"[\s-]", "", everything)]
    assert leaked == []
    assert re.search(r"\*\*\*\d{4}", everything)


def test_reveal_shows_full_numbers(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    added = run_cli(
        "clients",
        "add",
        "A-912-345-678",
        "--name",
        "DOE, JANE",
        "--nationality",
        "Honduras",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "912345678" not in added.stdout
    shown = run_cli("clients", "show", "912345678", "--json", "--reveal", cwd=tmp_path)
    assert json.loads(shown.stdout)["a_number"] == "A-912-345-678"
    listed = run_cli("clients", "list", "--csv", cwd=tmp_path)
    assert "***5678" in listed.stdout and "912345678" not in listed.stdout


def test_import_csv_twice_and_dry_run(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    roster = make_roster(50, bad=0, attorneys=[], seed=5)
    path = write_csv(roster, tmp_path / "r.csv")
    dry = run_cli("clients", "import", str(path), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and "Nothing would be stored" in dry.stdout
    first = run_cli("clients", "import", str(path), cwd=tmp_path)
    assert first.returncode == 0 and "50 new" in first.stdout
    second = run_cli("clients", "import", str(path), cwd=tmp_path)
    assert second.returncode == 0 and "0 new, 0 updated, 50 unchanged" in second.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clients", "add", "12345", "--name", "X", "--nationality", "MX"], "8 or 9 digits"),
        (["clients", "add", "912345678", "--name", "X", "--nationality", "HN"], "ISO code"),
        (["clients", "import", "missing.csv"], "missing.csv: no such file"),
        (["clients", "import", "x.csv", "--map", "bogus"], "FIELD=HEADER"),
        (["clients", "show", "912345678"], "no client with that A-number"),
        (
            [
                "staff",
                "add",
                "--name",
                "X",
                "--email",
                "x@example.org",
                "--role",
                "attorney",
                "--channel",
                "bogus://nothing",
            ],
            "Apprise cannot use",
        ),
        (["staff", "assign", "912345678", "nobody@example.org"], "no client"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_masks_secrets(tmp_path: Path) -> None:
    result = run_cli(
        "config",
        "--json",
        cwd=tmp_path,
        env={"DATABASE_URL": "postgresql://dw:hunter2@db.example.org/dw"},
    )
    assert result.returncode == 0
    values = json.loads(result.stdout)
    assert values["database_url"] == "postgresql://dw:***@db.example.org/dw"
    assert "hunter2" not in result.stdout + result.stderr


def test_bad_setting_is_reported(tmp_path: Path) -> None:
    result = run_cli("config", cwd=tmp_path, env={"DOCKETWATCH_TIMEZONE": "Nowhere/City"})
    assert result.returncode == 2
    assert "timezone" in result.stderr and "unknown time zone" in result.stderr
