"""docketwatch's one exception tree.

::

    DocketwatchError                 anything docketwatch raises on purpose
     +-- ConfigError                 settings that cannot be used (what and where)
     +-- ValidationError             one value of bad input, with the reason
     |    +-- ANumberError           not an A-number
     |    +-- NationalityError       not an EOIR nationality code or name
     |    +-- ChannelError           not a usable Apprise URL
     +-- ImportFileError             a roster file that cannot be read at all
     +-- ReleaseError                a FOIA release that cannot be loaded (what file, what is wrong)
     |    +-- ReleaseLayoutError     its tables are not laid out as EOIR lays them (layout_changed)
     +-- NotFoundError               a client, staff member or record that does not exist
     +-- DatabaseError               the database is unreachable or not migrated
     +-- SourceError                 a public source could not be read this time; ``outcome`` is
          |                          the CrawlRun outcome recorded (admins hear, attorneys never)
          +-- BlockedError           a captcha, block page, HTTP 401/403/429     -> blocked
          +-- LayoutChangedError     a required element or field is missing      -> layout_changed
          +-- FetchFailedError       a network error, HTTP 4xx/5xx, a short body -> failed
          +-- TimedOutError          the source did not answer in time           -> timed_out

Row-level problems in a roster import are not exceptions that stop the import: they are
collected as rejects (see :mod:`storage.roster`), so one bad row never blocks the good ones.
"""

from __future__ import annotations


class DocketwatchError(Exception):
    """Base of every error docketwatch raises on purpose."""


class ConfigError(DocketwatchError):
    """Settings that cannot be used."""


class ValidationError(DocketwatchError):
    """A single input value that was refused; the message says why."""


class ANumberError(ValidationError):
    """Text that is not an A-number."""


class NationalityError(ValidationError):
    """Text that is neither an EOIR nationality code nor a known nationality name."""


class ChannelError(ValidationError):
    """A staff channel that is not a usable Apprise URL."""


class ImportFileError(DocketwatchError):
    """A roster file that cannot be read at all (missing, wrong format, no header row)."""


class ReleaseError(DocketwatchError):
    """A FOIA release that cannot be loaded as a whole; nothing of it is stored."""


class ReleaseLayoutError(ReleaseError):
    """A FOIA release whose tables are not laid out as EOIR lays them out (the layout changed)."""


class NotFoundError(DocketwatchError):
    """A record that was asked for by key and does not exist."""


class DatabaseError(DocketwatchError):
    """The database cannot be reached or is not at the expected schema."""


class SourceError(DocketwatchError):
    """A public source could not be read this time. ``outcome`` is the CrawlRun outcome it is
    recorded as; it feeds source health (admins), never a client alert."""

    outcome = "failed"


class BlockedError(SourceError):
    """A captcha, a block page, or HTTP 401/403/429: never retried in a loop."""

    outcome = "blocked"


class LayoutChangedError(SourceError):
    """A page or answer lacks something docketwatch needs: the site changed."""

    outcome = "layout_changed"


class FetchFailedError(SourceError):
    """The network failed, the source answered an error status, or a download came up short."""

    outcome = "failed"


class TimedOutError(SourceError):
    """The source did not answer within the time allowed: slow, not changed."""

    outcome = "timed_out"
