"""Issue 15, item 5: channel secrets sealed at rest with a key kept outside the database.

The database file (and its write-ahead log) holds no channel URL nor any part of one; the key is
a file of its own, owner-only; a lost or wrong key is a one-line error naming where the key was
looked for, never a new key over sealed channels; the migration seals the URLs a database
already holds and its downgrade opens them again."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from storage.db import make_engine, session_scope, upgrade
from storage.models import StaffChannel
from storage.secrets import SEALED, Keyring
from tests.support.cli import run_cli
from tests.support.secrets import SECRETS


def _raw_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


def test_channel_urls_are_sealed_and_the_key_is_kept_apart(tmp_path: Path) -> None:
    db = tmp_path / "dw.db"
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    key = tmp_path / "dw.key"
    assert not key.exists()  # made with the first channel, not before
    args = ["staff", "add", "--name", "Ana", "--email", "ana@example.org", "--role", "admin"]
    for url in SECRETS:
        args += ["--channel", url]
    added = run_cli(*args, cwd=tmp_path, env=env)
    assert added.returncode == 0, added.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    stored = _raw_bytes(db)
    for url, secrets in SECRETS.items():
        for piece in [*secrets, url.split("://")[1][:12]]:
            assert piece.encode() not in stored, piece
    listed = run_cli("staff", "list", "--json", cwd=tmp_path, env=env)
    assert len(json.loads(listed.stdout)[0]["channels"]) == len(SECRETS)  # opened with the key

    # The key lost: every command that needs a channel says so, and none makes a new key.
    key.rename(tmp_path / "elsewhere.key")
    lost = run_cli("staff", "list", cwd=tmp_path, env=env)
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    assert f"{key} is missing" in lost.stderr and len(lost.stderr.strip().splitlines()) == 1
    more = [
        "staff",
        "add",
        "--name",
        "Bo",
        "--email",
        "bo@example.org",
        "--role",
        "admin",
        "--channel",
        "json://127.0.0.1:9/notify",
    ]
    refused = run_cli(*more, cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "missing" in refused.stderr, refused.stderr
    assert not key.exists()
    doctor = run_cli("doctor", "--json", cwd=tmp_path, env=env)
    found = {f["check"]: f for f in json.loads(doctor.stdout)}
    assert found["secrets key"]["status"] == "fail" and "missing" in found["secrets key"]["detail"]

    # Another key is not the key: refused the same way.
    Keyring(key).create()
    wrong = run_cli("staff", "list", cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "sealed with another key" in wrong.stderr, wrong.stderr

    # The key where a setting says it is.
    key.unlink()
    moved = {**env, "DOCKETWATCH_SECRETS_KEY_FILE": str(tmp_path / "elsewhere.key")}
    assert run_cli("staff", "list", cwd=tmp_path, env=moved).returncode == 0
    doctor = run_cli("doctor", "--json", cwd=tmp_path, env=moved)
    found = {f["check"]: f for f in json.loads(doctor.stdout)}
    assert found["secrets key"]["status"] == "ok", found["secrets key"]
    os.chmod(tmp_path / "elsewhere.key", 0o644)
    doctor = run_cli("doctor", "--json", cwd=tmp_path, env=moved)
    key_check = {f["check"]: f for f in json.loads(doctor.stdout)}["secrets key"]
    assert key_check["status"] == "fail" and "chmod 600" in key_check["detail"]


def test_the_migration_seals_stored_channels_and_its_downgrade_opens_them(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0008")
    url = "mailto://ana:p@ssw0rd!@smtp.example.org?to=ana@example.org"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO staff (name, email, role, language, active, created_at, digest, "
                "min_severity, muted_kinds) VALUES ('Ana', 'ana@example.org', 'attorney', 'en', "
                "true, '2026-11-01 00:00:00', false, 'info', '[]')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO staff_channel (staff_id, url, allow_personal_data, active, "
                "failing, consecutive_failures) VALUES (1, :url, false, true, false, 0)"
            ),
            {"url": url},
        )
    upgrade(engine)

    def raw() -> tuple[str, str]:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT url, url_digest FROM staff_channel")).one()
            return row[0], row[1]

    sealed, digest = raw()
    assert sealed.startswith(SEALED) and "ssw0rd" not in sealed and len(digest) == 64
    with session_scope(engine) as s:
        (channel,) = s.exec(select(StaffChannel)).all()
        assert channel.url == url
    from storage.db import downgrade

    downgrade(engine, "0008")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT url FROM staff_channel")).scalar() == url
    engine.dispose()


def test_rekey_seals_every_channel_with_a_new_key_and_a_running_reader_follows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "dw.db"
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    urls = list(SECRETS)[:3]
    args = ["staff", "add", "--name", "Ana", "--email", "ana@example.org", "--role", "admin"]
    assert run_cli(*args, *(f"--channel={u}" for u in urls), cwd=tmp_path, env=env).returncode == 0
    key = tmp_path / "dw.key"
    before_key, before_rows = key.read_bytes(), _raw_bytes(db)
    engine = make_engine(env["DATABASE_URL"])  # a reader that read the old key, as a service
    with session_scope(engine) as s:
        assert sorted(c.url for c in s.exec(select(StaffChannel))) == sorted(urls)

    rekeyed = run_cli("staff", "rekey", cwd=tmp_path, env=env)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert "3 channel URL(s) sealed with a new key" in rekeyed.stdout
    assert key.read_bytes() != before_key and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert Path(f"{key}.old").read_bytes() == before_key  # kept until the admin deletes it
    assert _raw_bytes(db) != before_rows
    with session_scope(engine) as s:  # the old reader follows the new key by itself
        assert sorted(c.url for c in s.exec(select(StaffChannel))) == sorted(urls)
    engine.dispose()
    listed = run_cli("staff", "list", "--json", cwd=tmp_path, env=env)
    assert len(json.loads(listed.stdout)[0]["channels"]) == 3

    # A key that cannot open the channels is never rotated over them: nothing changes.
    Path(f"{key}.old").unlink()
    key.unlink()
    Keyring(key).create()
    wrong_key, rows = key.read_bytes(), _raw_bytes(db)
    refused = run_cli("staff", "rekey", cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "sealed with another key" in refused.stderr
    assert key.read_bytes() == wrong_key and _raw_bytes(db) == rows
    assert not Path(f"{key}.old").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".new")]
