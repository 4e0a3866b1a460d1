"""DynamoDB implementation of ``Lock``: one item per lock name, conditional writes.

The table lives in the DR region (seed 004): when the primary region is down, the lock
must still be reachable by whoever fails over. The TTL is short (60 s by default) and a
running holder renews it with a heartbeat (``heartbeat.py``), so a killed run blocks
others for about a minute, not an hour; the same owner may re-acquire (resume). A live
operator can displace a holder they know is dead with ``take_over``, which is
conditional on naming that exact holder. Every write is a conditional write, so two
writers can never both believe they hold the lock.
Table schema: hash key ``lock_id`` (S); ``expires_at`` (N, epoch seconds) doubles as the
DynamoDB TTL attribute so stale items are eventually deleted (DynamoDB deletes expired
items lazily, so expiry is decided by the condition on ``expires_at``, never by the
item's absence). Expiry compares the writer's clock: keep operator clocks NTP-synced.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from drctl.failover.protocols import LockHolder


class DynamoDbLock:
    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        lock_name: str = "drstack-failover",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._lock_name = lock_name
        self._clock = clock

    @property
    def table_name(self) -> str:
        return self._table

    def _item(
        self, owner: str, ttl_seconds: int, purpose: str, holder: str, **extra: str
    ) -> dict[str, Any]:
        now = self._clock()
        item = {
            "lock_id": {"S": self._lock_name},
            "owner": {"S": owner},
            "purpose": {"S": purpose or "failover"},
            "holder": {"S": holder or "?"},
            "acquired_at": {"N": str(int(now))},
            "expires_at": {"N": str(int(now + ttl_seconds))},
        }
        item.update({key: {"S": value} for key, value in extra.items()})
        return item

    def _conditional(self, call: Callable[..., Any], **kwargs: Any) -> bool:
        try:
            call(TableName=self._table, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def acquire(self, owner: str, ttl_seconds: int, purpose: str = "", holder: str = "") -> bool:
        return self._conditional(
            self._dynamodb.put_item,
            Item=self._item(owner, ttl_seconds, purpose, holder),
            ConditionExpression=(
                "attribute_not_exists(lock_id) OR expires_at < :now OR #owner = :owner"
            ),
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={
                ":now": {"N": str(int(self._clock()))},
                ":owner": {"S": owner},
            },
        )

    def renew(self, owner: str, ttl_seconds: int) -> bool:
        # Read + conditional PutItem rather than UpdateItem: the automated-failover
        # Lambda's role grants exactly GetItem/PutItem/DeleteItem on the lock table.
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"lock_id": {"S": self._lock_name}}, ConsistentRead=True
        ).get("Item")
        if not item or item["owner"]["S"] != owner:
            return False
        item["expires_at"] = {"N": str(int(self._clock() + ttl_seconds))}
        return self._conditional(
            self._dynamodb.put_item,
            Item=item,
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )

    def take_over(
        self, owner: str, previous_owner: str, ttl_seconds: int, purpose: str = "", holder: str = ""
    ) -> bool:
        # Conditional on the named holder: if it finished, or a third operator got there
        # first, nothing is overwritten and the caller is told.
        return self._conditional(
            self._dynamodb.put_item,
            Item=self._item(owner, ttl_seconds, purpose, holder, taken_over_from=previous_owner),
            ConditionExpression="#owner = :previous",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":previous": {"S": previous_owner}},
        )

    def release(self, owner: str) -> None:
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"lock_id": {"S": self._lock_name}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def holder(self) -> LockHolder | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"lock_id": {"S": self._lock_name}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        expires = float(item["expires_at"]["N"])
        if expires < self._clock():
            return None
        return LockHolder(
            owner=item["owner"]["S"],
            expires_at=expires,
            purpose=item["purpose"]["S"],
            holder=item.get("holder", {}).get("S", ""),
            acquired_at=float(item["acquired_at"]["N"]) if "acquired_at" in item else None,
        )
