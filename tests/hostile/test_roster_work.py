"""A roster upload is bounded in work, not only in bytes (issue 27, point 5): too many rows or
too many shared strings are refused with a clear message before anything is stored, and the
rejects of a preview are kept, not computed again for each download."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from storage.db import session_scope
from storage.errors import ImportFileError
from storage.models import Client
from storage.roster import import_roster
from storage.xlsx import SHARED_STRINGS_LIMIT, check_zip


def test_a_roster_past_the_row_cap_is_refused_whole(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    rows = [f"9{i:08d},DOE {i}, JANE,MX" for i in range(120)]
    path.write_text("A-Number,Name,Nationality\n" + "\n".join(rows) + "\n")
    with pytest.raises(ImportFileError, match=r"more than 100 rows.*nothing was imported"):
        import_roster(sqlite_engine, path, max_rows=100, write_rejects=False)
    with session_scope(sqlite_engine) as s:
        assert s.exec(select(Client)).first() is None  # nothing stored
    report = import_roster(sqlite_engine, path, max_rows=120, write_rejects=False)
    assert report.rows == 120


def test_a_shared_strings_flood_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "flood.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        strings = "<si><t>x</t></si>" * (SHARED_STRINGS_LIMIT // 16 + 1)  # small once zipped
        zf.writestr("xl/sharedStrings.xml", f"<sst>{strings}</sst>")
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ImportFileError, match=r"sharedStrings\.xml inflates to"):
        check_zip(path, ImportFileError)


def test_the_rejects_of_a_preview_are_kept_not_computed_again(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    import storage.roster
    from storage.people import add_staff
    from storage.settings import Settings
    from web import auth
    from web.app import create_app

    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with session_scope(sqlite_engine) as s:
        cora = add_staff(s, name="Cora", email="cora@example.org", role="coordinator")
        s.flush()
        assert cora.id is not None
        cora_id = cora.id
    runs: list[bool] = []
    real = storage.roster.import_roster

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(bool(kwargs.get("dry_run")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(storage.roster, "import_roster", counted)
    app = create_app(sqlite_engine, Settings(ack_secret="s3cret"), clock=lambda: now)
    with TestClient(app, base_url="http://127.0.0.1") as web:
        secret, csrf = auth.start_session(sqlite_engine, cora_id, now)
        web.cookies.set(auth.COOKIE, auth.sign("s3cret", secret))
        roster = "A-Number,Name,Nationality\n912000001,DOE, JANE,MX\nnot-a-number,ROE, JO,MX\n"
        preview = web.post(
            "/roster/preview",
            data={"csrf_token": csrf},
            files={"file": ("roster.csv", roster.encode())},
        )
        assert preview.status_code == 200
        token = preview.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        for _ in range(3):
            rejects = web.get(f"/roster/rejects/{token}.csv")
            assert rejects.status_code == 200 and "not-a-number" in rejects.text
    assert runs == [True]  # the preview read the file once; the downloads read nothing
