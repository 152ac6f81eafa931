"""The command line as the tests run it (in process, or as a child), and the list of its
commands read from the app itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository


#: commands that start long-lived services or a whole demo: always a real child process
_CHILD_ONLY = {"run", "web", "demo", "sandbox"}


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    child: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``docketwatch ARGS`` in ``cwd`` with only ``env`` (and none of this process's
    ``DOCKETWATCH_*`` settings) as its environment.

    Commands run in this process through Click's runner, on the same application object the
    installed command runs (a child process costs a second of CPU, most of it imports); the
    service commands, and any call with ``child=True``, run the installed ``docketwatch``
    command as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    full_env.pop("DATABASE_URL", None)
    full_env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    full_env.update(env or {})
    if child or (args and args[0] in _CHILD_ONLY):
        exe = Path(sys.executable).with_name("docketwatch")
        return subprocess.run(
            [str(exe), *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    return _run_in_process(list(args), cwd, full_env)


def _run_in_process(
    args: list[str], cwd: Path, full_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    import logging
    import traceback

    from typer.testing import CliRunner

    import cli
    from cli import common

    for console in (common.out, common.err):  # as wide as a child's COLUMNS would make it
        console.width = int(full_env["COLUMNS"])
    changes: dict[str, str | None] = {k: v for k, v in full_env.items()}
    changes.update({k: None for k in os.environ if k not in full_env})
    here = os.getcwd()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli.app, args, env=changes, prog_name="docketwatch")
    finally:
        os.chdir(here)
        from storage.tenancy import use

        use(None)  # a command's --org scopes its own process; this one is the tests'
        for handler in list(root.handlers):  # the command's log handler wrote to the runner
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        stderr += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return subprocess.CompletedProcess(
        ["docketwatch", *args], result.exit_code, result.stdout, stderr
    )


def _commands() -> list[list[str]]:
    """Every command and group the app lists (hidden aliases aside), read from the app itself
    (the groups built as the command line builds them when they are called)."""
    from typer.main import get_command

    from cli import app

    found: list[list[str]] = [[]]
    root = get_command(app)

    def walk(command: Any, path: list[str]) -> None:
        context = command.make_context("docketwatch", [], resilient_parsing=True)
        for name in getattr(command, "list_commands", lambda _: [])(context):
            sub = command.get_command(context, name)
            if not sub.hidden:
                found.append([*path, name])
                walk(sub, [*path, name])

    walk(root, [])
    return found


COMMANDS = _commands()
