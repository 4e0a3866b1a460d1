"""Deploy-time constraints on names, tags and keys, checked on what the program declares.

``stacks/validation.py`` refuses bad config values before the program runs; these
policies apply the same rules (``stacks/rules``) to the resource inputs themselves, so a
name a component derives differently, or a resource built outside the config, is still
caught at preview rather than by the cloud at `up`.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policy.common import (
    AWS_TAGGABLE,
    AZURE_TAGGABLE,
    BUCKET_TYPES,
    _get,
    _items,
    _resource_policy,
    _tags_of,
)
from stacks.rules import formats, names, reserved, tags

T_RDS_INSTANCE = "aws:rds/instance:Instance"
T_LAMBDA = "aws:lambda/function:Function"
T_AZURE_VM = "azure-native:compute:VirtualMachine"

S3_NAMING_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
RDS_NAMING_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints"
)
LAMBDA_NAMING_DOC = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"
AWS_TAG_DOC = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions"
AZURE_TAG_DOC = "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources#limitations"
AZURE_VM_DOC = (
    "https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/create-or-update#osprofile"
)
AZURE_SSH_DOC = "https://learn.microsoft.com/en-us/azure/virtual-machines/linux/create-ssh-keys-detailed#supported-ssh-key-formats"


def _named(args: ResourceValidationArgs, prop: str) -> str | None:
    value = args.props.get(prop)
    return value if isinstance(value, str) and value else None  # autonamed: nothing to check


def _s3_bucket_name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    bucket = _named(args, "bucket")
    problem = names.s3_bucket(bucket) if bucket else None
    if problem:
        report(f"bucket {bucket!r} ({args.name}): {problem}", None)


def _rds_identifier(args: ResourceValidationArgs, report: ReportViolation) -> None:
    identifier = _named(args, "identifier")
    problem = names.rds_identifier(identifier) if identifier else None
    if problem:
        report(f"RDS instance {identifier!r} ({args.name}): {problem}", None)
    user = _named(args, "username")
    words = reserved.MYSQL_RESERVED_WORDS | reserved.RDS_MYSQL_RESERVED_USERS
    problem = names.mysql_name(user, 16, words, "master user") if user else None
    if problem:
        report(f"RDS instance {args.name}: {problem}", None)


def _lambda_name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    name = _named(args, "name")
    problem = names.lambda_function(name) if name else None
    if problem:
        report(f"function {args.name}: {problem}", None)


def _tag_problems(found: dict[str, str], on_azure: bool) -> list[str]:
    limit = tags.AZURE_MAX_TAGS if on_azure else tags.AWS_MAX_TAGS
    problems = [f"{len(found)} tags (at most {limit})"] if len(found) > limit else []
    key_rules = (tags.azure_tag_name,) if on_azure else (tags.aws_tag_key,)
    value_rules = (tags.azure_tag_value,) if on_azure else (tags.aws_tag_value,)
    for key, value in found.items():
        problems += [f"tag {key!r}: {p}" for rule in key_rules if (p := rule(key))]
        problems += [f"tag {key!r}: {p}" for rule in value_rules if (p := rule(value))]
    return problems


def _tag_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    t = args.resource_type
    if t not in AWS_TAGGABLE and t not in AZURE_TAGGABLE:
        return
    on_azure = t.startswith("azure-native:")
    found = _tags_of(args.props, None if on_azure else args.provider)
    for problem in _tag_problems(found, on_azure):
        report(f"{t.rsplit(':', 1)[-1]} {args.name}: {problem}", None)


def _azure_vm_login(args: ResourceValidationArgs, report: ReportViolation) -> None:
    admin = _get(args.props, "osProfile", "adminUsername")
    refused = reserved.AZURE_VM_RESERVED_ADMIN_NAMES | reserved.LINUX_SYSTEM_USERS
    if isinstance(admin, str) and admin in refused:
        report(f"VM {args.name}: admin name {admin!r} is reserved", None)
    keys: list[Any] = _items(
        _get(args.props, "osProfile", "linuxConfiguration", "ssh", "publicKeys")
    )
    for entry in keys:
        data = _get(entry, "keyData")
        problem = formats.azure_ssh_public_key(data) if isinstance(data, str) else None
        if problem:
            report(f"VM {args.name}: SSH key refused: {problem}", None)


POLICIES = [
    _resource_policy(
        "s3-bucket-name-rules",
        f"S3 bucket names follow the S3 naming rules, or CreateBucket fails at up ({S3_NAMING_DOC})",
        BUCKET_TYPES,
        _s3_bucket_name,
        "Choose a bucket name of 3-63 lowercase letters, digits, dots and hyphens without the "
        "reserved prefixes and suffixes; a DR copy adds '-dr'.",
    ),
    _resource_policy(
        "rds-identifier-rules",
        f"RDS identifiers and MySQL master users follow the RDS naming constraints ({RDS_NAMING_DOC})",
        (T_RDS_INSTANCE,),
        _rds_identifier,
        "Shorten drstack:name_prefix or drstack:rds.identifier (<= 63, letter first, no '--', "
        "no trailing '-'); choose a master user that is not a MySQL reserved word.",
    ),
    _resource_policy(
        "lambda-function-name-rules",
        f"Lambda function names have 1-64 letters, digits, hyphens or underscores ({LAMBDA_NAMING_DOC})",
        (T_LAMBDA,),
        _lambda_name,
        "The failover function is named <stack>-auto-failover: use a stack name without dots, "
        "of at most 50 characters.",
    ),
    _resource_policy(
        "tag-limits",
        f"Tags stay within the AWS ({AWS_TAG_DOC}) and Azure ({AZURE_TAG_DOC}) limits",
        None,
        _tag_limits,
        "Shorten or drop entries of drstack:tags: AWS keys <= 128 (no 'aws:'), values <= 256; "
        "Azure names without < > % & \\ ? /; at most 50 tags per resource.",
    ),
    _resource_policy(
        "azure-vm-login-rules",
        f"Azure VM admin names are not reserved ({AZURE_VM_DOC}) and SSH keys are ssh-rsa >= 2048 "
        f"bits or ssh-ed25519 ({AZURE_SSH_DOC})",
        (T_AZURE_VM,),
        _azure_vm_login,
        "Set drstack:azure.admin_username to a non-reserved name and drstack:azure.ssh_public_key "
        "to an ssh-ed25519 or ssh-rsa (>= 2048 bits) public key.",
    ),
]
