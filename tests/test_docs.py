"""The README is the newcomer's manual: it must stay true to the code and to CI."""

from __future__ import annotations

import re

from storage.roster import FIELD_HEADERS
from storage.settings import Settings
from tests.support.cli import COMMANDS, ROOT

README = (ROOT / "README.md").read_text()
TEST_COMMAND = "./setup.sh && .venv/bin/python -m pytest"
RUN_COMMAND = "./setup.sh && .venv/bin/docketwatch run"


def test_readme_opens_with_purpose_then_two_commands() -> None:
    intro = README.split("## ", 1)[0]
    assert "immigrant-defense" in intro and "attorneys" in intro and "coordinators" in intro
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]
    assert lines == [RUN_COMMAND, TEST_COMMAND]


def test_ci_calls_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci.splitlines()
    assert ".venv/bin/ruff check ." in ci and ".venv/bin/mypy" in ci


def test_every_command_is_documented() -> None:
    for command in COMMANDS:
        if len(command) == 2 or command in (["init"], ["config"], ["run"], ["nationalities"]):
            assert f"`docketwatch {' '.join(command)}" in README, command


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`{name}`" in README, name


def test_every_roster_field_is_documented() -> None:
    for name in FIELD_HEADERS:
        assert f"`{name}`" in README, name


def test_setup_installs_the_debian_packages_the_project_uses() -> None:
    setup = (ROOT / "setup.sh").read_text()
    packages = re.search(r"DEBIAN_PACKAGES=\((.*?)\)", setup)
    assert packages is not None
    needed = {"chromium", "xvfb", "postgresql", "redis-server", "libpango-1.0-0", "unzip"}
    assert needed <= set(packages.group(1).split())


def test_the_sources_table_is_the_registry() -> None:
    from storage.sources import SOURCES

    table = re.search(r"## Sources.*?\n\|---.*?\n(.*?)\n\n", README, re.S)
    assert table is not None
    rows = [line.split(" | ") for line in table.group(1).splitlines()]
    assert [row[0].strip("|` ") for row in rows] == list(SOURCES)
    for row, source in zip(rows, SOURCES.values(), strict=True):
        assert row[1] == source.title and row[2] == source.doc
        assert row[3] == f"`{source.interval_setting}`"
        assert row[4] == ("yes" if source.browser else "no")
