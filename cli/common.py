"""What every command group shares: consoles, one-line errors, settings and database scopes,
the common options and the table / JSON / CSV output.

Only light modules are imported here at module level (typer, rich's console, the error tree):
``docketwatch --help`` must not pay for SQLAlchemy or the settings; a command imports what it
needs when it runs.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from storage.errors import DocketwatchError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlmodel import Session

    from storage.settings import Settings


# No markup, no emoji codes: a client's name or a FOIA label such as "[/]", "[link=...]" or
# ":smiley:" is printed as it is, never read as rich markup (which crashed listings and rendered
# live terminal links) nor turned into an emoji.
class _LazyConsole:
    """A rich Console made on first use: ``docketwatch --help`` never imports rich.console."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _get(self) -> Any:
        console = object.__getattribute__(self, "_console")
        if console is None:
            from rich.console import Console

            console = Console(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_console", console)
        return console

    @property
    def real(self) -> Any:
        """The Console itself, for rich objects that take one (progress bars)."""
        return self._get()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get(), name, value)


out: Any = _LazyConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)
err: Any = _LazyConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
RevealOpt = Annotated[
    bool,
    typer.Option("--reveal", help="Show full A-numbers (otherwise only the last four digits)."),
]
DispatchOpt = Annotated[
    bool, typer.Option("--dispatch/--no-dispatch", help="Send the alerts it made now.")
]
PlannedOpt = Annotated[
    bool,
    typer.Option(
        "--planned",
        help="Only the clients the polling budget picks now (what the service runs hourly).",
    ),
]
ANumbersArg = Annotated[
    list[str] | None, typer.Argument(help="Clients to look up (default: every active one).")
]
CourtOpt = Annotated[str, typer.Option("--court", help="EOIR base-city code, e.g. ADL.")]


def group(help: str, **options: Any) -> typer.Typer:
    """A command group that shows its help when called without a command.

    Help is click's plain text (``rich_markup_mode=None``): the rich help renderer costs more
    start-up time than the rest of the command line together. Tracebacks stay the standard
    ones, which carry no local variables (no A-number or secret in a crash report)."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        **options,
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    return typer.Exit(code)


def handles_errors(func: F) -> F:
    """Turn docketwatch's own errors into one clear line and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DocketwatchError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:
            # A database error: one line, the database's own words, redacted. (SQLAlchemy is
            # looked up, not imported: a command that never loaded it cannot have raised it.)
            sa = sys.modules.get("sqlalchemy")
            if sa is None or not isinstance(exc, sa.exc.SQLAlchemyError):
                raise
            from storage.logs import redact

            inner = getattr(exc, "orig", None) or exc
            first = (str(inner).splitlines() or [type(inner).__name__])[0]
            raise fail(
                f"database error: {redact(first)[:300]} (if another docketwatch command is "
                "writing, try again when it is done)"
            ) from None

    return wrapper  # type: ignore[return-value]


def get_settings() -> Settings:
    from storage.logs import setup_logging
    from storage.settings import load_settings

    settings = load_settings()
    setup_logging(settings.log_level, fmt=settings.log_format)
    return settings


@contextmanager
def open_engine(*, migrate: bool = False) -> Iterator[sa.Engine]:
    """An engine on the configured database, which must be at this code's schema (or is brought
    to it with ``migrate``)."""
    from storage.db import engine_for, require_current, upgrade

    settings = get_settings()
    engine = engine_for(settings)
    try:
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
        _use_program(engine, ORG.slug or settings.organization)
        yield engine
    finally:
        engine.dispose()


class _Org:
    slug: str | None = None  # --org of this invocation (the top-level option)


ORG = _Org()


def _use_program(engine: sa.Engine, slug: str | None) -> None:
    """Scope this command's sessions to the program ``--org`` names (storage.tenancy); without
    one, the command sees every program (the service's own work), and a command about one
    program's data asks which (:func:`open_session`)."""
    from sqlmodel import Session

    from storage.tenancy import resolve, use

    use(None)
    if slug:
        with Session(engine) as session:
            use(resolve(session, slug).id)


@contextmanager
def open_session(engine: sa.Engine, *, program: bool = True) -> Iterator[Session]:
    """A session for a command. One about a program's data (``program``: clients, staff,
    alerts, reminders, its report) needs to know which program when the deployment serves
    several (``--org``); one about public data (FOIA, statistics, courts) does not."""
    from storage.db import session_scope
    from storage.tenancy import resolve, scope_of

    with session_scope(engine) as session:
        if program and scope_of(session) is None:
            resolve(session, None)  # the only program, or an error that says to choose one
        yield session


def program_of(session: Session) -> int:
    """The program a command is about: ``--org``'s, or the deployment's only one (else an error
    that says to choose)."""
    from storage.tenancy import resolve, scope_of

    org = scope_of(session) or resolve(session, None).id
    assert org is not None
    return org


def show_a(a_number: str, reveal: bool) -> str:
    """An A-number for output: the last four digits unless ``--reveal``."""
    from storage.identifiers import format_a_number, redact_a_number

    return format_a_number(a_number) if reveal else redact_a_number(a_number)


def emit_records(records: list[dict[str, Any]], as_json: bool, as_csv: bool, title: str) -> None:
    """Records as a table, or as JSON or CSV for another program."""
    if as_json and as_csv:
        raise fail("choose one of --json and --csv")
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2, default=str) + "\n")
        return
    if as_csv:
        if records:
            from storage.files import spreadsheet_cell

            writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]))
            writer.writeheader()  # a coordinator opens these in a spreadsheet: no formulas
            writer.writerows({k: spreadsheet_cell(v) for k, v in r.items()} for r in records)
        return
    columns = list(records[0]) if records else []
    print_table(columns, [list(r.values()) for r in records], title)


def emit_result(result: Any, as_json: bool, as_csv: bool) -> None:
    """A query result (``title``, ``columns``, ``rows``) as a table, JSON or CSV."""
    if as_json or as_csv:
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        emit_records(records, as_json, as_csv, title=result.title)
        return
    print_table(result.columns, result.rows, result.title)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _cell(value: Any) -> str:
    """A value as one line of plain text: control characters (a terminal escape in a name,
    a line break) are shown as \ufffd, never sent to the terminal."""
    return _CONTROL.sub("\ufffd", "" if value is None else str(value))


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    *,
    right: Sequence[str] = (),
    header: bool = True,
) -> None:
    """Rows as an aligned plain-text table (two spaces between columns; ``right`` columns
    right-aligned). Plain text, not rich: data is never read as markup, and a listing starts
    without loading rich's table layout."""
    heads = [_cell(c) for c in columns]
    cells = [[_cell(v) for v in row] for row in rows]
    width = max((len(heads), *(len(r) for r in cells)), default=0)
    heads += [""] * (width - len(heads))
    widths = [
        max([len(heads[i]) if header else 0, *(len(r[i]) for r in cells if i < len(r))])
        for i in range(width)
    ]
    aligned = {i for i, c in enumerate(columns) if c in right}

    def line(row: list[str]) -> str:
        padded = [
            (v.rjust(w) if i in aligned else v.ljust(w))
            for i, (v, w) in enumerate(zip(row + [""] * (width - len(row)), widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    lines = [title] if title else []
    if header and heads:
        lines += [line(heads), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells]
    if not cells:
        lines.append("(none)")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def print_report_tail(report: Any, engine: sa.Engine, settings: Settings, dispatch: bool) -> None:
    """The end of every check's output: the events it raised, the source's health, and the
    alerts sent when ``dispatch``."""
    if report.events:
        out.print("events: " + ", ".join(f"{n} {k}" for k, n in sorted(report.events.items())))
    if report.health:
        out.print(f"source health: {report.health}")
    if dispatch:
        from monitor.dispatch import Dispatcher

        sent = Dispatcher(engine, settings).run_once()
        out.print(f"alerts: {sent.sent} sent, {sent.failed_attempts} failed attempts")


def run_check_command(
    source: str,
    run: Callable[[sa.Engine, Settings], Any],
    dispatch: bool,
    details: Callable[[Any], None] | None = None,
) -> None:
    """A source check from the command line: its run's outcome, what it found, its events and
    health, the alerts sent; exit status 1 when the source could not be read."""
    settings = get_settings()
    with open_engine() as engine:
        report = run(engine, settings)
        out.print(f"{source} run #{report.run_id}: {report.outcome}: {report.message}")
        if details is not None:
            details(report)
        print_report_tail(report, engine, settings, dispatch)
    if not report.ok:
        raise typer.Exit(1)


def serve_until_interrupted(replica: Any, banner: str) -> None:
    """Keep a replica (already started) serving until Ctrl-C."""
    import time

    out.print(f"{banner} (Ctrl-C stops it)")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        out.print("stopped")


def clients_for(session: Session, a_numbers: list[str]) -> list[Any]:
    from sqlmodel import select

    from storage.models import Client
    from storage.people import get_client

    if a_numbers:
        return [get_client(session, a) for a in a_numbers]
    return list(session.exec(select(Client).where(Client.active == True)))  # noqa: E712


def run_source_check(
    label: str,
    runner: Callable[..., Any],
    a_numbers: list[str],
    dispatch: bool,
    after: Callable[[Any], None] | None = None,
    planned_source: str | None = None,
) -> None:
    """A source check with a progress bar, a table of outcomes, then the alerts it made."""
    from datetime import UTC, datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    settings = get_settings()
    with open_engine() as engine:
        with open_session(engine) as session:
            if planned_source is not None:
                from checks.planner import planned_clients

                clients, note = planned_clients(engine, session, settings, planned_source)
                out.print(f"{label}: {note}")
                if not clients:
                    return
            else:
                clients = clients_for(session, a_numbers)
        if not clients:
            raise fail("no active clients to check")
        with Progress(
            TextColumn(f"{label} lookups"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err.real,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(clients))
            report = runner(
                engine,
                settings,
                clients,
                progress=lambda outcome: bar.update(task, advance=1, description=outcome),
            )
        title = f"{label} run #{report.run_id}: {report.outcome}"
        print_table(
            ["outcome", "lookups"], sorted(report.outcomes.items()), title, right=["lookups"]
        )
        if after is not None:
            after(report)
        if planned_source is not None:
            from monitor.planner import mark_done

            with open_session(engine) as session:
                mark_done(session, planned_source, [c.id for c in clients], datetime.now(UTC))
        print_report_tail(report, engine, settings, dispatch)
