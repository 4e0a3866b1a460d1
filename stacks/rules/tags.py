"""Tag limits of AWS and Azure."""

from __future__ import annotations

import unicodedata

# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions
AWS_MAX_TAGS = 50
_AWS_TAG_SYMBOLS = set("_.:/=+-@ ")


def _aws_tag_chars(text: str) -> bool:
    """Letters, numbers and spaces representable in UTF-8, and _ . : / = + - @."""
    return all(c in _AWS_TAG_SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def aws_tag_key(key: str) -> str | None:
    if not 1 <= len(key) <= 128:
        return f"an AWS tag key has 1 to 128 characters (this one has {len(key)})"
    if key.lower().startswith("aws:"):
        return "AWS reserves tag keys that start with aws:"
    if not _aws_tag_chars(key):
        return "an AWS tag key uses letters, digits, spaces and _ . : / = + - @"
    return None


def aws_tag_value(value: str) -> str | None:
    if len(value) > 256:
        return f"an AWS tag value has at most 256 characters (this one has {len(value)})"
    if not _aws_tag_chars(value):
        return "an AWS tag value uses letters, digits, spaces and _ . : / = + - @"
    return None


# https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources#limitations
AZURE_MAX_TAGS = 50
_AZURE_TAG_NAME_FORBIDDEN = set("<>%&\\?/")


def azure_tag_name(name: str) -> str | None:
    if not 1 <= len(name) <= 512:
        return f"an Azure tag name has 1 to 512 characters (this one has {len(name)})"
    # Storage accounts (the backup and maintenance accounts) take at most 128.
    if len(name) > 128:
        return f"an Azure storage account tag name has at most 128 characters (this one has {len(name)})"
    if _AZURE_TAG_NAME_FORBIDDEN & set(name):
        return "an Azure tag name cannot contain < > % & \\ ? /"
    return None


def azure_tag_value(value: str) -> str | None:
    if len(value) > 256:
        return f"an Azure tag value has at most 256 characters (this one has {len(value)})"
    return None
