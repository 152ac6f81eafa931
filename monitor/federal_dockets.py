"""What a new federal docket entry means: a table of rules over the entry's text.

Each rule is a kind, the patterns whose match says it (``when``), and the patterns that say the
entry is only *about* it (``unless``: a response to an order to show cause is not one; a motion
for a TRO is not its decision). The rules were written against real entries of immigration habeas
and petition-for-review dockets (``tests/fixtures/federal_dockets/``, with their provenance), and
``bench/federal_dockets_rules.py`` reports how many of each kind they find and miss there.

An entry no rule understands is a plain ``federal_entry_filed``: never a guess. An entry may say
several things (an order granting a TRO that sets a hearing): each is its own event, in one
message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from monitor.events import EventInput, client_event, note
from monitor.route import emit
from storage.federal_dockets import store_entry, watched
from storage.models import Client, FederalCase, FederalDocket, FederalEntry, FederalHearing

PLAIN = "federal_entry_filed"
_I = re.IGNORECASE
#: an entry that is a filing by a party (its first words), not the court's decision
_FILING = (
    r"^\s*(?:(?:EX\s+PARTE\s+|EMERGENCY\s+|NOTICE\s+OF\s+)?(?:MOTION|APPLICATION)|OPPOSITION|"
    r"REPLY|RESPONSE|MEMORANDUM\s+(?:of|in)|STATEMENT|DECLARATION|NOTICE\s+OF\s+APPEARANCE|"
    r"STIPULATION|REQUEST|TRAVERSE|ANSWER|PROPOSED|LODGED)\b"
)


@dataclass(frozen=True)
class Rule:
    kind: str
    when: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.when) and not any(
            p.search(text) for p in self.unless
        )


def _p(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, _I) for p in patterns)


RULES: tuple[Rule, ...] = (
    Rule(
        "federal_order_to_show_cause",
        when=_p(
            r"^\s*(?:\(\w+\)\s*)?(?:MINUTE\s+)?ORDER\s+(?:TO\s+)?SHOW\s+CAUSE",
            r"^\s*(?:MINUTE\s+)?ORDER\b[^.;]{0,200}\bORDER(?:ED)?\s+TO\s+SHOW\s+CAUSE",
            r"\bRespondents?\b[^.]{0,40}\bORDERED\s+TO\s+SHOW\s+CAUSE",
            r"^\s*MINUTE\s+ORDER\s+IN\s+CHAMBERS\b.*\bOrder\s+To\s+Show\s+Cause\b",
        ),
        unless=_p(_FILING, r"\bvacat", r"\bdischarg"),
    ),
    Rule(
        "federal_tro_decided",
        when=_p(
            r"^\s*(?:MINUTE\s+)?(?:ORDER|OPINION)\b[^.]{0,200}\b(?:GRANT|DENY|DENI)\w*\b[^.]{0,120}"
            r"\b(?:TEMPORARY\s+RESTRAINING\s+ORDER|TRO)\b",
            r"^\s*(?:MINUTE\s+)?(?:ORDER|OPINION)\b[^.]{0,120}\b(?:TEMPORARY\s+RESTRAINING\s+ORDER"
            r"|TRO)\b[^.]{0,120}\b(?:GRANTED|DENIED)\b",
            r"^\s*ORDER\b[^.]{0,80}\btemporarily\s+enjoined\b",
            r"\bapplication\s+for\s+a\s+TRO\b[^.]{0,80}\.\s*Ordered\s+application\s+"
            r"(?:granted|denied)",
        ),
        unless=_p(_FILING),
    ),
    Rule(
        "federal_stay_decided",
        when=_p(
            r"\bREMOVAL\s+STAYED\b",
            r"^\s*ORDER\b[^.]*\.\s*Motion\s+to\s+Stay\s+Removal\b[^.]*\b(?:not\s+opposed|granted"
            r"|denied)",
            r"^\s*ORDER\b[^.]{0,200}\b(?:motion\s+for\s+(?:a\s+)?stay\s+of\s+removal|stay\s+of\s+"
            r"removal)\b[^.]{0,80}\b(?:is\s+)?(?:GRANTED|DENIED)\b",
            r"^\s*ORDER\s+(?:GRANTING|DENYING)\b[^.]{0,80}\bSTAY\s+OF\s+REMOVAL\b",
        ),
        unless=_p(r"^\s*(?:OPPOSITION|STATEMENT|RESPONSE|REPLY)\b"),
    ),
    Rule(
        "federal_habeas_decided",
        when=_p(
            r"\bFILED\s+AND\s+ENTERED\s+JUDGMENT\b",
            r"^\s*(?:AMENDED\s+)?JUDGMENT\b",
            r"^\s*(?:MINUTE\s+)?(?:ORDER|OPINION)\b[^.]{0,120}\b(?:GRANTING|DENYING|DISMISSING)\b"
            r"[^.]{0,60}\bPETITION\s+FOR\s+(?:A\s+)?WRIT\s+OF\s+HABEAS\s+CORPUS\b",
            r"\bPETITION\s+FOR\s+(?:A\s+)?WRIT\s+OF\s+HABEAS\s+CORPUS\b[^.]{0,40}\bis\s+"
            r"(?:GRANTED|DENIED|DISMISSED)\b",
            r"^\s*MEMORANDUM\s+DISPOSITION\b.*\bPETITION\s+(?:GRANTED|DENIED|DISMISSED)\b",
        ),
        unless=_p(r"\bproposed\s+judgment\b", r"^\s*MOTION\b", _FILING),
    ),
    Rule(
        "federal_hearing_set",
        when=_p(
            r"\b(?:hearing|conference|argument)\b[^.]{0,60}\b(?:set|reset|continued|scheduled)"
            r"\s+(?:for|to)\s+(?:\w+,\s+)?(?:\d{1,2}/\d{1,2}/\d{2,4}|[A-Z][a-z]+\s+\d{1,2},\s+\d{4})",
            r"\bset\s+for\s+hearing\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}",
            r"^\s*NOTICE\s+OF\s+ORAL\s+ARGUMENT\s+on\b",
            r"\bhearing\b[^.]{0,60}\bwill\s+be\s+held\s+on\s+[A-Z][a-z]+\s+\d{1,2},\s+\d{4}",
        ),
        unless=_p(r"\bvacat", r"\bTAKEN\s+OFF\s+CALENDAR\b", r"^\s*(?:OPPOSITION|REPLY)\b"),
    ),
    Rule(
        "federal_case_closed",
        when=_p(
            r"\(?\bJS-6\b\)?",
            r"\bCASE\s+(?:IS\s+)?(?:CLOSED|TERMINATED)\b",
            r"\bCivil\s+Case\s+Terminated\b",
            r"^\s*MANDATE\s+ISSUED\b",
        ),
        unless=_p(r"\bre-?open", r"^\s*CASE\s+OPENED\b"),
    ),
)

#: the kinds a rule may give, in the order they are reported
KINDS = tuple(rule.kind for rule in RULES)


def classify(text: str) -> list[str]:
    """The kinds an entry's text says (in the rules' order); ``[PLAIN]`` when none does."""
    text = " ".join(text.split())
    found = [rule.kind for rule in RULES if rule.matches(text)]
    return found or [PLAIN]


# ------------------------------------------------------------------------------ hearings set

_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{2,4})\b")
_WORDS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{1,2}),\s+(\d{4})\b"
)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\s*([AaPp])\.?\s*[Mm]\.?")
_MONTH_NAMES = (
    "January February March April May June July August September October November December"
)
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
#: where a hearing's date follows in the entry's text
_AFTER = re.compile(
    r"(?:set|reset|continued|scheduled)\s+(?:for|to)\s+|set\s+for\s+hearing\s+on\s+|"
    r"ORAL\s+ARGUMENT\s+on\s+|will\s+be\s+held\s+on\s+",
    _I,
)


@dataclass(frozen=True)
class HearingSet:
    on: date
    at: time | None
    what: str

    def starts(self, zone: str) -> datetime | None:
        if self.at is None:
            return None
        return datetime.combine(self.on, self.at, ZoneInfo(zone))


def hearing_of(text: str) -> HearingSet | None:
    """The date (and time) a hearing-setting entry gives, from the first date after its
    "set for" (or "ORAL ARGUMENT on", "will be held on"); None when it gives none."""
    text = " ".join(text.split())
    lead = _AFTER.search(text)
    if lead is None:
        return None
    rest = text[lead.end() : lead.end() + 120]
    day: date | None = None
    found_at = None
    numeric = _NUMERIC.search(rest)
    words = _WORDS.search(rest)
    first = min((m for m in (numeric, words) if m), key=lambda m: m.start(), default=None)
    if first is numeric and numeric:
        month, dom, year = (int(g) for g in numeric.groups())
        year = year + 2000 if year < 100 else year
        found_at = numeric.end()
    elif words:
        month, dom, year = _MONTHS[words[1]], int(words[2]), int(words[3])
        found_at = words.end()
    else:
        return None
    try:
        day = date(year, month, dom)
    except ValueError:
        return None
    clock = _CLOCK.search(rest[found_at : found_at + 40])
    at = None
    if clock:
        hour, minute = int(clock[1]) % 12, int(clock[2])
        hour += 12 if clock[3].lower() == "p" else 0
        at = time(hour, minute)
    return HearingSet(day, at, text.split(". ")[0][:120])


# ---------------------------------------------------------------------------------- the events


def mask_name(text: str, name: str) -> str:
    """The entry's text without the client's name: docket text names the petitioner, and an
    alert names the client only as other alerts do (initials and the A-number's last four)."""
    words = {w for w in re.split(r"[^\w'-]+", name) if len(w) >= 3}
    if not words:
        return text
    pattern = r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    masked = re.sub(pattern + r")\b", "[client]", text, flags=re.IGNORECASE)
    return re.sub(r"\[client\](?:[\s,]+\[client\])+", "[client]", masked)


def entry_events(
    client_id: int,
    court: str,
    docket_number: str,
    entry: FederalEntry,
    now: datetime,
    zone: str,
    name: str = "",
) -> list[EventInput]:
    """The client's events for one new entry of a linked docket: one per kind its text says,
    grouped into one message; a hearing set carries its date and time. The client's ``name`` is
    masked in the text the alert carries."""
    kinds = entry.kinds or classify(entry.description)
    text = mask_name(" ".join(entry.description.split()), name)
    short = text if len(text) <= 300 else text[:297] + "..."
    notes = [
        note(
            "federal_entry",
            court=court,
            docket=docket_number,
            number=entry.entry_number if entry.entry_number is not None else "-",
            filed=entry.date_filed.isoformat() if entry.date_filed else "-",
            text=short,
        )
    ]
    hearing = hearing_of(text) if "federal_hearing_set" in kinds else None
    if hearing is not None:
        starts = hearing.starts(zone)
        when = starts.strftime("%Y-%m-%d %H:%M") if starts else hearing.on.isoformat()
        notes.append(note("federal_hearing", when=when))
    events = []
    for kind in kinds:
        events.append(
            client_event(
                kind,
                client_id,
                f"entry-{entry.entry_id}",
                now,
                group=f"federal-{entry.entry_id}",
                notes=notes,
                federal={
                    "court": court,
                    "docket_number": docket_number,
                    "entry_id": entry.entry_id,
                    "entry_number": entry.entry_number,
                },
            )
        )
    return events


def apply_entries(
    session: Session,
    docket: FederalDocket,
    answers: list[dict[str, Any]],
    via: str,
    now: datetime,
    zone: str,
) -> Counter[str]:
    """Store the docket's entries CourtListener gave (new ones only), with the hearings they
    set; alert each active link's client of every entry newer than the link's baseline, once.
    ``via`` "link" is the baseline itself: stored and shown, never alerted."""
    counts: Counter[str] = Counter()
    links = list(
        session.exec(
            select(FederalCase).where(
                FederalCase.docket_id == docket.id,
                watched(),
                col(FederalCase.baseline).is_not(None),
            )
        )
    )
    names = {
        c.id: c.name
        for c in session.exec(
            select(Client).where(col(Client.id).in_([link.client_id for link in links]))
        )
    }
    for answer in sorted(answers, key=lambda a: int(a["id"])):
        row = store_entry(session, docket, answer, via, now)
        if row is None:
            continue
        counts["entries"] += 1
        row.kinds = classify(row.description)
        session.add(row)
        hearing = hearing_of(row.description) if "federal_hearing_set" in row.kinds else None
        if hearing is not None:
            assert row.id is not None and docket.id is not None
            starts = hearing.starts(zone)
            session.add(
                FederalHearing(
                    docket_id=docket.id,
                    entry_id=row.id,
                    hearing_on=hearing.on,
                    starts_at=starts,
                    what=hearing.what,
                    seen_at=now,
                )
            )
        if via == "link":
            continue
        for link in links:
            if link.baseline is not None and row.entry_id > link.baseline:
                for event in entry_events(
                    link.client_id,
                    link.court,
                    link.docket_number,
                    row,
                    now,
                    zone,
                    names.get(link.client_id, ""),
                ):
                    if emit(session, event, now) is not None:
                        counts[event.kind] += 1
    session.flush()
    return counts
