"""The registry of client reminder texts: one TOML file per language.

A file gives the language's own name, a Babel locale for dates and times (or, where Babel has no
data for the language, the names of the days and months and a date pattern), and four texts:

- ``reminder``: the hearing is coming (7 days, 1 day before);
- ``moved``: the hearing the client was reminded of moved (the new date and place);
- ``cancelled``: the hearing the client was reminded of is no longer on the calendar;
- ``video``: what stands for the place of a video hearing.

The texts may use only ``{date}``, ``{time}``, ``{place}`` and ``{phone}``: nothing else about the
client or the case can reach a reminder (no A-number, no name, no case details), since it may be
read on a shared phone. Every file is checked when loaded: the four texts present, only those
fields, none of the words on :data:`FORBIDDEN` (deportation and removal, in every language the
registry holds).

Anyone can add a language: a file here, or in the folder of the ``reminder_texts_dir`` setting
(which may also replace a file here). A language is used only once a person has reviewed its
texts and switched it on (``docketwatch reminders languages --review CODE --by NAME``), which
records the texts' SHA-256: a later change to the file switches the language off until it is
reviewed again.
"""

from __future__ import annotations

import functools
import hashlib
import re
import string
import tomllib
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from storage.errors import ValidationError

HERE = Path(__file__).parent
TEXTS = ("reminder", "moved", "cancelled", "video")
FIELDS = frozenset({"date", "time", "place", "phone"})
#: words that never appear in a reminder, whatever its language (lower case; a word starting
#: with one of these is refused too)
FORBIDDEN = (
    "deport",
    "removal",
    "remov",
    "expuls",
    "deportación",
    "deportação",
    "remoção",
    "depòtasyon",
    "depote",
    "ekspilse",
    "депорт",
    "выдвор",
    "высыл",
    "ਡਿਪੋਰਟ",
    "ਦੇਸ਼ ਨਿਕਾਲਾ",
    "a-number",
    "a number",
    "alien",
)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    english_name: str
    locale: str
    texts: dict[str, str]
    days: tuple[str, ...]
    months: tuple[str, ...]
    date_pattern: str
    sha256: str
    path: Path

    def format_date(self, day: date) -> str:
        if self.days and self.months:
            return self.date_pattern.format(
                weekday=self.days[day.weekday()],
                day=day.day,
                month=self.months[day.month - 1],
                year=day.year,
            )
        from babel.dates import format_date

        return format_date(day, format="full", locale=self.locale)

    def format_time(self, clock: time | None) -> str:
        if clock is None:
            return "?"
        from babel.dates import format_time

        return format_time(clock, format="short", locale=self.locale)

    def render(self, rule: str, *, day: date, clock: time | None, place: str, phone: str) -> str:
        text = self.texts[
            "cancelled" if rule == "cancelled" else "moved" if rule == "moved" else "reminder"
        ]
        return text.format(
            date=self.format_date(day), time=self.format_time(clock), place=place, phone=phone
        )


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def forbidden_words(text: str) -> list[str]:
    lowered = text.lower()
    return [w for w in FORBIDDEN if re.search(rf"(?<!\w){re.escape(w)}", lowered)]


def load_file(path: Path) -> Language:
    """One language's file, checked; a ValidationError says what is wrong and where."""
    where = str(path)
    code = path.stem
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", code):
        raise ValidationError(f"{where}: the file name must be a language code (es.toml, pt.toml)")
    raw = path.read_bytes()
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(f"{where}: not a UTF-8 TOML file: {exc}") from None
    texts = data.get("texts")
    if not isinstance(texts, dict):
        raise ValidationError(f"{where}: a [texts] table is missing")
    for name in TEXTS:
        value = texts.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"{where}: the text {name!r} is missing or empty")
        try:
            used = _fields(value)
        except ValueError as exc:
            raise ValidationError(f"{where}: the text {name!r} is malformed: {exc}") from None
        if used - FIELDS:
            raise ValidationError(
                f"{where}: the text {name!r} uses {sorted(used - FIELDS)}; only {sorted(FIELDS)} "
                "may appear in a reminder"
            )
        if name != "video" and not {"date", "phone"} <= used:
            raise ValidationError(f"{where}: the text {name!r} must give {{date}} and {{phone}}")
        if bad := forbidden_words(value):
            raise ValidationError(f"{where}: the text {name!r} contains {bad}: not in a reminder")
    extra = set(texts) - set(TEXTS)
    if extra:
        raise ValidationError(f"{where}: unknown texts {sorted(extra)}")
    days = tuple(data.get("days", ()))
    months = tuple(data.get("months", ()))
    if (days or months) and (len(days) != 7 or len(months) != 12):
        raise ValidationError(f"{where}: 'days' needs 7 names and 'months' 12")
    locale = str(data.get("locale", code))
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise ValidationError(f"{where}: Babel has no locale {locale!r}") from None
    name = str(data.get("name", "")).strip()
    if not name:
        raise ValidationError(f"{where}: 'name' (the language's own name) is missing")
    return Language(
        code=code,
        name=name,
        english_name=str(data.get("english_name", name)),
        locale=locale,
        texts={k: str(texts[k]) for k in TEXTS},
        days=days,
        months=months,
        date_pattern=str(data.get("date_pattern", "{weekday} {day} {month} {year}")),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
    )


def registry(extra_dir: Path | None = None) -> dict[str, Language]:
    """Every language: the files here, then those of ``extra_dir`` (which win). Read again only
    when a file changed (the reminder pass asks every few minutes)."""
    folders = [HERE] + ([extra_dir] if extra_dir is not None else [])
    stamp = []
    for folder in folders:
        if not folder.is_dir():
            raise ValidationError(f"reminder_texts_dir {folder} is not a folder")
        for path in sorted(folder.glob("*.toml")):
            info = path.stat()
            stamp.append((str(path), info.st_mtime_ns, info.st_size))
    return dict(_read(tuple(stamp)))


@functools.lru_cache(maxsize=8)
def _read(stamp: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, Language], ...]:
    out: dict[str, Language] = {}
    for name, _mtime, _size in stamp:
        language = load_file(Path(name))
        out[language.code] = language
    return tuple(sorted(out.items()))
