"""Signed webhook channels: each alert POSTed as JSON, signed per the Standard Webhooks spec.

A channel address is ``webhooks://HOST[:PORT]/PATH?secret=whsec_...`` (HTTPS) or
``webhook://...`` (plain HTTP, refused unless the host is a loopback address: for tests and a
receiver on the same machine). The secret is the channel's own: made when the channel is added
(:func:`with_secret`), shown once, sealed at rest with the channel's address and masked wherever
the address is shown. The receiver gets it in no request: it verifies each one with it.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from storage.errors import ChannelError

SCHEMES = {"webhooks": "https", "webhook": "http"}
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class WebhookTarget:
    endpoint: str  # where to POST (the address without the secret)
    secret: str  # whsec_ + base64 of the key


def is_webhook(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SCHEMES


def new_secret() -> str:
    """A fresh key, written as the spec writes secrets: ``whsec_`` and base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse(url: str) -> WebhookTarget:
    """The endpoint and secret of a webhook channel, or a :class:`ChannelError` saying what is
    wrong with it."""
    scheme, _, _ = url.partition("://")
    transport = SCHEMES.get(scheme.lower())
    if transport is None:
        raise ChannelError(f"{scheme!r} is not a webhook channel (webhooks:// or webhook://)")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise ChannelError(f"the webhook address cannot be read: {exc}") from None
    if not host:
        raise ChannelError("the webhook address names no host")
    if transport == "http" and not _loopback(host):
        raise ChannelError(
            "a plain-HTTP webhook (webhook://) may only reach this machine; use webhooks:// "
            "(HTTPS) for any other host"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = [value for key, value in query if key == "secret"]
    if len(found) != 1:
        raise ChannelError("the webhook address must carry exactly one secret=whsec_... value")
    secret = found[0]
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body + "==", validate=False)
    except ValueError:
        key = b""
    if not secret.startswith(SECRET_PREFIX) or len(key) < 24:
        raise ChannelError("the webhook secret must be whsec_ and base64 of at least 24 bytes")
    rest = urlencode([(k, v) for k, v in query if k != "secret"])
    netloc = host if ":" not in host else f"[{host}]"
    netloc += f":{port}" if port else ""
    endpoint = urlunsplit((transport, netloc, parts.path or "/", rest, ""))
    return WebhookTarget(endpoint=endpoint, secret=secret)


def with_secret(url: str) -> tuple[str, str | None]:
    """A webhook channel's address with its secret: the one it carries, or a new one (then
    returned too, for the person adding the channel to copy once). Other channels as given."""
    url = url.strip()
    if not is_webhook(url):
        return url, None
    try:
        query = urlsplit(url).query
    except ValueError as exc:
        raise ChannelError(f"the webhook address cannot be read: {exc}") from None
    if any(key == "secret" for key, _ in parse_qsl(query, keep_blank_values=True)):
        parse(url)
        return url, None
    secret = new_secret()
    joined = url + ("&" if "?" in url else "?") + urlencode({"secret": secret})
    parse(joined)
    return joined, secret
