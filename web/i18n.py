"""English and Spanish pages: Jinja2 with gettext, the Spanish catalog read by Babel.

``web/locale/es/LC_MESSAGES/messages.po`` is the catalog (the English text is the key). It is
compiled in memory when the app starts, so there is no build step and no compiled file to keep in
step; ``tests/test_web_i18n.py`` fails when a page's text has no Spanish.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from pathlib import Path

import jinja2

LANGUAGES = ("en", "es")
LOCALE = Path(__file__).parent / "locale"

MONTHS_ES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]


def catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        cat = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, cat)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _day(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return ""
    from babel.dates import format_date

    return format_date(value, format="EEE d MMM y", locale=lang)


def _instant(value: datetime | None, lang: str) -> str:
    if value is None:
        return ""
    from babel.dates import format_datetime

    return format_datetime(value, format="d MMM y HH:mm 'UTC'", tzinfo=None, locale=lang)


def environments(templates: Path) -> dict[str, jinja2.Environment]:
    envs = {}
    for lang in LANGUAGES:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
        )
        translations = catalog(lang)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        # A value shown through the catalog (a report's titles and columns): gettext alone, as
        # ``_()`` would %-format it and a column may end in "%".
        env.filters["tr"] = lambda v, _t=translations: _t.gettext(v) if v else ""
        env.filters["day"] = lambda v, _l=lang: _day(v, _l)
        env.filters["instant"] = lambda v, _l=lang: _instant(v, _l)
        envs[lang] = env
    return envs


def texts(templates: Path) -> set[str]:
    """Every translatable text of the templates (for the test that each one has Spanish)."""
    from babel.messages.extract import extract_from_dir

    found: set[str] = set()
    method_map = [("**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(templates), method_map=method_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found
