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
     +-- NotFoundError               a client, staff member or record that does not exist
     +-- DatabaseError               the database is unreachable or not migrated

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


class NotFoundError(DocketwatchError):
    """A record that was asked for by key and does not exist."""


class DatabaseError(DocketwatchError):
    """The database cannot be reached or is not at the expected schema."""
