"""Where the app's database login comes from.

In EKS the login is the JSON of a Secrets Manager secret (``{"username", "password"}``,
the shape RDS-style secrets use), read at runtime through EKS Pod Identity. It is the
app's own least-privileged user (``<identifier>/app-credential``, created by the
deploy-time Job ``app.db_user``), never the master user. The secret
ARN handed to each region is that region's own copy (Tokyo gets the replica's ARN), so
the read never needs the primary region. The local sandbox has no Secrets Manager and
passes ``DB_USER``/``DB_PASSWORD`` instead.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3


class CredentialError(RuntimeError):
    """The database login could not be read (missing secret, bad JSON, no access)."""


@dataclass(frozen=True)
class DbLogin:
    user: str
    password: str


def region_of_arn(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager" or not parts[3]:
        raise CredentialError(f"DB_SECRET_ARN {arn!r} is not a Secrets Manager secret ARN")
    return parts[3]


def parse_secret(secret_string: str, arn: str) -> DbLogin:
    try:
        doc: Any = json.loads(secret_string)
    except ValueError:
        raise CredentialError(f"secret {arn} is not JSON with username/password") from None
    if not isinstance(doc, dict) or not doc.get("username") or not doc.get("password"):
        raise CredentialError(f"secret {arn} has no username/password keys")
    return DbLogin(str(doc["username"]), str(doc["password"]))


class SecretLogin:
    """The login from a Secrets Manager secret, cached until the database refuses it."""

    def __init__(self, secret_arn: str) -> None:
        self.secret_arn = secret_arn
        self._region = region_of_arn(secret_arn)
        self._lock = threading.Lock()
        self._cached: DbLogin | None = None

    def get(self) -> DbLogin:
        with self._lock:
            if self._cached is None:
                self._cached = self._fetch()
            return self._cached

    def forget(self) -> None:
        """Drop the cache: after a rotation the next connection reads the new password."""
        with self._lock:
            self._cached = None

    def _fetch(self) -> DbLogin:
        # The secret's own region (from its ARN): a replica ARN keeps the read in the DR region.
        client = boto3.client("secretsmanager", region_name=self._region)
        try:
            value = client.get_secret_value(SecretId=self.secret_arn)
        except Exception as exc:  # botocore raises many unrelated classes; all mean "no login"
            raise CredentialError(f"cannot read secret {self.secret_arn}: {exc}") from exc
        return parse_secret(value.get("SecretString") or "", self.secret_arn)


class StaticLogin:
    def __init__(self, user: str, password: str) -> None:
        self._login = DbLogin(user, password)

    def get(self) -> DbLogin:
        return self._login

    def forget(self) -> None:
        """Nothing to refresh: the login came from the environment."""


def login_from_environment() -> SecretLogin | StaticLogin:
    arn = os.environ.get("DB_SECRET_ARN", "")
    if arn:
        return SecretLogin(arn)
    return StaticLogin(os.environ.get("DB_USER", "app"), os.environ.get("DB_PASSWORD", ""))
