"""Shared, cached syntheses of azure-pilot (each runs seoul first, then the DR program)."""

from __future__ import annotations

from functools import cache

import pytest

from drctl.synth import Synthesis, synthesize

# What an operator sets once, ahead of any disaster: the secret goes through the same
# `{secure: ...}` path as a `pulumi config set --secret` value in the stack file.
PASSWORD = "s3cret-Passw0rd-for-tests"
TEST_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJUQshz6+gq7XDm+pDZ9ObFDyoxE3/hZ0NS2euSyIQUQ"
PREPARED = (
    f"mysql_admin_password={{secure: {PASSWORD}}}",
    # A real Ed25519 public key (its private half was never kept): the config parses it.
    f"azure.ssh_public_key={TEST_SSH_KEY} operator@drstack",
)


def toggles(*, force: bool, emergency: bool, petclinic: bool) -> tuple[str, ...]:
    """The three phase toggles, spelled one way so cached syntheses are shared."""
    flags = {"force_failover": force, "emergency": emergency, "enable_petclinic": petclinic}
    return (*PREPARED, *(f"{key}={str(value).lower()}" for key, value in flags.items()))


# Seed 001 phases 1+2 (maintenance page behind the App Gateway), then phase 4 (PetClinic).
EMERGENCY = toggles(force=True, emergency=True, petclinic=False)
PETCLINIC = toggles(force=True, emergency=True, petclinic=True)


@cache
def synth(*overrides: str) -> Synthesis:
    return synthesize("azure-pilot", overrides)


@pytest.fixture(scope="module")
def standby() -> Synthesis:
    return synth()


@pytest.fixture(scope="module")
def emergency() -> Synthesis:
    return synth(*EMERGENCY)


@pytest.fixture(scope="module")
def petclinic() -> Synthesis:
    return synth(*PETCLINIC)


# The pushed backup image (docker/backup/Dockerfile), as an operator pins it.
BACKUP_IMAGE_REF = (
    "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup:2026.11.29-3f2a1c"
)
BACKUP_IMAGE = (f"backup.image={BACKUP_IMAGE_REF}",)


@cache
def synth_backup(*overrides: str) -> Synthesis:
    """The backup stack once its image is pinned (without one it declares no job)."""
    return synthesize("azure-pilot-backup", (*BACKUP_IMAGE, *overrides))


@pytest.fixture(scope="module")
def backup() -> Synthesis:
    return synth_backup()
