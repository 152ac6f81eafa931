"""Links that come from a public source (a hearing's WebEx link from ACIS): kept only when they
are ``https:`` links to a host. A ``javascript:``, ``data:`` or plain ``http:`` link, or one
with characters no address has, is dropped wherever it would be shown (a page, a calendar feed,
an alert, a reminder), and the lookup's record says it was dropped."""

from __future__ import annotations

from urllib.parse import urlsplit

NOT_IN_AN_ADDRESS = frozenset(' "<>\\^`{|}\x7f') | frozenset(chr(c) for c in range(32))


def https_only(url: str | None) -> str:
    """``url`` when it is an ``https:`` link to a host, else ""."""
    text = (url or "").strip()
    if not text or len(text) > 2000 or any(c in NOT_IN_AN_ADDRESS for c in text):
        return ""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme.lower() != "https" or not host:
        return ""
    return text
