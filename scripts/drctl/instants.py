"""The one parser of drctl's time flags (``--to-time``, ``--failure-time``).

A flag names an instant. ISO 8601 with any UTC offset (``+09:00``, ``-05:00``) or ``Z``
means that instant; a time without an offset means UTC (the documented meaning since
the flags exist). Every parsed value is returned in UTC, so nothing downstream (binlog
``--stop-datetime``, segment times, the RPO) can read a local wall-clock time as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT_HELP = "ISO 8601, e.g. 2026-11-22T09:17:00+09:00 or 2026-11-22T00:17:00Z; UTC if no offset"


class InstantError(ValueError):
    """A time flag's value is not an ISO 8601 time; the message is the one line to print."""


def parse_instant(flag: str, text: str) -> datetime:
    """``text`` as an aware UTC datetime, or InstantError naming ``flag``."""
    cleaned = text.strip()
    try:
        # Python 3.11's fromisoformat reads ISO 8601: offsets, Z, fractions, T or space.
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InstantError(f"{flag} {text!r} is not a time: expected {FORMAT_HELP}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_instant(flag: str, text: str | None) -> datetime | None:
    return None if text is None else parse_instant(flag, text)


def utc_text(when: datetime) -> str:
    """The instant as operators read it in logs: 2026-11-22T00:17:00Z."""
    moment = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"
