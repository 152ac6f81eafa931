"""Alert messages: substance first, in the recipient's language, shaped for the channel.

A message says what changed (old -> new), for whom (initials and the last four A-number digits,
unless the channel may carry personal data), where and when (court-local date and time), and
how to acknowledge it. Email gets HTML (Apprise adds the plain-text part), Slack gets Markdown,
everything else plain text.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.events import NOTES, kind
from storage.identifiers import format_a_number, redact_a_number
from storage.models import Client, Event, Severity, StaffChannel
from storage.urls import https_only

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "urgent": "URGENT",
        "normal": "",
        "info": "FYI",
        "client": "Client",
        "what_changed": "What changed",
        "hearing": "Hearing",
        "federal_court": "Federal court",
        "court": "Court",
        "when": "When",
        "judge": "Judge",
        "medium": "Format",
        "location": "Location",
        "webex": "WebEx link",
        "details": "Details",
        "ack": "Acknowledge",
        "open": "Open",
        "ack_cli": "Acknowledge with: docketwatch alerts ack {id}",
        "none": "none",
        "escalated": "ESCALATED: not acknowledged in time by the attorney first alerted.",
        "date": "Date",
        "time": "Time",
        "type": "Type",
        "facility": "Facility",
        "digest": "docketwatch daily digest",
        "digest_intro": "{n} alerts since the last digest",
        "alert": "Alert",
        "at": "at",
        "decision": "Decision",
        "calendar_type": "Calendar",
        "schedule_type": "Schedule type",
        "no_hearing": "no hearing scheduled",
        "case": "case",
    },
    "es": {
        "urgent": "URGENTE",
        "normal": "",
        "info": "INFO",
        "client": "Cliente",
        "what_changed": "Qué cambió",
        "hearing": "Audiencia",
        "federal_court": "Tribunal federal",
        "court": "Tribunal",
        "when": "Cuándo",
        "judge": "Juez",
        "medium": "Formato",
        "location": "Lugar",
        "webex": "Enlace de WebEx",
        "details": "Detalles",
        "ack": "Confirmar recibo",
        "open": "Abrir",
        "ack_cli": "Confirme con: docketwatch alerts ack {id}",
        "none": "ninguno",
        "escalated": "ESCALADA: el abogado alertado primero no confirmó a tiempo.",
        "date": "Fecha",
        "time": "Hora",
        "type": "Tipo",
        "facility": "Centro de detención",
        "digest": "Resumen diario de docketwatch",
        "digest_intro": "{n} alertas desde el último resumen",
        "alert": "Alerta",
        "at": "a las",
        "decision": "Decisión",
        "calendar_type": "Calendario",
        "schedule_type": "Tipo de agenda",
        "no_hearing": "sin audiencia programada",
        "case": "caso",
    },
}
_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    html: str
    markdown: str
    attachments: tuple[str, ...] = ()  # files sent with it on email channels (a report's PDF)
    # What a signed webhook carries as JSON (``type`` and ``data``; see :func:`event_data`).
    data: dict[str, Any] = field(default_factory=dict)
    # The same for every attempt at the same delivery: a webhook's ``webhook-id``.
    key: str = ""

    def body_for(self, url: str) -> tuple[str, str]:
        """(body, Apprise body format) for a channel URL."""
        scheme = url.split("://", 1)[0].lower()
        if scheme in ("mailto", "mailtos"):
            return self.html, "html"
        if scheme in ("slack", "discord", "matrix", "matrixs", "msteams", "mattermost"):
            return self.markdown, "markdown"
        return self.text, "text"


def format_date(value: str | date, lang: str) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if lang == "es":
        return f"{_DAYS['es'][day.weekday()]} {day.day} {_MONTHS['es'][day.month - 1]} {day.year}"
    return f"{_DAYS['en'][day.weekday()]}, {_MONTHS['en'][day.month - 1]} {day.day}, {day.year}"


def zone_name(zone: str | None, on: str | None) -> str:
    """The short name of a time zone on a day (PST, PDT), or the zone as it is."""
    if not zone:
        return ""
    try:
        day = date.fromisoformat(str(on)[:10]) if on else date.today()
        return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone)).tzname() or ""
    except (ValueError, KeyError):
        return zone


def initials(name: str) -> str:
    if "," in name:
        family, _, given = name.partition(",")
        parts = [given.strip(), family.strip()]
    else:
        words = name.split()
        parts = [words[0], words[-1]] if words else []
    return ".".join(p[0].upper() for p in parts if p) + ("." if parts else "")


def who(client: Client | None, personal: bool) -> str:
    if client is None:
        return ""
    if personal:
        return f"{client.name} ({format_a_number(client.a_number)})"
    return f"{initials(client.name)} {redact_a_number(client.a_number)}"


def _fmt_value(field: str, value: Any, lang: str) -> str:
    if value in (None, ""):
        return LABELS[lang]["none"]
    if field == "date":
        try:
            return format_date(str(value), lang)
        except ValueError:
            return str(value)
    return str(value)


#: how long an acknowledgement link works, from its alert's creation
ACK_LINK_DAYS = 14


def ack_token(secret: str, event_id: int, expires: int) -> str:
    """``EXPIRES.MAC``: the link's expiry (Unix time) and an HMAC of the alert id with it."""
    mac = hmac.new(secret.encode(), f"ack:{event_id}:{expires}".encode(), hashlib.sha256)
    return f"{expires}.{mac.hexdigest()[:32]}"


def check_ack_token(secret: str, event_id: int, token: str, now: datetime) -> str:
    """ "" when ``token`` acknowledges ``event_id`` now; else why not ("invalid", "expired")."""
    expires, _, mac = token.partition(".")
    if not (token.isascii() and expires.isdigit() and len(expires) < 12 and mac):
        return "invalid"
    expected = ack_token(secret, event_id, int(expires)).partition(".")[2]
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return "invalid"
    if now.timestamp() > int(expires):
        return "expired"
    return ""


def ack_link(
    base_url: str | None, secret: str | None, event_id: int, created_at: datetime
) -> str | None:
    """The alert's acknowledgement link: it opens a page that asks to confirm (a mail scanner
    that opens every link acknowledges nothing), and works for :data:`ACK_LINK_DAYS` days."""
    if not base_url or not secret:
        return None
    stamp = created_at.replace(tzinfo=created_at.tzinfo or UTC)
    expires = int((stamp + timedelta(days=ACK_LINK_DAYS)).timestamp())
    return f"{base_url.rstrip('/')}/ack/{event_id}?t={ack_token(secret, event_id, expires)}"


def _note_value(value: Any, lang: str) -> str:
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return format_date(text, lang)
        except ValueError:
            return text
    return text


def note_line(item: dict[str, Any], lang: str) -> str:
    """One registered note in ``lang``: its template, its parameters (dates in ``lang``)."""
    params = {k: v for k, v in item.items() if k != "note"}
    template = NOTES.get(str(item.get("note")))
    if template is None:  # not registered (any more): its parameters, never a crash
        return " · ".join(str(v) for v in params.values())
    text = template.es if lang == "es" else template.en
    return text.format_map({k: _note_value(params.get(k, "?"), lang) for k in template.fields})


def _item_line(item: dict[str, Any], lang: str) -> str:
    labels = LABELS[lang]
    parts = []
    for key, value in item.items():
        if key == "client" and isinstance(value, int):
            parts.append(f"{labels['client']} #{value}")
        elif key == "case" and value not in (None, ""):
            parts.append(f"{labels['case']} {str(value).removeprefix('case ')}")
        elif key == "next_hearing" and value in (None, ""):
            parts.append(labels["no_hearing"])
        elif value not in (None, ""):
            parts.append(str(value))
    return "• " + " · ".join(parts)


def _headline(event: Event, lang: str) -> str:
    spec = kind(event.kind)
    return spec.es if lang == "es" else spec.en


def _change_facts(event: Event, lang: str) -> list[tuple[str, str]]:
    labels = LABELS[lang]
    facts = []
    for change in (event.payload or {}).get("changes", []):
        field = str(change.get("field", ""))
        label = labels.get(field, field.replace("_", " ").capitalize())
        old = _fmt_value(field, change.get("old"), lang)
        new = _fmt_value(field, change.get("new"), lang)
        facts.append((f"{labels['what_changed']}: {label}", f"{old} → {new}"))
    return facts


def _context_facts(event: Event, lang: str) -> list[tuple[str, str]]:
    """The hearing (court-local date and time, court, judge ...) and the facility."""
    labels = LABELS[lang]
    payload = event.payload or {}
    facts: list[tuple[str, str]] = []
    hearing = payload.get("hearing")
    if isinstance(hearing, dict) and hearing.get("date"):
        when = format_date(str(hearing["date"]), lang)
        if hearing.get("time"):
            zone = zone_name(hearing.get("timezone"), hearing.get("date"))
            when += f" {labels['at']} {hearing['time']}" + (f" ({zone})" if zone else "")
        court = hearing.get("court_name") or hearing.get("court") or ""
        if hearing.get("court") and hearing.get("court_name"):
            court = f"{hearing['court_name']} ({hearing['court']})"
        facts.append((labels["when"], when))
        if court:
            facts.append((labels["court"], court))
        for key in ("judge", "medium", "location", "webex"):
            value = str(hearing.get(key) or "")
            value = https_only(value) if key == "webex" else value
            if value:
                facts.append((labels[key], value))
    if payload.get("facility"):
        facts.append((labels["facility"], str(payload["facility"])))
    return facts


def _notes(event: Event, lang: str) -> list[str]:
    payload = event.payload or {}
    lines = [note_line(item, lang) for item in payload.get("notes", []) if isinstance(item, dict)]
    if payload.get("detail"):  # an event stored before notes existed
        lines.append(str(payload["detail"]))
    return lines + [_item_line(item, lang) for item in payload.get("items", [])]


def describe(
    event: Event, client: Client | None, lang: str
) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(headline, labelled facts, free lines) of one event, as its message says them (the
    client as initials and the last four digits), for the alert's page."""
    return _lines(event, client, None, lang if lang in LABELS else "en", 0)


def _lines(
    event: Event,
    client: Client | None,
    channel: StaffChannel | None,
    lang: str,
    escalation_level: int,
) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(headline, labelled facts, free lines) of one event."""
    labels = LABELS[lang]
    headline = _headline(event, lang)
    facts: list[tuple[str, str]] = []
    subject = who(client, bool(channel and channel.allow_personal_data))
    if subject:
        facts.append((labels["client"], subject))
    facts += _change_facts(event, lang) + _context_facts(event, lang)
    free: list[str] = [labels["escalated"]] if escalation_level else []
    return headline, facts, free + _notes(event, lang)


def event_data(
    event: Event, client: Client | None, channel: StaffChannel | None, lang: str = "en"
) -> dict[str, Any]:
    """One event as a webhook's JSON says it: what changed, the hearing, the facility, the
    notes, and the client as the channel may name them (initials and last four digits unless
    it may carry personal data)."""
    payload = event.payload or {}
    hearing = payload.get("hearing")
    if isinstance(hearing, dict):
        hearing = {k: v for k, v in hearing.items() if k != "webex"} | {
            "webex": https_only(str(hearing.get("webex") or ""))
        }
    stamp = event.created_at.replace(tzinfo=event.created_at.tzinfo or UTC)
    return {
        "id": event.id,
        "kind": event.kind,
        "severity": event.severity,
        "created_at": stamp.isoformat(timespec="seconds"),
        "client": who(client, bool(channel and channel.allow_personal_data)) or None,
        "changes": [c for c in payload.get("changes", []) if isinstance(c, dict)],
        "hearing": hearing if isinstance(hearing, dict) else None,
        "facility": payload.get("facility"),
        "notes": _notes(event, lang if lang in LABELS else "en"),
    }


_RANK = {Severity.urgent.value: 0, Severity.normal.value: 1, Severity.info.value: 2}


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def render(
    events: Event | list[Event],
    client: Client | None,
    channel: StaffChannel | None,
    lang: str,
    *,
    escalation_level: int = 0,
    base_url: str | None = None,
    ack_secret: str | None = None,
) -> Message:
    """The message for one event, or for the events of one lookup of one client (a group),
    in one recipient's language for one channel.

    A group is one message: the most urgent severity, every headline, every change, the hearing
    once, every note; acknowledging it acknowledges all of its events."""
    group = sorted(
        events if isinstance(events, list) else [events],
        key=lambda e: (_RANK.get(e.severity, 3), e.id or 0),
    )
    assert group and all(e.id is not None for e in group)
    lead = group[0]
    lang = lang if lang in LABELS else "en"
    labels = LABELS[lang]
    subject = who(client, bool(channel and channel.allow_personal_data))
    facts: list[tuple[str, str]] = [(labels["client"], subject)] if subject else []
    facts += _unique([f for e in group for f in _change_facts(e, lang)])
    facts += _unique([f for e in group for f in _context_facts(e, lang)])
    free = [labels["escalated"]] if escalation_level else []
    free += _unique([line for e in group for line in _notes(e, lang)])
    headline = ", ".join(_unique([_headline(e, lang) for e in group]))
    level = labels.get(lead.severity, "")
    title = " · ".join(p for p in (level, headline, subject) if p)
    assert lead.id is not None
    link = ack_link(base_url, ack_secret, lead.id, lead.created_at)
    ack_text = f"{labels['ack']}: {link}" if link else labels["ack_cli"].format(id=lead.id)
    needs_ack = lead.severity == Severity.urgent.value
    footer = (
        f"{labels['alert']} "
        + ", ".join(f"#{e.id}" for e in group)
        + " · "
        + ", ".join(_unique([e.kind for e in group]))
    )

    # The alert's page in the web app (after sign-in, back to it): one tap to acknowledge.
    page = f"{base_url.rstrip('/')}/alerts/{lead.id}" if base_url else ""
    text_lines = [title, ""] + [f"{k}: {v}" for k, v in facts] + free
    if page:
        text_lines += ["", f"{labels['open']}: {page}"]
    if needs_ack:
        text_lines += [ack_text] if page else ["", ack_text]
    text_lines.append(f"[{footer}]")
    text = "\n".join(text_lines)

    md_lines = [f"*{title}*"] + [f"• *{k}:* {v}" for k, v in facts] + free
    if page:
        md_lines.append(f"<{page}|{labels['open']}>")
    if needs_ack:
        md_lines.append(f"<{link}|{labels['ack']}>" if link else ack_text)
    md_lines.append(f"_{footer}_")
    markdown = "\n".join(md_lines)

    e = html.escape
    # Paragraphs, not a table: Apprise derives the email's plain-text part from this HTML.
    rows = "".join(f"<p><b>{e(k)}:</b> {e(v)}</p>" for k, v in facts)
    extra = "".join(f"<p>{e(line)}</p>" for line in free)
    ack_html = ""
    if needs_ack:
        ack_html = (
            f"<p><b>{e(labels['ack'])}:</b> <a href='{e(link)}'>{e(link)}</a></p>"
            if link
            else f"<p>{e(ack_text)}</p>"
        )
    open_html = f"<p><a href='{e(page)}'>{e(labels['open'])}: {e(page)}</a></p>" if page else ""
    body_html = (
        f"<h2>{e(title)}</h2>{rows}{extra}{open_html}{ack_html}"
        f"<p style='color:#666'>{e(footer)}</p>"
    )
    data = {
        "type": "alert",
        "title": title,
        "severity": lead.severity,
        "escalation_level": escalation_level,
        "page": page or None,
        "acknowledge": link if needs_ack else None,
        "events": [event_data(e, client, channel, lang) for e in group],
    }
    return Message(title=title, text=text, html=body_html, markdown=markdown, data=data)


def render_digest(
    items: list[tuple[Event, Client | None]], channel: StaffChannel, lang: str
) -> Message:
    """One message for a day's held alerts."""
    lang = lang if lang in LABELS else "en"
    labels = LABELS[lang]
    title = f"{labels['digest']} · {labels['digest_intro'].format(n=len(items))}"
    blocks_text: list[str] = []
    blocks_md: list[str] = []
    blocks_html: list[str] = []
    for event, client in items:
        headline, facts, free = _lines(event, client, channel, lang, 0)
        line = f"{headline} (#{event.id})"
        details = [f"{k}: {v}" for k, v in facts] + free
        blocks_text.append("\n".join([line] + [f"  {d}" for d in details]))
        blocks_md.append("\n".join([f"*{line}*"] + [f"  • {d}" for d in details]))
        blocks_html.append(
            f"<h3>{html.escape(line)}</h3><ul>"
            + "".join(f"<li>{html.escape(d)}</li>" for d in details)
            + "</ul>"
        )
    return Message(
        title=title,
        text=title + "\n\n" + "\n\n".join(blocks_text),
        html=f"<h2>{html.escape(title)}</h2>" + "".join(blocks_html),
        markdown=f"*{title}*\n\n" + "\n\n".join(blocks_md),
        data={
            "type": "digest",
            "title": title,
            "events": [event_data(event, client, channel, lang) for event, client in items],
        },
    )
