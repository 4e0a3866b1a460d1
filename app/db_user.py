"""Create or update the app's own database user: the deploy-time Job's command line.

``python -m app.db_user`` runs in the app image as a Kubernetes Job on the primary's
cluster (``components/app_db_user.py``). It reads two secrets through EKS Pod Identity,
the master credential (to log in) and the app's credential (the login to set), and runs,
as the master user:

    CREATE USER IF NOT EXISTS '<app>'@'%' IDENTIFIED BY '<password>'
    ALTER USER '<app>'@'%' IDENTIFIED BY '<password>'
    REVOKE ALL PRIVILEGES, GRANT OPTION FROM '<app>'@'%'
    GRANT <privileges> ON `<database>`.* TO '<app>'@'%'

Idempotent: a rerun sets the same password and exactly the same grants. The REVOKE makes
the grants exact (a privilege added by hand does not survive a deploy); between it and
the GRANT the app is refused for a moment, so the Job runs only when the password, the
grants or the database change. Account-management statements are written to the binary
log as statements and replicate (MySQL 8.0 manual, "The Binary Log" / mysql system
schema rules), so the cross-region read replica and an Aurora secondary get the user
without anything running there.

Privilege names are checked against a short list (the Job passes them on its command
line), the password and user name travel as bound parameters, never in argv or the pod
spec. Exit codes: 0 done, 2 bad arguments or environment, 3 a secret could not be read,
4 the database refused (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pymysql

from app.db_credentials import CredentialError, DbLogin, SecretLogin

EXIT_OK, EXIT_USAGE, EXIT_SECRET, EXIT_DATABASE = 0, 2, 3, 4
# Database-level privileges the app may be given: never a global or admin privilege.
ALLOWED_PRIVILEGES = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "INDEX",
        "ALTER",
        "REFERENCES",
        "CREATE TEMPORARY TABLES",
        "LOCK TABLES",
        "CREATE VIEW",
        "SHOW VIEW",
        "EXECUTE",
        "TRIGGER",
    }
)
_DATABASE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# The account's host part: any host in the VPC (the app's pod IPs are not fixed).
ACCOUNT_HOST = "%"


class UsageError(ValueError):
    """A bad argument or environment value."""


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[str, ...] = ()


def checked_privileges(privileges: Sequence[str]) -> tuple[str, ...]:
    names = tuple(" ".join(p.upper().split()) for p in privileges if p.strip())
    refused = [p for p in names if p not in ALLOWED_PRIVILEGES]
    if refused or not names:
        raise UsageError(
            f"privileges {', '.join(refused) or '(none)'} refused: only database-level "
            f"privileges from {sorted(ALLOWED_PRIVILEGES)}"
        )
    return names


def user_statements(login: DbLogin, database: str, privileges: Sequence[str]) -> list[Statement]:
    """What makes ``login`` exist with exactly ``privileges`` on ``database`` and nothing else."""
    if not _DATABASE.match(database):
        raise UsageError(f"database name {database!r} is not a plain MySQL identifier")
    names = checked_privileges(privileges)
    account = "%s@'" + ACCOUNT_HOST.replace("%", "%%") + "'"
    return [
        Statement(
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY %s",
            (login.user, login.password),
        ),
        Statement(f"ALTER USER {account} IDENTIFIED BY %s", (login.user, login.password)),
        Statement(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}", (login.user,)),
        Statement(f"GRANT {', '.join(names)} ON `{database}`.* TO {account}", (login.user,)),
    ]


def apply(connection: pymysql.connections.Connection, statements: Sequence[Statement]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.sql, statement.params or None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.db_user",
        description="Create or update the app's database user as the master user.",
    )
    parser.add_argument("--database", required=True, help="the app's database")
    parser.add_argument(
        "--privileges", required=True, help="comma-separated database-level privileges"
    )
    return parser


def _environment(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise UsageError(f"{name} is not set")
    return value


def run(database: str, privileges: Sequence[str]) -> int:
    # Arguments first: a refused privilege never gets as far as reading a secret.
    names = checked_privileges(privileges)
    user_statements(DbLogin("check", "check"), database, names)
    host = _environment("DB_HOST")
    master = SecretLogin(_environment("MASTER_SECRET_ARN")).get()
    app_login = SecretLogin(_environment("APP_SECRET_ARN")).get()
    statements = user_statements(app_login, database, names)
    connection = pymysql.connect(
        host=host,
        port=int(os.environ.get("DB_PORT", "3306")),
        user=master.user,
        password=master.password,
        connect_timeout=10,
        autocommit=True,
    )
    with connection:
        apply(connection, statements)
    print(f"database user {app_login.user} has {', '.join(names)} on {database}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args.database, args.privileges.split(","))
    except UsageError as exc:
        print(f"app-db-user: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CredentialError as exc:
        print(f"app-db-user: {exc}", file=sys.stderr)
        return EXIT_SECRET
    except pymysql.MySQLError as exc:
        print(f"app-db-user: the database refused: {exc}", file=sys.stderr)
        return EXIT_DATABASE


if __name__ == "__main__":
    sys.exit(main())
