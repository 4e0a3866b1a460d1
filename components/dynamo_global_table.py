"""DynamoGlobalTable: a DynamoDB table (primary stack) or its replica (DR stack).

Global tables (version 2019.11.21) replicate from the table's stream, so the table
needs streams with NEW_AND_OLD_IMAGES. The replica is a separate
``aws.dynamodb.TableReplica`` owned by the DR stack; the primary stack ignores the
table's ``replicas`` field so the two stacks never fight over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(kw_only=True)
class DynamoGlobalTableArgs:
    provider: aws.Provider
    table_name: str
    hash_key: str = "id"
    # DR stack: the ARN of the primary's table; a TableReplica is created for it.
    replica_of_arn: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


class DynamoGlobalTable(pulumi.ComponentResource):
    table_arn: pulumi.Output[str]
    table_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DynamoGlobalTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:dynamo_global_table:DynamoGlobalTable", name, None, opts)
        if args.replica_of_arn is not None:
            replica = aws.dynamodb.TableReplica(
                f"{name}-replica",
                global_table_arn=args.replica_of_arn,
                point_in_time_recovery=True,
                deletion_protection_enabled=True,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            self.table_arn = replica.arn
            self.table_name = pulumi.Output.from_input(args.table_name)
        else:
            table = aws.dynamodb.Table(
                f"{name}-table",
                name=args.table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key=args.hash_key,
                attributes=[aws.dynamodb.TableAttributeArgs(name=args.hash_key, type="S")],
                stream_enabled=True,
                stream_view_type="NEW_AND_OLD_IMAGES",
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                deletion_protection_enabled=True,
                tags=args.tags,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, ignore_changes=["replicas"]
                ),
            )
            self.table_arn = table.arn
            self.table_name = table.name
        self.register_outputs({"table_arn": self.table_arn, "table_name": self.table_name})
