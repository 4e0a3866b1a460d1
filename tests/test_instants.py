"""Time flags: ISO 8601 with any offset or Z means that instant; no offset means UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drctl.instants import InstantError, parse_instant, utc_text

INSTANT = datetime(2026, 11, 22, 0, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-22T09:17:00+09:00",
        "2026-11-22T00:17:00Z",
        "2026-11-21T19:17:00-05:00",
        "2026-11-22T00:17:00+00:00",
        "2026-11-22 00:17:00",  # no offset: UTC, the documented meaning
        "2026-11-22T00:17:00",
        "2026-11-22T09:47:00+09:30",  # India/Adelaide-style half-hour offsets too
    ],
)
def test_every_spelling_of_one_instant_is_that_instant_in_utc(written: str) -> None:
    parsed = parse_instant("--to-time", written)
    expected = INSTANT
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    # What replay hands the decoder as a UTC wall-clock time must be the UTC one.
    assert parsed.strftime("%Y-%m-%d %H:%M:%S") == expected.strftime("%Y-%m-%d %H:%M:%S")


def test_fractions_are_kept() -> None:
    assert parse_instant("--to-time", "2026-11-22T09:17:00.250+09:00") == INSTANT.replace(
        microsecond=250000
    )


@pytest.mark.parametrize("junk", ["yesterday", "2026-13-01T00:00:00Z", "", "09:17"])
def test_a_value_that_is_not_a_time_is_one_line_naming_the_flag(junk: str) -> None:
    with pytest.raises(InstantError) as err:
        parse_instant("--failure-time", junk)
    message = str(err.value)
    assert message.startswith(f"--failure-time {junk!r} is not a time") and "\n" not in message


def test_utc_text_names_the_instant_in_utc() -> None:
    assert utc_text(parse_instant("--to-time", "2026-11-22T09:17:00+09:00")) == (
        "2026-11-22T00:17:00Z"
    )
