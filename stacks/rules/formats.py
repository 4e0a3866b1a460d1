"""Formats checked for real: OpenSSH public keys and container image references."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

# Azure Linux VMs accept SSH-2 RSA keys of at least 2048 bits and Ed25519 keys; not ECDSA,
# not certificates, not the multi-line SSH2 format.
# https://learn.microsoft.com/en-us/azure/virtual-machines/linux/create-ssh-keys-detailed#supported-ssh-key-formats
AZURE_SSH_KEY_TYPES = ("ssh-rsa", "ssh-ed25519")
MIN_RSA_BITS = 2048


def azure_ssh_public_key(text: str) -> str | None:
    parts = text.strip().split(maxsplit=2)
    if "\n" in text.strip() or len(parts) < 2:
        return "one line 'ssh-ed25519 AAAA... comment' or 'ssh-rsa AAAA... comment'"
    key_type, blob = parts[0], parts[1]
    if key_type not in AZURE_SSH_KEY_TYPES:
        return f"Azure VMs accept only {' and '.join(AZURE_SSH_KEY_TYPES)} keys, not {key_type}"
    try:
        base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return "the key body is not valid base64"
    try:
        # Checks the key type inside the blob against the prefix, and the key material.
        key = load_ssh_public_key(f"{key_type} {blob}".encode())
    except (ValueError, TypeError) as exc:
        return f"not a valid {key_type} public key ({exc})"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return (
            f"Azure needs an RSA key of at least {MIN_RSA_BITS} bits (this one has {key.key_size})"
        )
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return f"Azure VMs accept only {' and '.join(AZURE_SSH_KEY_TYPES)} keys"
    return None


# The reference grammar of the OCI distribution spec (distribution/reference/regexp.go).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
MAX_IMAGE_NAME = 255


def image_reference(text: str) -> str | None:
    match = _REFERENCE.match(text)
    if not match:
        return "an image reference such as registry.example.com/team/app:1.4.2 (lowercase repository, tag of letters, digits, _ . -, optional @sha256:<hex>)"
    if len(match.group("name")) > MAX_IMAGE_NAME:
        return f"an image repository name has at most {MAX_IMAGE_NAME} characters"
    return None
