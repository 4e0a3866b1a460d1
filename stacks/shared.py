"""Composition helpers every stack uses: region providers, the region's EKS cluster, tags.

They live here, not in ``stacks/primary.py``, so a DR composition shares them without
importing the primary (which knows nothing about DR).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.eks_region import EksRegion, EksRegionArgs
from stacks.config import StackConfig

SOVEREIGNTY_TAG = "DataSovereignty"


def data_tags(cfg: StackConfig, *names: str) -> dict[str, str]:
    """Seed 003: data under sovereignty stays in its region; the tag lets policy see it."""
    restricted = any(n in cfg.sovereign_data for n in names)
    return {**cfg.base_tags, SOVEREIGNTY_TAG: "restricted" if restricted else "global"}


def region_provider(name: str, region: str, cfg: StackConfig) -> aws.Provider:
    return aws.Provider(
        name, region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.base_tags)
    )


# A DR stack must deploy while the primary region is dark. A provider for that region
# must then make no call when it is configured or diffs: no STS GetCallerIdentity for
# credentials validation or the account id, no EC2 metadata probe, no region lookup.
# (None of the resource types a DR stack keeps there builds an ARN from the account id,
# the one thing skip_requesting_account_id leaves empty.)
def static_region_provider(name: str, region: str, cfg: StackConfig) -> aws.Provider:
    """A provider for the primary region that a DR stack can configure while it is dark."""
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.base_tags),
        skip_credentials_validation=True,
        skip_requesting_account_id=True,
        skip_metadata_api_check=True,
        skip_region_validation=True,
    )


def region_cluster(
    cfg: StackConfig, role: str, provider: aws.Provider, cluster_name: str
) -> EksRegion:
    """The region's EKS cluster and workloads, pulling images from this region's ECR
    (the DR stack replicates the repositories, so Tokyo pulls locally during a failover)."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider))
    registry = pulumi.Output.concat(identity.account_id, ".dkr.ecr.", cfg.region, ".amazonaws.com")
    return EksRegion(
        role,
        EksRegionArgs(
            provider=provider,
            region=cfg.region,
            cluster_name=cluster_name,
            vpc_cidr=cfg.vpc_cidr,
            eks=cfg.eks,
            app=cfg.app,
            services=cfg.services,
            image_registry=registry,
            image_tags=cfg.image_tags,
            region_label=cfg.stack,
            role=role,
            db_name=cfg.rds.db_name,
            tags=cfg.base_tags,
        ),
    )
