"""AuroraGlobal: one side of an Aurora MySQL global database (``rds.engine: aurora-mysql``).

Primary side (``seoul``): a KMS key, the global cluster, the primary cluster and its
writer instance. Secondary side (``tokyo``, the DR stack): its own KMS key (a key never
leaves its region), a secondary cluster attached to the global cluster by identifier
(read from the primary through the StackReference, never looked up in the primary
region) and one instance. ``instance_count`` 2 adds a reader (Aurora's in-region failover
target). Both: backups, deletion protection, encryption, no public access, final
snapshots.

Credentials: the primary generates the master password and keeps it in drstack's own
replicated secret, exactly as the RDS path does (components/db_credentials.py); the
secondary takes the ARN of that secret's replica in its own region.
``manage_master_user_password`` is never used (RDS-managed secrets live in one region only, and the DR side must read the
credential while the primary region is dark).

Gotchas:
* no cluster of the global database is managed through ``replication_source_identifier``:
  Aurora fills it in on a secondary, and on the primary-side cluster too once a
  switchover or failover has made it a secondary even for a while; removing it promotes
  and detaches the cluster (terraform-provider-aws #40921), so both sides ignore it;
* after a failover (``promoted``), IaC neither detaches nor re-attaches the cluster:
  ``FailoverGlobalCluster`` keeps it in the global database as its new primary, while
  detach-and-promote removes it; ``global_cluster_identifier`` is left as the failover
  left it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aurora_rules import (
    AURORA_GLOBAL_CHECKED,
    AURORA_GLOBAL_CLASS_FAMILIES,
    ENGINE,
    aurora_class_refusal,
    aurora_global_refusal,
    aurora_version_refusal,
)
from components.db_credentials import (
    CredentialSpec,
    master_password,
    storage_key,
    store_master_credential,
)
from components.mysql_network import mysql_network

# terraform-provider-aws #40921: https://github.com/hashicorp/terraform-provider-aws/issues/40921
REPLICATION_SOURCE = "replicationSourceIdentifier"

__all__ = [
    "AURORA_GLOBAL_CHECKED",
    "AURORA_GLOBAL_CLASS_FAMILIES",
    "ENGINE",
    "AuroraGlobal",
    "AuroraGlobalArgs",
    "aurora_class_refusal",
    "aurora_global_refusal",
    "aurora_version_refusal",
]


@dataclass
class AuroraGlobalArgs:
    provider: aws.Provider
    role: Literal["primary", "secondary"]
    identifier: str  # this side's cluster identifier
    global_identifier: pulumi.Input[str]  # the global cluster (secondary: from the primary)
    engine_version: str
    instance_class: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_cidr: str
    backup_retention_days: int = 7
    # 2 = a writer and a reader in another AZ: Aurora fails over inside the region.
    instance_count: int = 1
    # Primary only.
    db_name: str = "portforge"
    master_username: str = "admin"
    password_version: int = 1
    # Region -> provider of each region that gets a replica of the credential secret.
    secret_replica_providers: Mapping[str, aws.Provider] = field(default_factory=dict)
    # Secondary only: the ARN of the credential secret's replica in this region.
    master_secret_arn: pulumi.Input[str] | None = None
    # Secondary only: set after a failover, so IaC matches the promoted cluster.
    promoted: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class AuroraGlobal(pulumi.ComponentResource):
    cluster_id: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    # The cluster (writer) endpoint. On a secondary it is inactive until a failover or
    # switchover promotes the cluster, and then it is the writer; the reader endpoint only
    # ever serves reads. So the standby's app points at this one and needs no redeploy.
    endpoint: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    global_cluster_id: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    # Region -> ARN of the credential secret's replica (primary only).
    master_secret_replica_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: AuroraGlobalArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:aurora_global:AuroraGlobal", name, None, opts)
        refusal = aurora_global_refusal(args.instance_class, args.engine_version)
        if refusal:
            raise ValueError(f"{args.identifier}: {refusal}")
        if args.instance_count not in (1, 2):
            raise ValueError(f"{args.identifier}: instance_count is 1 or 2")
        if args.role == "secondary" and args.master_secret_arn is None:
            raise ValueError(f"{args.identifier}: a secondary needs master_secret_arn")
        aws_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        key = storage_key(
            name,
            identifier=args.identifier,
            what="Aurora storage and credential encryption",
            tags=args.tags,
            opts=aws_opts,
        )
        subnets, security_group = mysql_network(
            name,
            identifier=args.identifier,
            subnet_ids=args.subnet_ids,
            vpc_id=args.vpc_id,
            client_cidr=args.client_cidr,
            tags=args.tags,
            opts=aws_opts,
        )
        common = {
            "cluster_identifier": args.identifier,
            "engine": ENGINE,
            "engine_version": args.engine_version,
            "storage_encrypted": True,
            "kms_key_id": key.arn,
            "db_subnet_group_name": subnets.name,
            "vpc_security_group_ids": [security_group.id],
            "backup_retention_period": args.backup_retention_days,
            "deletion_protection": True,
            "copy_tags_to_snapshot": True,
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"{args.identifier}-final",
            "tags": args.tags,
        }
        self.master_secret_replica_arns = {}
        if args.role == "primary":
            cluster = self._primary(name, args, aws_opts, common, key)
        else:
            cluster = self._secondary(name, args, aws_opts, common)
            self.master_secret_arn = pulumi.Output.from_input(args.master_secret_arn).apply(str)
        for number in range(1, args.instance_count + 1):
            self._instance(name, args, cluster, subnets, aws_opts, number)
        self.cluster_id = cluster.id
        self.cluster_arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.kms_key_arn = key.arn
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "cluster_arn": self.cluster_arn,
                "global_cluster_id": self.global_cluster_id,
                "endpoint": self.endpoint,
                "master_secret_arn": self.master_secret_arn,
            }
        )

    @staticmethod
    def _instance(
        name: str,
        args: AuroraGlobalArgs,
        cluster: aws.rds.Cluster,
        subnets: aws.rds.SubnetGroup,
        opts: pulumi.ResourceOptions,
        number: int,
    ) -> aws.rds.ClusterInstance:
        # The first keeps its historical name; a second is a reader Aurora fails over to
        # inside the region (in another AZ of the subnet group).
        suffix = "" if number == 1 else f"-{number}"
        return aws.rds.ClusterInstance(
            f"{name}-instance{suffix}",
            identifier=f"{args.identifier}-{number}",
            cluster_identifier=cluster.id,
            engine=aws.rds.EngineType.AURORA_MYSQL,
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            db_subnet_group_name=subnets.name,
            publicly_accessible=False,
            auto_minor_version_upgrade=False,  # both sides must run the same version
            tags=args.tags,
            opts=opts,
        )

    def _primary(
        self,
        name: str,
        args: AuroraGlobalArgs,
        opts: pulumi.ResourceOptions,
        common: dict,
        key: aws.kms.Key,
    ) -> aws.rds.Cluster:
        global_cluster = aws.rds.GlobalCluster(
            f"{name}-global",
            global_cluster_identifier=args.global_identifier,
            engine=ENGINE,
            engine_version=args.engine_version,
            database_name=args.db_name,
            storage_encrypted=True,
            deletion_protection=True,
            opts=opts,
        )
        self.global_cluster_id = global_cluster.id
        # A new password_version generates a new password, applied with ModifyDBCluster;
        # the secondary cluster shares the primary's master user through the storage.
        spec = CredentialSpec(
            identifier=args.identifier,
            username=args.master_username,
            db_name=args.db_name,
            password_version=args.password_version,
            replica_providers=args.secret_replica_providers,
            tags=args.tags,
        )
        password = master_password(name, spec, self)
        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            global_cluster_identifier=global_cluster.id,
            database_name=args.db_name,
            master_username=args.master_username,
            master_password=password,
            # After any switchover or failover (and back) AWS sets this on the
            # primary-side cluster too; a later `up --refresh` that removes it would
            # promote and detach Seoul from the global database (#40921).
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(ignore_changes=[REPLICATION_SOURCE])
            ),
            **common,
        )
        credential = store_master_credential(name, spec, password, key, opts)
        self.master_secret_arn = credential.secret.arn
        self.master_secret_replica_arns = credential.replica_arns
        return cluster

    def _secondary(
        self, name: str, args: AuroraGlobalArgs, opts: pulumi.ResourceOptions, common: dict
    ) -> aws.rds.Cluster:
        self.global_cluster_id = pulumi.Output.from_input(args.global_identifier).apply(str)
        ignored = [REPLICATION_SOURCE]
        if args.promoted:
            ignored.append("globalClusterIdentifier")
        return aws.rds.Cluster(
            f"{name}-cluster",
            # No credentials: a secondary cluster gets the primary's master user.
            global_cluster_identifier=args.global_identifier,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=ignored)),
            **common,
        )
