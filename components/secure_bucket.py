"""The protections every drstack bucket gets, wherever it lives.

Versioning (replication requires it on both sides, and it undoes overwrites), SSE-S3
encryption, and a public-access block. SSE-S3 rather than SSE-KMS keeps replication free
of cross-region KMS grants (an SSE-KMS source needs kms:Decrypt/Encrypt in both regions).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def protect_bucket(
    name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions
) -> aws.s3.BucketVersioning:
    """Declare versioning, encryption and the public-access block of ``bucket``; return
    the versioning resource (replication configurations must depend on it)."""
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=opts,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    return versioning
