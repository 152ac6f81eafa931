"""Issue 15, item 5 (the part built): channel secrets masked on every output.

Every shape of secret an Apprise URL carries: a password with ``@`` in it, ``?pass=``, a bot
token where the host would be, webhook ids and tokens, ``?token=``. ``staff list``, ``alerts
test`` and ``alerts log`` show the masked form only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.settings import mask_channel, mask_url
from tests.support.cli import run_cli
from tests.support.secrets import SECRETS


@pytest.mark.parametrize(("url", "secrets"), SECRETS.items())
def test_no_secret_survives_masking(url: str, secrets: list[str]) -> None:
    masked = mask_channel(url)
    assert masked.split("://")[0] == url.split("://")[0]  # still says what kind of channel
    for secret in secrets:
        assert secret not in masked, masked


def test_a_database_password_with_an_at_sign() -> None:
    assert mask_url("postgresql://dw:p@ss@db.example.org/dw?sslmode=require") == (
        "postgresql://dw:***@db.example.org/dw?sslmode=require"
    )


def test_staff_list_and_alerts_show_no_secret(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    args = ["staff", "add", "--name", "Ana", "--email", "ana@example.org", "--role", "admin"]
    for url in SECRETS:
        args += ["--channel", url]
    added = run_cli(*args, cwd=tmp_path, env=env)
    assert added.returncode == 0, added.stderr
    # sent for real to loopback, where nothing listens (never to the services named above)
    local = [
        "mailto://bo:p@ssw0rd!@127.0.0.1:9?from=bo@example.org&to=bo@example.org",
        "json://127.0.0.1:9/notify?token=s3cr3tt0k3n",
    ]
    args = ["staff", "add", "--name", "Bo", "--email", "bo@example.org", "--role", "admin"]
    assert run_cli(*args, *(f"--channel={u}" for u in local), cwd=tmp_path, env=env).returncode == 0
    shown = [
        run_cli("staff", "list", cwd=tmp_path, env=env),
        run_cli("staff", "list", "--json", cwd=tmp_path, env=env),
        run_cli("alerts", "test", "bo@example.org", cwd=tmp_path, env=env),
        run_cli("alerts", "log", "--json", cwd=tmp_path, env=env),
    ]
    assert len(json.loads(shown[1].stdout)[0]["channels"]) == len(SECRETS)
    text = "".join(r.stdout + r.stderr for r in shown)
    for secrets in SECRETS.values():
        for secret in secrets:
            assert secret not in text, secret
