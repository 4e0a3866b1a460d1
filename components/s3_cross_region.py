"""S3CrossRegion: DR buckets in the DR region and replication from the primary's buckets.

The primary stack owns its buckets and their versioning; this component (in the DR
stack) owns the DR buckets and the replication configuration on the source buckets,
through a provider for the source region. S3 rejects a replication configuration
unless versioning is enabled on *both* buckets: the DR bucket's versioning is a
dependency here, and the source bucket's is guaranteed by the deploy order (the primary
stack declares it and exports ``versioned_bucket_names``). The source is deliberately
NOT read (no ``BucketVersioning.get``): a read calls the primary region on every
``pulumi up``, and the DR stack must deploy while that region is dark.

``reverse_replication`` adds the way back (DR bucket -> primary bucket), for the writes
made in the DR region after a failover. It is turned on once the primary region is back
(S3 checks the destination bucket when the rule is written), at the latest as part of
failback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy
from components.secure_bucket import protect_bucket

RTC_MINUTES = 15


@dataclass(kw_only=True)
class S3CrossRegionArgs:
    source_provider: aws.Provider
    dr_provider: aws.Provider
    # Role (front/team/log) -> name of the primary's bucket.
    source_buckets: Mapping[str, str]
    # S3 Replication Time Control: 99.99% of objects within 15 minutes (extra cost).
    replication_time_control: bool = True
    # DR bucket -> source bucket rules (after a failover, once the primary is back).
    reverse_replication: bool = False
    dr_suffix: str = "-dr"
    tags: dict[str, str] = field(default_factory=dict)


def replication_policy(source_arns: list[str], dest_arns: list[str]) -> str:
    """Least privilege: read versions from the named sources, write replicas to the
    named DR buckets, nothing else (no wildcard actions, no "*" resources)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadReplicationConfig",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": source_arns,
                },
                {
                    "Sid": "ReadSourceVersions",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": [f"{arn}/*" for arn in source_arns],
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": [f"{arn}/*" for arn in dest_arns],
                },
            ],
        }
    )


class S3CrossRegion(pulumi.ComponentResource):
    dr_bucket_names: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: S3CrossRegionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:s3_cross_region:S3CrossRegion", name, None, opts)
        dr_opts = pulumi.ResourceOptions(parent=self, provider=args.dr_provider)
        src_opts = pulumi.ResourceOptions(parent=self, provider=args.source_provider)

        dest: dict[str, aws.s3.Bucket] = {}
        dest_versioning: dict[str, aws.s3.BucketVersioning] = {}
        for role, source in args.source_buckets.items():
            bucket = aws.s3.Bucket(
                f"{name}-{role}-dr",
                bucket=f"{source}{args.dr_suffix}",
                tags={**args.tags, "BucketRole": role, "ReplicaOf": source},
                opts=dr_opts,
            )
            dest[role] = bucket
            dest_versioning[role] = protect_bucket(f"{name}-{role}-dr", bucket, dr_opts)

        source_arns = [f"arn:aws:s3:::{b}" for b in args.source_buckets.values()]
        replication_role = aws.iam.Role(
            f"{name}-replication-role",
            assume_role_policy=assume_role_policy("s3.amazonaws.com"),
            tags=args.tags,
            opts=src_opts,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=replication_role.id,
            policy=pulumi.Output.all(*[b.arn for b in dest.values()]).apply(
                lambda dest_arns: replication_policy(source_arns, list(dest_arns))
            ),
            opts=src_opts,
        )

        for role_name, source in args.source_buckets.items():
            _replication(
                f"{name}-{role_name}-replication",
                bucket=source,
                rule_id=f"{role_name}-to-dr",
                destination_arn=dest[role_name].arn,
                role_arn=replication_role.arn,
                rtc=args.replication_time_control,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=args.source_provider,
                    depends_on=[dest_versioning[role_name], policy],
                ),
            )

        if args.reverse_replication:
            self._reverse(name, args, dest, dest_versioning, source_arns, dr_opts)

        self.dr_bucket_names = {role: b.bucket for role, b in dest.items()}
        self.register_outputs({"dr_bucket_names": self.dr_bucket_names})

    def _reverse(
        self,
        name: str,
        args: S3CrossRegionArgs,
        dest: Mapping[str, aws.s3.Bucket],
        dest_versioning: Mapping[str, aws.s3.BucketVersioning],
        source_arns: list[str],
        dr_opts: pulumi.ResourceOptions,
    ) -> None:
        """DR bucket -> primary bucket. Objects written by replication are not replicated
        again, so the two directions do not loop."""
        role = aws.iam.Role(
            f"{name}-reverse-replication-role",
            assume_role_policy=assume_role_policy("s3.amazonaws.com"),
            tags=args.tags,
            opts=dr_opts,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-reverse-replication-policy",
            role=role.id,
            policy=pulumi.Output.all(*[b.arn for b in dest.values()]).apply(
                lambda dr_arns: replication_policy(list(dr_arns), source_arns)
            ),
            opts=dr_opts,
        )
        for role_name, source in args.source_buckets.items():
            _replication(
                f"{name}-{role_name}-reverse-replication",
                bucket=dest[role_name].bucket,
                rule_id=f"{role_name}-back-to-primary",
                destination_arn=f"arn:aws:s3:::{source}",
                role_arn=role.arn,
                rtc=args.replication_time_control,
                opts=pulumi.ResourceOptions.merge(
                    dr_opts,
                    pulumi.ResourceOptions(depends_on=[dest_versioning[role_name], policy]),
                ),
            )


def _replication(
    name: str,
    *,
    bucket: pulumi.Input[str],
    rule_id: str,
    destination_arn: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    rtc: bool,
    opts: pulumi.ResourceOptions,
) -> aws.s3.BucketReplicationConfig:
    destination_extra: dict[str, object] = {}
    if rtc:
        # RTC requires replication metrics with the same 15-minute threshold.
        destination_extra = {
            "replication_time": aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                status="Enabled",
                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                    minutes=RTC_MINUTES
                ),
            ),
            "metrics": aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                status="Enabled",
                event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                    minutes=RTC_MINUTES
                ),
            ),
        }
    return aws.s3.BucketReplicationConfig(
        name,
        bucket=bucket,
        role=role_arn,
        rules=[
            aws.s3.BucketReplicationConfigRuleArgs(
                id=rule_id,
                status="Enabled",
                # An empty filter selects the V2 schema, which delete-marker replication
                # requires.
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Enabled"
                ),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=destination_arn,
                    storage_class="STANDARD",
                    **destination_extra,  # type: ignore[arg-type]
                ),
            )
        ],
        opts=opts,
    )
