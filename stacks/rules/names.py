"""Name rules of the clouds: a name in, ``None`` (accepted) or what is expected out."""

from __future__ import annotations

import ipaddress
import re

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_S3_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def s3_bucket(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"an S3 bucket name has 3 to 63 characters (this one has {len(name)})"
    if not _S3_CHARS.match(name):
        return "an S3 bucket name uses lowercase letters, digits, dots and hyphens, and starts and ends with a letter or digit"
    if ".." in name:
        return "an S3 bucket name cannot contain two adjacent periods"
    if _is_ipv4(name):
        return "an S3 bucket name cannot be formatted as an IP address"
    for prefix in _S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"S3 reserves the bucket name prefix {prefix!r}"
    for suffix in _S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"S3 reserves the bucket name suffix {suffix!r}"
    return None


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints
_RDS_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def rds_identifier(name: str, limit: int = 63) -> str | None:
    if not 1 <= len(name) <= limit:
        return (
            f"an RDS DB instance identifier has 1 to {limit} characters (this one has {len(name)})"
        )
    if not _RDS_IDENTIFIER.match(name):
        return "an RDS identifier starts with a letter and has only letters, digits and hyphens"
    if "--" in name or name.endswith("-"):
        return "an RDS identifier has no two consecutive hyphens and does not end with a hyphen"
    return None


_MYSQL_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def mysql_name(name: str, limit: int, reserved: frozenset[str], what: str) -> str | None:
    """RDS for MySQL master user (limit 16) and database name (limit 64)."""
    if not 1 <= len(name) <= limit or not _MYSQL_WORD.match(name):
        return f"{what}: 1 to {limit} letters, digits or underscores, starting with a letter"
    if name.lower() in reserved:
        return f"{what}: {name!r} is reserved by MySQL or RDS"
    return None


# RFC 1035 as Route 53 applies it: 63 per label, 253 per name (without the final dot).
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def dns_name(name: str) -> str | None:
    if len(name) > 253:
        return f"a DNS name has at most 253 characters (this one has {len(name)})"
    for label in name.split("."):
        if len(label) > 63:
            return f"a DNS label has at most 63 characters ({label[:20]}... has {len(label)})"
        if not _DNS_LABEL.match(label):
            return f"DNS label {label!r} must be lowercase letters, digits and inner hyphens"
    return None


# Azure public IP domainNameLabel: starts with a letter, 3-63, ends alphanumeric.
# https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftnetwork
_AZURE_DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
# MySQL Flexible Server name: 3-63 lowercase letters, digits, hyphens; no hyphen at the ends.
# https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftdbformysql
_AZURE_MYSQL_SERVER = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
# Resource group: 1-90 of letters, digits, underscores, hyphens, periods, parentheses.
_AZURE_RESOURCE_GROUP = re.compile(r"^[-\w.()]{1,89}[-\w()]$")


def azure_dns_label(name: str) -> str | None:
    if _AZURE_DNS_LABEL.match(name):
        return None
    return f"an Azure public IP DNS label ({name}) has 3 to 63 lowercase letters, digits and hyphens and starts with a letter"


def azure_mysql_server(name: str) -> str | None:
    if _AZURE_MYSQL_SERVER.match(name):
        return None
    return f"an Azure MySQL server name ({name}) has 3 to 63 lowercase letters, digits and inner hyphens"


def azure_resource_group(name: str) -> str | None:
    if _AZURE_RESOURCE_GROUP.match(name):
        return None
    return f"an Azure resource group name ({name}) has 1 to 90 characters and does not end with a period"


# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
_ECR_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def ecr_repository(name: str) -> str | None:
    if 2 <= len(name) <= 256 and _ECR_REPOSITORY.match(name):
        return None
    return (
        "an ECR repository name has 2 to 256 lowercase letters and digits, separated by . _ - or /"
    )


# Kubernetes object names used as label values (app=<name>): RFC 1123 label, 63 at most.
_K8S_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def k8s_label_name(name: str) -> str | None:
    if _K8S_LABEL.match(name):
        return None
    return "a Kubernetes name (RFC 1123 label): 1 to 63 lowercase letters, digits and inner hyphens"


# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName
_LAMBDA_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def lambda_function(name: str) -> str | None:
    if _LAMBDA_FUNCTION.match(name):
        return None
    return f"a Lambda function name ({name}) has 1 to 64 letters, digits, hyphens or underscores"
