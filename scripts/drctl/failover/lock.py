"""DynamoDB implementation of ``Lock``: one item per lock name, conditional writes.

The table lives in the DR region (seed 004): when the primary region is down, the lock
must still be reachable by whoever fails over. Expired locks can be taken over, so a
crashed run never blocks failover forever; the same owner may re-acquire (resume).
Table schema: hash key ``lock_id`` (S); ``expires_at`` (N, epoch seconds) doubles as the
DynamoDB TTL attribute so stale items are eventually deleted.
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

    def acquire(self, owner: str, ttl_seconds: int, purpose: str = "") -> bool:
        now = self._clock()
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "lock_id": {"S": self._lock_name},
                    "owner": {"S": owner},
                    "purpose": {"S": purpose or "failover"},
                    "acquired_at": {"N": str(int(now))},
                    "expires_at": {"N": str(int(now + ttl_seconds))},
                },
                ConditionExpression=(
                    "attribute_not_exists(lock_id) OR expires_at < :now OR #owner = :owner"
                ),
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":owner": {"S": owner},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

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
            owner=item["owner"]["S"], expires_at=expires, purpose=item["purpose"]["S"]
        )
