"""The master user's connections for the planned fence's SQL proof, from stack outputs.

The credential is our own Secrets Manager secret, replicated to the DR region
(components/db_credentials.py). It is read from its replica in the DR region (tokyo
output ``replica_master_secret_arn``): a replica's ARN differs from the primary's only
in the region, and it holds the same value ("Replicate AWS Secrets Manager secrets
across Regions", https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html).
Only when the DR stack does not export it is the primary's own secret read in the
primary region, which planned mode may do (it is a planned event). The hosts are the
instances' endpoints (seoul ``rds_address``, tokyo ``replica_address``); the RDS read
replica has the same master user as its source.

Nothing is read until the fence's preflight asks: ``--dry-run`` reads no secret. The
password is never printed: errors name the secret and the key, not the value.
"""

from __future__ import annotations

import json
from typing import Any

from drctl.aws import ClientFactory
from drctl.failover.rds_fence import FenceDsns, FenceUnavailableError
from drctl.mysql_dsn import MySQLDsn
from drctl.stack_outputs import StackOutputs

MYSQL_PORT = 3306


def _secret_location(outputs: StackOutputs, dr: str, primary: str) -> tuple[str, str] | None:
    replica_arn = outputs.optional(dr, "replica_master_secret_arn")
    if replica_arn:
        return str(replica_arn), str(outputs.get(dr, "region"))
    primary_arn = outputs.optional(primary, "rds_master_secret_arn")
    primary_region = outputs.optional(primary, "region")
    if primary_arn and primary_region:
        return str(primary_arn), str(primary_region)
    return None


def _credential(factory: ClientFactory, arn: str, region: str) -> dict[str, Any]:
    value = factory.client("secretsmanager", region).get_secret_value(SecretId=arn)
    try:
        credential = json.loads(value["SecretString"])
    except (KeyError, TypeError, ValueError):
        credential = None
    if not isinstance(credential, dict) or not {"username", "password"} <= credential.keys():
        raise FenceUnavailableError(
            f"secret {arn.split(':')[-1]} is not a master credential (a JSON object with "
            "username and password, as components/db_credentials.py writes it)"
        )
    return credential


def fence_dsns(outputs: StackOutputs, factory: ClientFactory, dr: str, primary: str) -> FenceDsns:
    location = _secret_location(outputs, dr, primary)
    primary_host = outputs.optional(primary, "rds_address")
    replica_host = outputs.optional(dr, "replica_address")
    missing = [
        name
        for name, value in (
            (f"{dr}.replica_master_secret_arn (or {primary}.rds_master_secret_arn)", location),
            (f"{primary}.rds_address", primary_host),
            (f"{dr}.replica_address", replica_host),
        )
        if not value
    ]
    if missing or location is None:
        raise FenceUnavailableError(
            "planned mode proves the fence and the drain in SQL as the master user, and the "
            f"stack outputs lack {', '.join(missing)}: redeploy both stacks with this drstack "
            "version, or use --mode unplanned"
        )
    credential = _credential(factory, *location)

    def dsn(address: str) -> MySQLDsn:
        # RDS's address is a host name and the port is the secret's; an address that
        # names its own port (the sandbox's servers share one host) keeps it.
        host, _, port = address.partition(":")
        return MySQLDsn(
            host=host,
            port=int(port or credential.get("port") or MYSQL_PORT),
            user=str(credential["username"]),
            password=str(credential["password"]),
        )

    return FenceDsns(primary=dsn(str(primary_host)), replica=dsn(str(replica_host)))
