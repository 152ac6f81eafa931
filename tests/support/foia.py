"""The courts and release dates the FOIA tests share."""

from __future__ import annotations

from datetime import date

COURTS = ["ADL", "LOS", "SNC"]


AS_OF_1 = date(2026, 11, 1)
