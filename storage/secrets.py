"""Channel secrets sealed at rest, with a key kept outside the database.

A staff channel's Apprise URL carries its secrets (a mail password, a bot token, a webhook's
path). The database stores it sealed (Fernet: AES in CBC mode with an HMAC, from the
``cryptography`` package) and, beside it, a keyed digest (HMAC-SHA256) so that "this staff member
already has this channel" is still one indexed comparison. A copy of the database, a dump or a
backup of it alone shows neither the URLs nor anything to guess them from.

The key is a file of its own, created owner-only (0600) the first time a channel is stored in a
database that holds none:

- ``secrets_key_file`` (the setting, ``DOCKETWATCH_SECRETS_KEY_FILE``) when it is set;
- else, for a SQLite database, the file beside it with the suffix ``.key``
  (``data/docketwatch.db`` -> ``data/docketwatch.key``);
- else (PostgreSQL) ``$XDG_CONFIG_HOME/docketwatch/secrets.key`` (``~/.config/...``).

A key is never made again over channels sealed with a lost one: that is an error which says
where the key was looked for. Back the key up apart from the database.

``docketwatch staff rekey`` (:func:`rotate`) seals every channel again with a new key, in one
transaction, and then puts the new key in place (the old one kept beside it as ``.old``). A
running service notices: a value its key cannot open makes it read the key file again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from storage.errors import DocketwatchError
from storage.files import PRIVATE

KEY_ENV = "DOCKETWATCH_SECRETS_KEY_FILE"
SEALED = "fernet:"  # the prefix of a sealed value: a stored value without it is refused
_DIGEST_LABEL = b"docketwatch channel url\x00"


class SecretsKeyError(DocketwatchError):
    """The secrets key is missing, unreadable or not the one the stored secrets were sealed with."""


def default_key_path(database_url: str) -> Path:
    """Where the key of ``database_url`` is kept when no setting says otherwise."""
    override = os.environ.get(KEY_ENV)
    if override:
        return Path(override)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).with_suffix(".key")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "docketwatch" / "secrets.key"


class Keyring:
    """The key of one database, read from its file when first needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key: bytes | None = None

    def exists(self) -> bool:
        return self._key is not None or self.path.is_file()

    def create(self) -> None:
        """Write a new key, owner-only; an existing key is never replaced."""
        with self._lock:
            if self.path.exists():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Written whole under a private name, then linked into place: a reader never sees
            # half a key, and of two processes creating it at once the first one's wins.
            staging = _staged_key(self.path)
            try:
                os.link(staging, self.path)
            except FileExistsError:  # another process made it first: use theirs
                pass
            finally:
                staging.unlink(missing_ok=True)

    def _raw(self) -> bytes:
        with self._lock:
            if self._key is None:
                try:
                    text = self.path.read_bytes().strip()
                except FileNotFoundError:
                    raise SecretsKeyError(
                        f"the secrets key {self.path} is missing: the channel URLs stored in the "
                        "database cannot be opened without it. Restore it from your backup (or set "
                        "secrets_key_file to where it is)"
                    ) from None
                except OSError as exc:
                    raise SecretsKeyError(
                        f"cannot read the secrets key {self.path}: {exc.strerror}"
                    ) from None
                try:
                    key = base64.urlsafe_b64decode(text)
                except ValueError:
                    key = b""
                if len(key) != 32:
                    raise SecretsKeyError(f"{self.path} is not a docketwatch secrets key")
                self._key = text
            return self._key

    def seal(self, plain: str) -> str:
        from cryptography.fernet import Fernet

        return SEALED + Fernet(self._raw()).encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        from cryptography.fernet import Fernet, InvalidToken

        if not sealed.startswith(SEALED):
            raise SecretsKeyError("a stored channel URL is not sealed; run `docketwatch init`")
        token = sealed[len(SEALED) :].encode("ascii")
        for attempt in range(2):
            try:
                return Fernet(self._raw()).decrypt(token).decode()
            except (InvalidToken, ValueError):
                if attempt == 0 and self._reload():
                    continue  # the key was rotated since it was read: try the new one
                break
        raise SecretsKeyError(
            f"a stored channel URL cannot be opened with the key {self.path}: it was sealed "
            "with another key. Restore the key this database was set up with"
        )

    def _reload(self) -> bool:
        """Forget the key read earlier; True when the file now holds another one."""
        with self._lock:
            before, self._key = self._key, None
        try:
            return self._raw() != before
        except SecretsKeyError:
            return False

    def digest(self, plain: str) -> str:
        """A keyed digest of ``plain``: equal values, equal digests; nothing to guess from."""
        key = base64.urlsafe_b64decode(self._raw())
        return hmac.new(key, _DIGEST_LABEL + plain.encode("utf-8"), hashlib.sha256).hexdigest()


def _staged_key(path: Path) -> Path:
    """A new key, written whole and owner-only under a private name beside ``path`` (never
    through a link), to be linked or moved into place."""
    from cryptography.fernet import Fernet

    staging = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")
    return staging


def rotate(engine: sa.Engine) -> tuple[int, int]:
    """Seal every channel URL, every client phone number (reminders) and every roster source's
    token with a new key;
    return how many of each. Nothing changes unless the current key opens every one of them. The old
    key is kept beside the new as ``.old``."""
    keyring = keyring_of(engine.dialect)
    path = keyring.path
    staging = _staged_key(path)
    try:
        fresh = Keyring(staging)
        with engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT id, url FROM staff_channel")).all()
            plain = {row_id: keyring.open(url) for row_id, url in rows}  # all, or nothing
            for row_id, url in plain.items():
                conn.execute(
                    sa.text(
                        "UPDATE staff_channel SET url = :url, url_digest = :digest WHERE id = :id"
                    ),
                    {"url": fresh.seal(url), "digest": fresh.digest(url), "id": row_id},
                )
            phones = conn.execute(sa.text("SELECT client_id, phone FROM reminder_contact")).all()
            numbers = {client: keyring.open(phone) for client, phone in phones}
            for client, number in numbers.items():
                conn.execute(
                    sa.text(
                        "UPDATE reminder_contact SET phone = :phone, phone_digest = :digest "
                        "WHERE client_id = :id"
                    ),
                    {"phone": fresh.seal(number), "digest": fresh.digest(number), "id": client},
                )
            for table in ("roster_sync", "case_system", "federal_account"):  # systems' tokens
                tokens = conn.execute(
                    sa.text(f"SELECT id, token FROM {table} WHERE token IS NOT NULL")
                ).all()
                opened = {row_id: keyring.open(token) for row_id, token in tokens}
                for row_id, token in opened.items():
                    conn.execute(
                        sa.text(f"UPDATE {table} SET token = :token WHERE id = :id"),
                        {"token": fresh.seal(token), "id": row_id},
                    )
            # Still inside the transaction: if this fails, the database keeps the old seals.
            old = path.with_name(path.name + ".old")
            if path.exists():
                old.unlink(missing_ok=True)
                os.link(path, old)
            os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    keyring._reload()
    return len(rows), len(phones)


def attach(engine: sa.Engine, path: Path) -> None:
    """Give ``engine`` its keyring (kept on its dialect, which is the engine's own)."""
    engine.dialect.docketwatch_keyring = Keyring(path)  # type: ignore[attr-defined]


def keyring_of(dialect: Any) -> Keyring:
    keyring = getattr(dialect, "docketwatch_keyring", None)
    if keyring is None:
        raise SecretsKeyError("this database connection has no secrets key (use storage.db)")
    assert isinstance(keyring, Keyring)
    return keyring


class SealedString(sa.types.TypeDecorator[str]):
    """A string stored sealed with the connection's keyring, read back in the clear."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring_of(dialect).seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring_of(dialect).open(value)
