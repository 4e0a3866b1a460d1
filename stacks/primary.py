"""The primary stack (``seoul``): the full-scale region. It knows nothing about DR.

DR stacks attach to it through a StackReference and read the outputs exported here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.dynamo_global_table import DynamoGlobalTable, DynamoGlobalTableArgs
from components.secure_bucket import protect_bucket
from stacks.config import StackConfig
from stacks.database import primary_database
from stacks.shared import (  # re-exported: imported from here before stacks/shared.py
    SOVEREIGNTY_TAG,
    data_tags,
    region_cluster,
    region_provider,
    static_region_provider,
)

__all__ = [
    "SOVEREIGNTY_TAG",
    "build_primary",
    "data_tags",
    "region_cluster",
    "region_provider",
    "static_region_provider",
]


def _bucket(
    cfg: StackConfig, role: str, bucket_name: str, opts: pulumi.ResourceOptions
) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
    bucket = aws.s3.Bucket(
        f"bucket-{role}",
        bucket=bucket_name,
        tags={**data_tags(cfg, role, bucket_name), "BucketRole": role},
        opts=opts,
    )
    # Versioning belongs to the owner of the bucket: it protects against overwrites
    # whether or not a DR stack replicates it (and replication requires it).
    versioning = protect_bucket(f"bucket-{role}", bucket, opts)
    return bucket, versioning


def _repositories(cfg: StackConfig, opts: pulumi.ResourceOptions) -> dict[str, aws.ecr.Repository]:
    return {
        repo: aws.ecr.Repository(
            f"ecr-{repo}",
            name=repo,
            # A pushed tag never moves (CKV_AWS_51): Seoul and Tokyo run the same build,
            # and a failback redeploys exactly what ran before.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")
            ],
            tags=cfg.base_tags,
            opts=opts,
        )
        for repo in cfg.ecr_repositories
    }


def build_primary(cfg: StackConfig) -> dict[str, Any]:
    provider = region_provider(cfg.region, cfg.region, cfg)
    opts = pulumi.ResourceOptions(provider=provider)
    eks = region_cluster(cfg, "primary", provider, f"{cfg.name_prefix}-cluster")
    db = primary_database(cfg, provider, eks)
    assert db.app_user is not None  # the primary always creates the app's login
    # The app logs in as its own user (never the master user); the Job creates it first.
    eks.deploy_workloads(db.address, db.app_user.app_secret_arn, db.app_user)
    tables = {
        table: DynamoGlobalTable(
            f"table-{table}",
            DynamoGlobalTableArgs(
                provider=provider, table_name=table, hash_key=hash_key, tags=data_tags(cfg, table)
            ),
        )
        for table, hash_key in cfg.dynamodb_tables.items()
    }
    protected = {role: _bucket(cfg, role, name, opts) for role, name in cfg.buckets.items()}
    buckets = {role: bucket for role, (bucket, _) in protected.items()}
    repositories = _repositories(cfg, opts)

    return {
        "region": cfg.region,
        "eks_cluster_name": eks.cluster_name,
        "app_hostname": eks.app_hostname,
        "app_url": eks.app_url,
        "app_tls": eks.app_tls,
        # db_engine, the endpoint, the credential secret and its replicas (stacks/database.py).
        **db.outputs,
        "dynamodb_table_names": [t.table_name for t in tables.values()],
        "dynamodb_table_arns": {name: t.table_arn for name, t in tables.items()},
        "bucket_names": {role: b.bucket for role, b in buckets.items()},
        # Evidence for DR stacks that the source side of their replication is versioned,
        # so they need not read this region to check it.
        "versioned_bucket_names": [v.bucket for _, v in protected.values()],
        "ecr_repository_names": [r.name for r in repositories.values()],
        "secret_arns": [db.master_secret_arn, db.app_user.app_secret_arn],
        "sovereign_data": list(cfg.sovereign_data),
        "vpc_id": eks.vpc_id,
        "private_subnet_ids": eks.private_subnet_ids,
        # Only what is deployed (workloads wait for a pinned image, see image_tags).
        "deployments": eks.deployments,
        "image_tags": dict(cfg.image_tags),
        "kubeconfig": eks.kubeconfig,
    }
