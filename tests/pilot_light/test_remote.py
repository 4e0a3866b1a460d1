"""Bounded MySQL connects: a few retries for an endpoint that does not answer, none for a
wrong password; and failures described in one line that names the endpoint."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight import remote
from drctl.pilotlight.remote import Deadline, DeadlineExceeded, failure_reason

DSN = MySQLDsn(host="10.20.1.4", port=3306, user="app", password="pw")


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setattr(remote.time, "sleep", lambda _s: None)
    return []


def _failing(attempts: list[int], code: int) -> Any:
    def connect(self: MySQLDsn, **_kwargs: Any) -> Any:
        attempts.append(code)
        raise pymysql.err.OperationalError(code, "simulated")

    return connect


@pytest.mark.parametrize("code", [2003, 2013])
def test_unanswered_connect_is_retried_a_bounded_number_of_times(
    code: int, attempts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MySQLDsn, "connect", _failing(attempts, code))
    with pytest.raises(pymysql.err.OperationalError):
        remote.connect(DSN, "source")
    assert len(attempts) == remote.CONNECT_ATTEMPTS


def test_wrong_credentials_are_not_retried(
    attempts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MySQLDsn, "connect", _failing(attempts, 1045))
    with pytest.raises(pymysql.err.OperationalError):
        remote.connect(DSN, "source")
    assert attempts == [1045]


def test_no_retry_when_the_deadline_is_near(
    attempts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MySQLDsn, "connect", _failing(attempts, 2003))
    deadline = Deadline(1.0)
    token = remote._current.set(deadline)
    try:
        with pytest.raises(pymysql.err.OperationalError):
            remote.connect(DSN, "target")
    finally:
        remote._current.reset(token)
    assert len(attempts) == 1
    assert deadline.mysql_endpoint == "MySQL target 10.20.1.4:3306"


def test_failure_reasons_name_the_endpoint() -> None:
    deadline = Deadline(30)
    deadline.on_mysql(DSN, "source")
    refused = pymysql.err.OperationalError(1045, "Access denied for user 'app'")
    assert failure_reason(refused, deadline) == (
        "MySQL source 10.20.1.4:3306 refused the credentials (1045)"
    )
    assert failure_reason(DeadlineExceeded(), deadline) == (
        "MySQL source 10.20.1.4:3306 did not answer within the 30 s deadline (--timeout)"
    )
    assert failure_reason(ValueError("a bug"), deadline) is None  # not a remote failure
