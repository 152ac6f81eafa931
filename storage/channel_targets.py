"""Where an alert channel sends, checked before a program's admin may add it on the web.

On a deployment serving several programs, a program's admin is a tenant, not the host: a channel
they add must not make the server call its own or its network's addresses (a test message to
``json://127.0.0.1:PORT/`` would otherwise be a port scanner). So, from the web:

- only the channel kinds programs use (:data:`WEB_SCHEMES`: email, Slack, Teams, Discord,
  Telegram, ntfy, Matrix, JSON/form webhooks and signed webhooks over HTTPS);
- for a kind whose address is a network host (email's server, a webhook, ntfy, Matrix), the name
  is resolved and **every** address it has must be public: loopback, private, link-local
  (metadata services), multicast, reserved and unspecified addresses are refused, and so is a
  name that does not resolve. The host's setting ``web_channels_private`` lifts this for a
  deployment whose own mail server is on its network.

Redirects: Apprise's webhook plugins post to the address given; docketwatch adds no redirect
following of its own. The CLI (the host's admin) is not limited.

The same holds for a roster source a program's admin sets on the web (:func:`check_web_source`):
an address on a public host only, never a file or folder on the server.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from storage.errors import ChannelError

#: kinds whose address is a network host (checked to be public before a program may add one)
HOSTED = frozenset(
    (
        *("mailto", "mailtos", "ntfy", "ntfys", "matrix", "matrixs"),
        *("json", "jsons", "form", "forms", "webhooks"),
    )
)
#: every kind a program's admin may add on the web: those, and hosted services by name
WEB_SCHEMES = HOSTED | frozenset(["slack", "msteams", "discord", "tgram"])


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_web_channel(url: str, allow_private: bool = False) -> None:
    """Refuse, with the reason, a channel a program's admin may not add on the web."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in WEB_SCHEMES:
        kinds = ", ".join(sorted(WEB_SCHEMES))
        raise ChannelError(f"a channel of kind {scheme!r} cannot be added here (kinds: {kinds})")
    if scheme not in HOSTED or allow_private:
        return
    _public_host(url, "channel")


def _public_host(url: str, what: str) -> None:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if not host:
        raise ChannelError(f"the {what} names no host")
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        raise ChannelError(f"the {what}'s host {host!r} does not resolve") from None
    private = sorted(a for a in found if not _public(str(a)))
    if private:
        raise ChannelError(
            f"the {what}'s host {host!r} is a loopback, private, link-local or reserved "
            f"address: a program's {what} must be a public one"
        )


def check_web_source(source: str, allow_private: bool = False) -> None:
    """Refuse, with the reason, a roster source a program's admin may not set on the web: a
    file or folder on the server (the host's admin sets those with the command line), or an
    address on the server's own networks (``web_channels_private`` lifts that, as for
    channels)."""
    if "://" not in source:
        raise ChannelError(
            "a file or folder on the server is set by the host's admin "
            "(`docketwatch orgs set --roster-sync PATH`): on the web, give an https:// address"
        )
    if not allow_private:
        _public_host(source, "roster source")
