"""RdsReplica: the MySQL primary, or its cross-region read replica.

Primary: KMS-encrypted MySQL 8 with backups and deletion protection, and an RDS-managed
master password (Secrets Manager), so no password exists in config or state.

Replica: created in the DR region from the source instance's ARN (a cross-region
replica cannot name its source by identifier), encrypted with a KMS key that lives in
the replica's region (a KMS key never leaves its region, so the source key cannot be
used). It carries no credentials: it inherits the source's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from stacks.config import RdsConfig

MYSQL_PORT = 3306


@dataclass
class RdsReplicaArgs:
    provider: aws.Provider
    mode: Literal["primary", "replica"]
    rds: RdsConfig
    identifier: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    # Who may connect: the VPC's own CIDR (the EKS pods live there).
    client_cidr: str
    # Replica only: the source instance ARN (from the primary stack).
    source_arn: pulumi.Input[str] | None = None
    # Replica only: set after a failover, so IaC matches the promoted instance.
    promoted: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class RdsReplica(pulumi.ComponentResource):
    instance_id: pulumi.Output[str]
    instance_arn: pulumi.Output[str]
    address: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RdsReplicaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:rds_replica:RdsReplica", name, None, opts)
        if args.mode == "replica" and args.source_arn is None:
            raise ValueError("a replica needs source_arn (the primary instance ARN)")
        aws_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        rds = args.rds

        key = aws.kms.Key(
            f"{name}-kms",
            description=f"RDS storage encryption for {args.identifier}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=args.tags,
            opts=aws_opts,
        )
        aws.kms.Alias(
            f"{name}-kms-alias",
            name=f"alias/{args.identifier}",
            target_key_id=key.key_id,
            opts=aws_opts,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=f"{args.identifier}-subnets",
            subnet_ids=list(args.subnet_ids),
            tags=args.tags,
            opts=aws_opts,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=f"{args.identifier}-mysql",
            description=f"MySQL from inside the VPC to {args.identifier}",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=MYSQL_PORT,
                    to_port=MYSQL_PORT,
                    cidr_blocks=[args.client_cidr],
                )
            ],
            tags=args.tags,
            opts=aws_opts,
        )
        common: dict[str, Any] = {
            "identifier": args.identifier,
            "instance_class": rds.instance_class,
            "storage_type": "gp3",
            "storage_encrypted": True,
            "kms_key_id": key.arn,
            "db_subnet_group_name": subnet_group.name,
            "vpc_security_group_ids": [security_group.id],
            "publicly_accessible": False,
            "multi_az": rds.multi_az,
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": True,
            "tags": args.tags,
        }

        if args.mode == "primary":
            instance = aws.rds.Instance(
                f"{name}-instance",
                engine="mysql",
                engine_version=rds.engine_version,
                allocated_storage=rds.allocated_storage,
                db_name=rds.db_name,
                username=rds.master_username,
                # RDS generates and rotates the password in Secrets Manager: it never
                # appears in config, code or Pulumi state.
                manage_master_user_password=True,
                master_user_secret_kms_key_id=key.arn,
                # A source needs automated backups (binlogs) to feed a read replica.
                backup_retention_period=rds.backup_retention_days,
                deletion_protection=True,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{args.identifier}-final",
                opts=aws_opts,
                **common,
            )
            secret_arn = instance.master_user_secrets.apply(
                lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
            )
        else:
            instance = aws.rds.Instance(
                f"{name}-instance",
                # Dropping the source is what promotes a replica; keeping it after a
                # manual promotion would make the next `pulumi up` try to re-attach.
                replicate_source_db=None if args.promoted else args.source_arn,
                # Backups on the replica before promotion: AWS otherwise takes a backup
                # during promotion, which lengthens the RTO.
                backup_retention_period=rds.backup_retention_days,
                # A promoted replica is the primary now and gets the primary's protection.
                deletion_protection=args.promoted,
                skip_final_snapshot=not args.promoted,
                final_snapshot_identifier=f"{args.identifier}-final" if args.promoted else None,
                # After promotion the Seoul-held master secret may be unreachable: let RDS
                # manage a fresh one in this region.
                manage_master_user_password=True if args.promoted else None,
                master_user_secret_kms_key_id=key.arn if args.promoted else None,
                opts=aws_opts,
                **common,
            )
            secret_arn = (
                instance.master_user_secrets.apply(
                    lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
                )
                if args.promoted
                else pulumi.Output.from_input("")
            )

        self.instance_id = instance.identifier
        self.instance_arn = instance.arn
        self.address = instance.address
        self.kms_key_arn = key.arn
        self.master_secret_arn = secret_arn
        self.register_outputs(
            {
                "instance_id": self.instance_id,
                "instance_arn": self.instance_arn,
                "address": self.address,
                "kms_key_arn": self.kms_key_arn,
            }
        )
