"""Every text of the web app's pages has its Spanish, and the values pages show through _()
(roles, severities, statuses, column names) too."""

from __future__ import annotations

from pathlib import Path

from monitor.eoir_foia import GROUPS
from storage.models import AssignmentRole, ClientStatus, DeliveryStatus, Severity, StaffRole
from web.i18n import catalog, texts

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"


def test_every_page_text_has_spanish() -> None:
    spanish = catalog("es")
    found = texts(TEMPLATES)
    assert len(found) > 80  # the templates were read, not an empty folder
    same = {"Error", "no"}  # the same word in Spanish
    missing = sorted(t for t in found if spanish.gettext(t) == t and t not in same)
    assert missing == []


def test_every_value_shown_through_the_catalog_has_spanish() -> None:
    spanish = catalog("es")
    values = [
        *(r.value for r in StaffRole),
        *(s.value for s in Severity),
        *(s.value for s in ClientStatus),
        *(s.value for s in DeliveryStatus),
        *(r.value for r in AssignmentRole),
        *GROUPS,
    ]
    missing = [v for v in values if spanish.gettext(v) == v and v != "normal"]
    assert missing == []


def test_every_report_text_has_spanish() -> None:
    """The report's figure titles, columns and definitions, shown through the catalog on the
    Reports page."""
    from datetime import date

    from monitor.reports import program_report
    from storage.db import make_engine, session_scope, upgrade

    engine = make_engine("sqlite://")
    upgrade(engine)
    with session_scope(engine) as s:
        report = program_report(s, date(2026, 1, 1), date(2026, 1, 1), "America/Los_Angeles")
    spanish = catalog("es")
    texts = {t for f in report.figures for t in (f.title, f.definition, *f.columns[:1])}
    texts |= {c for f in report.figures for c in f.columns if not c[:4].isdigit()}
    same = {"total"}
    assert sorted(t for t in texts if spanish.gettext(t) == t and t not in same) == []


def test_every_representation_report_text_has_spanish(tmp_path: Path) -> None:
    """The representation report's titles, columns, definitions and outcome rows, shown through
    the catalog on its page."""
    from datetime import date

    from monitor.representation import representation_report
    from sandbox.eoir_foia_release import generate
    from storage.db import make_engine, session_scope, upgrade
    from storage.eoir_foia import load_release

    release = generate(tmp_path / "r.zip", 2000, as_of=date(2026, 10, 1))
    engine = make_engine("sqlite://")
    upgrade(engine)
    load_release(engine, release.path, courts=["ADL"], as_of=release.as_of, work_dir=tmp_path / "w")
    with session_scope(engine) as s:
        report = representation_report(s, "ADL", date(2026, 1, 1), date(2026, 9, 1))
    spanish = catalog("es")
    texts = {t for f in report.figures for t in (f.title, f.definition)}
    texts |= {c for f in report.figures for c in f.columns}
    texts |= {r[0] for f in report.figures if f.key == "outcomes" for r in f.rows}
    assert len(texts) > 40
    assert sorted(t for t in texts if spanish.gettext(t) == t) == []
